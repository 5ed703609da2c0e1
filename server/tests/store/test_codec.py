"""The journal codec: whatever the engine accepts comes back identical; nothing else gets through."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hftsim.config import load
from hftsim.engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    Engine,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from hftsim.store import codec
from hftsim.store.errors import CodecError

SETTINGS = load()
SYMS = [i.sym for i in SETTINGS.instruments()]

WIDE = st.integers(-(2**70), 2**70)
"""Integers far past 64 bits both ways: the gateway bounds them, the codec must not rely on it."""
PRICES = st.one_of(st.none(), WIDE, st.integers(9_990, 10_010), st.integers(840, 860))
"""Near ACME's and BOLT's reference prices in ticks, so that orders rest and trade."""
IDS = st.one_of(st.none(), WIDE, st.integers(1, 50))
TEXT = st.one_of(st.none(), st.text(max_size=70))
SYM = st.one_of(st.sampled_from(SYMS), st.text(max_size=8))

COMMANDS: st.SearchStrategy[Command] = st.one_of(
    st.builds(
        PlaceOrder, st.integers(1, 4), SYM, st.sampled_from(Side), st.one_of(WIDE, st.integers(1, 60)),
        PRICES, st.sampled_from(OrderType), st.sampled_from(Tif),
        st.booleans(), TEXT,
    ),
    st.builds(CancelOrder, st.integers(1, 4), IDS, TEXT),
    st.builds(CancelAll, st.one_of(st.integers(1, 4), WIDE), st.one_of(st.none(), SYM)),
    st.builds(AmendOrder, st.integers(1, 4), IDS, TEXT, st.one_of(st.none(), WIDE), st.one_of(st.none(), WIDE)),
    st.builds(SetSymbolStatus, SYM, st.sampled_from(SymbolStatus)),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(COMMANDS, min_size=1, max_size=60))
def test_every_command_the_journal_takes_replays_to_the_same_state(commands: list[Command]) -> None:
    """The sequencer's path: encode first (refused commands never reach the engine), apply, then recover."""
    live, recovered = new_engine(), new_engine()
    journal: list[tuple[int, bytes]] = []
    for ts, command in enumerate(commands):
        try:
            data = codec.encode(command)
        except CodecError:
            assert any(type(v) is int and not -(2**63) <= v < 2**63 for v in vars_of(command))
            continue
        live.apply(command, ts)
        journal.append((ts, data))
    for ts, data in journal:
        recovered.apply(codec.decode(data), ts)
    assert recovered.seq == live.seq
    assert recovered.state_hash() == live.state_hash()


def new_engine() -> Engine:
    instruments = SETTINGS.instruments()
    return Engine(instruments, SETTINGS.engine_limits(), initial_cash=10_000_000)


def vars_of(command: Command) -> list[object]:
    return [getattr(command, name) for name in codec.FIELDS[type(command)]]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[1,2]",
        b'{"user_id":1}',
        b'{"k":"launch"}',
        b'{"k":"cancel_all","user_id":1}',
        b'{"k":"cancel_all","user_id":1,"sym":null,"extra":1}',
        b'{"k":"status","sym":"ACME","status":"melted"}',
        b'{"k":"place","user_id":1,"sym":"ACME","side":"up","qty":1,"price":1,"type":"limit","tif":"GTC",'
        b'"post_only":false,"client_order_id":null}',
    ],
)
def test_bytes_that_are_not_exactly_a_command_raise_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError):
        codec.decode(data)


def test_an_integer_beyond_64_bits_is_refused_with_its_field() -> None:
    with pytest.raises(CodecError, match="price 18446744073709551616 does not fit in 64 bits"):
        codec.encode(PlaceOrder(1, "ACME", Side.BUY, 1, 2**64))
    assert orjson.loads(codec.encode(PlaceOrder(1, "ACME", Side.BUY, 1, 2**63 - 1)))["price"] == 2**63 - 1
