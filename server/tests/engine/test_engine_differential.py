"""The core (compiled and pure) against the reference engine on generated command streams.

Hypothesis draws the same mix of commands as the property tests (valid and
invalid orders, cancels and amends aimed at live orders, halts, cancel-alls),
plus accounts opened with their own cash, call auctions (crossing limit
orders collected, then uncrossed) and cash moved out and in (debits up to
and past the free cash, credits repeated and out of order); each stream runs through the core and
through `ReferenceEngine`, which must emit identical events and end in an
identical `state()`. A short memory for finished orders and client order ids
makes the forgetting paths run too.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hftsim.engine import (
    Command,
    CreditCash,
    DebitCash,
    Engine,
    OpenAccount,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
)
from hftsim.engine.reference import ReferenceEngine

from .conftest import BUILDS
from .test_engine_properties import INITIAL_CASH, INSTRUMENTS, LIMITS, QTYS, REFS, SYMS, USERS, Target, commands

SMALL_MEMORY = {"recent_orders": 4, "coid_memory": 3}


@st.composite
def auction_round(draw: st.DrawFn) -> list[Command | Target]:
    """A call auction: the symbol goes into auction, crossing limit orders (and whatever else) collect, it resumes."""
    sym = draw(st.sampled_from(SYMS))
    lot = 10 if sym == "BOLT" else 1
    orders: list[Command | Target] = [
        PlaceOrder(draw(st.sampled_from(USERS)), sym, side, draw(QTYS[sym]), REFS[sym] + lot * draw(st.integers(-3, 3)))
        for side in draw(st.lists(st.sampled_from([Side.BUY, Side.SELL]), min_size=2, max_size=8))
    ]
    orders += draw(st.lists(commands(), max_size=3))
    return [SetSymbolStatus(sym, SymbolStatus.AUCTION), *orders, SetSymbolStatus(sym, SymbolStatus.TRADING)]


def streams() -> st.SearchStrategy[list[Command | Target]]:
    openings = st.builds(OpenAccount, st.sampled_from([*USERS, 9]), st.sampled_from([0, 10**4, 10**8, -1]))
    anyone = st.sampled_from([*USERS, 9])
    amounts = st.sampled_from([0, 1, 10**6, INITIAL_CASH // 2, INITIAL_CASH, 2 * INITIAL_CASH, -5])
    debits = st.builds(DebitCash, anyone, amounts, st.sampled_from(["b", "b", ""]))
    credits = st.builds(CreditCash, anyone, amounts, st.sampled_from(["a", "b", ""]), st.integers(-1, 6))
    single = st.one_of(commands(), openings, debits, credits).map(lambda command: [command])
    chunks = st.lists(st.one_of(single, single, single, auction_round()), min_size=5, max_size=60)
    return chunks.map(lambda parts: [command for part in parts for command in part])


@pytest.mark.parametrize("engine_class", list(BUILDS.values()), ids=list(BUILDS))
@pytest.mark.parametrize("memory", [{}, SMALL_MEMORY], ids=["default memory", "short memory"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=streams())
def test_core_and_reference_agree(
    engine_class: type[Engine], memory: dict[str, int], steps: list[Command | Target]
) -> None:
    core = engine_class(INSTRUMENTS, LIMITS, INITIAL_CASH, **memory)
    reference = ReferenceEngine(INSTRUMENTS, LIMITS, INITIAL_CASH, **memory)
    for i, drawn in enumerate(steps):
        open_orders = [o for u in USERS for o in core.open_orders(u)]
        command = drawn.resolve(open_orders, core) if isinstance(drawn, Target) else drawn
        ts = 1000 + i
        assert core.apply(command, ts) == reference.apply(command, ts), command
    assert core.state() == reference.state()
    assert core.state_hash() == reference.state_hash()
