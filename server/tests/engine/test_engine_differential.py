"""The core (compiled and pure) against the reference engine on generated command streams.

Hypothesis draws the same mix of commands as the property tests (valid and
invalid orders, cancels and amends aimed at live orders, halts, cancel-alls),
plus accounts opened with their own cash, call auctions (crossing limit
orders collected, then uncrossed) and cash moved out and in (debits up to
and past the free cash, credits repeated and out of order); each stream runs through the core and
through `ReferenceEngine`, which must emit identical events and end in an
identical `state()`. A short memory for finished orders and client order ids
makes the forgetting paths run too. A symbol whose band is wider than a book
side's ladder runs the same way, its orders at prices inside the ladder, at
its ends and outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hftsim.engine import (
    AmendOrder,
    CancelOrder,
    Command,
    CreditCash,
    DebitCash,
    Engine,
    Instrument,
    Limits,
    OpenAccount,
    OrderType,
    OrderView,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from hftsim.engine.core.book import LADDER_SLOTS, Book
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
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
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


WIDE = Instrument("WIDE", Decimal("0.01"), 1, 1, 1_000_000, Decimal(10))
"""A band of 900,000 to 1,100,000 ticks: far wider than a side's ladder, which spans the reference price
+- LADDER_SLOTS / 2 (991,808 to 1,008,191)."""
HALF = LADDER_SLOTS // 2
WIDE_PRICES = (
    900_000, 900_001, 1_000_000 - HALF - 1, 1_000_000 - HALF, 999_999, 1_000_000, 1_000_001,
    1_000_000 + HALF - 1, 1_000_000 + HALF, 1_099_999, 1_100_000,
)  # fmt: skip
"""The band's ends, the ladder's ends and the prices just outside them, and the reference price's ticks."""
WIDE_LIMITS = Limits(max_order_qty=60, max_position=100)
WIDE_CASH = 10**12


def test_a_wide_band_spans_the_ladder_around_its_reference_price() -> None:
    side = Book(WIDE, 0, 1, 2).bids
    assert (side.low, side.size) == (1_000_000 - HALF, LADDER_SLOTS)
    assert (WIDE.band_low, WIDE.band_high) == (900_000, 1_100_000)


@dataclass(frozen=True)
class Move:
    """An amend of whichever order is open when it runs, to another of the wide band's prices."""

    pick: int
    price: int

    def resolve(self, open_orders: list[OrderView]) -> Command:
        if not open_orders:
            return CancelOrder(USERS[0], order_id=self.pick)
        order = open_orders[self.pick % len(open_orders)]
        return AmendOrder(order.user_id, order.order_id, price=self.price)


@st.composite
def wide_commands(draw: st.DrawFn) -> Command | Move:
    """Orders at the wide band's prices (limits of every tif, markets), cancels, amends and call auctions."""
    kind = draw(st.integers(0, 19))
    user = draw(st.sampled_from(USERS))
    if kind < 12:
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        qty = draw(st.integers(1, 6))
        if kind == 0:
            return PlaceOrder(user, "WIDE", side, qty, None, OrderType.MARKET, Tif.IOC)
        tif = draw(st.sampled_from([Tif.GTC, Tif.GTC, Tif.GTC, Tif.IOC, Tif.FOK]))
        return PlaceOrder(user, "WIDE", side, qty, draw(st.sampled_from(WIDE_PRICES)), OrderType.LIMIT, tif)
    if kind < 15:
        return CancelOrder(user, draw(st.integers(1, 40)))
    if kind < 18:
        return Move(draw(st.integers(0, 40)), draw(st.sampled_from(WIDE_PRICES)))
    status = draw(st.sampled_from([SymbolStatus.AUCTION, SymbolStatus.TRADING]))
    return SetSymbolStatus("WIDE", status)


@pytest.mark.parametrize("engine_class", list(BUILDS.values()), ids=list(BUILDS))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(wide_commands(), min_size=5, max_size=60))
def test_core_and_reference_agree_beyond_the_ladder(engine_class: type[Engine], steps: list[Command | Move]) -> None:
    core = engine_class([WIDE], WIDE_LIMITS, WIDE_CASH)
    reference = ReferenceEngine([WIDE], WIDE_LIMITS, WIDE_CASH)
    for i, drawn in enumerate(steps):
        command = drawn.resolve([o for u in USERS for o in core.open_orders(u)]) if isinstance(drawn, Move) else drawn
        ts = 1000 + i
        assert core.apply(command, ts) == reference.apply(command, ts), command
    assert core.state() == reference.state()
