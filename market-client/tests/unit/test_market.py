"""The Sequence rule of docs/protocol.md, driven by hand-made MD events."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from market_client._envelope import Event
from market_client._market import MarketState


def ev(op: str, **payload: Any) -> Event:
    return Event(op=op, payload=payload, ts=0, raw={"op": op, "payload": payload})


def snap(sym: str, seq: int, bids: list[list[Any]] | None = None, asks: list[list[Any]] | None = None) -> Event:
    return ev("md.snapshot", sym=sym, seq=seq, status="trading", bids=bids or [], asks=asks or [])


def delta(sym: str, seq: int, bids: list[list[Any]] | None = None, asks: list[list[Any]] | None = None) -> Event:
    return ev("md.delta", sym=sym, seq=seq, bids=bids or [], asks=asks or [])


def subscribed(*syms: str) -> MarketState:
    market = MarketState()
    for sym in syms:
        assert market.on_event(snap(sym, 10)) == []
    return market


def test_deltas_in_sequence_are_applied_and_old_ones_ignored() -> None:
    market = subscribed("A")
    assert market.on_event(delta("A", 11, bids=[["10", 5]])) == []
    assert market.on_event(delta("A", 11, bids=[["10", 9]])) == []  # duplicate
    assert market.on_event(delta("A", 5, bids=[["10", 9]])) == []  # older than the snapshot
    book = market.book("A")
    assert book is not None and book.seq == 11 and book.bids() == [["10", 5]]


def test_a_gap_asks_for_one_snapshot_of_that_symbol_only() -> None:
    market = subscribed("A", "B")
    assert market.on_event(delta("A", 12, bids=[["10", 5]])) == ["A"]
    assert market.on_event(delta("A", 13, bids=[["11", 1]])) == []  # held, not asked again
    assert market.on_event(delta("B", 11, asks=[["20", 1]])) == []  # B goes on
    book_b = market.book("B")
    assert book_b is not None and book_b.asks() == [["20", 1]]
    assert not market.is_synced("A") and market.is_synced("B")
    assert market.symbols() == ["A", "B"]
    assert market.resyncs == {"A": 1}


def test_snapshot_after_a_gap_replays_the_held_events_past_its_seq() -> None:
    market = subscribed("A")
    market.on_event(delta("A", 12, bids=[["10", 5]]))
    market.on_event(delta("A", 14, bids=[["12", 1]]))
    market.on_event(delta("A", 13, bids=[["11", 1]]))
    assert market.on_snapshot(snap("A", 12, bids=[["10", 5], ["9", 1]]).payload) == []
    book = market.book("A")
    assert book is not None and book.seq == 14
    assert book.bids() == [["12", 1], ["11", 1], ["10", 5], ["9", 1]]
    assert market.is_synced("A")


def test_a_gap_among_the_held_events_asks_again() -> None:
    market = subscribed("A")
    market.on_event(delta("A", 12))
    market.on_event(delta("A", 15))
    assert market.on_snapshot(snap("A", 12).payload) == ["A"]
    assert market.resyncs == {"A": 2}
    assert market.on_snapshot(snap("A", 15).payload) == []
    assert market.is_synced("A")


def test_heartbeat_ahead_is_a_gap_and_is_not_asked_twice() -> None:
    market = subscribed("A", "B")
    assert market.on_event(ev("md.heartbeat", ts=1, seqs={"A": 10, "B": 11})) == ["B"]
    assert market.on_event(ev("md.heartbeat", ts=2, seqs={"A": 10, "B": 12})) == []
    assert market.resyncs == {"B": 1}


def test_failed_resync_is_retried_by_the_next_heartbeat() -> None:
    market = subscribed("A")
    assert market.on_event(delta("A", 12)) == ["A"]
    market.resync_failed("A")
    assert market.on_event(ev("md.heartbeat", ts=1, seqs={"A": 12})) == ["A"]
    assert market.on_snapshot(snap("A", 12).payload) == []
    assert market.is_synced("A")


def test_reset_holds_events_until_the_new_connection_snapshot_even_if_seq_restarts() -> None:
    market = subscribed("A")
    market.on_event(delta("A", 11, bids=[["10", 1]]))
    market.reset()
    assert market.on_event(delta("A", 3, bids=[["10", 7]])) == []
    assert market.on_event(ev("md.heartbeat", ts=1, seqs={"A": 99})) == []  # the snapshot is already coming
    market.on_snapshot(snap("A", 2, bids=[["10", 2]]).payload)
    book = market.book("A")
    assert book is not None and book.seq == 3 and book.bids() == [["10", 7]]


def test_trades_and_statuses_are_sequenced_too() -> None:
    market = subscribed("A")
    market.configure_candles("A", 1000, 10)
    market.on_event(ev("md.trade", sym="A", seq=11, trade_id=1, price="10.5", qty=3, side="buy", ts=1_500))
    market.on_event(ev("md.status", sym="A", seq=12, status="halted"))
    market.on_event(ev("md.trade", sym="A", seq=12, trade_id=2, price="99", qty=3, side="buy", ts=1_600))  # dup
    assert market.candle_entries("A") == [{"t": 1000, "o": "10.5", "h": "10.5", "l": "10.5", "c": "10.5", "v": 3}]
    assert market.statuses["A"] == "halted"
    book = market.book("A")
    assert book is not None and book.status == "halted" and book.seq == 12


def test_events_that_overtake_a_new_subscriptions_snapshot_are_held_for_it() -> None:
    market = MarketState()
    assert market.on_event(delta("Z", 1)) == []
    assert market.on_event(delta("Z", 3)) == []
    assert market.on_event(ev("md.heartbeat", ts=1, seqs={"Z": 5})) == []  # its snapshot is coming anyway
    assert market.book("Z") is None and market.symbols() == [] and market.candle_entries("Z") == []
    assert market.on_snapshot({"sym": "Z", "seq": 2, "bids": [], "asks": []}) == []
    book = market.book("Z")
    assert book is not None and book.seq == 3 and market.is_synced("Z")


@settings(max_examples=200, deadline=None)
@given(
    levels=st.lists(st.tuples(st.booleans(), st.integers(1, 8), st.integers(0, 5)), min_size=1, max_size=40),
    dropped=st.sets(st.integers(0, 39)),
)
def test_dropping_any_events_then_resyncing_converges_to_the_full_book(
    levels: list[tuple[bool, int, int]], dropped: set[int]
) -> None:
    """Reference book gets every delta; ours loses some and resyncs from snapshots of the reference."""
    reference = subscribed("A")
    market = subscribed("A")
    for i, (is_bid, price, qty) in enumerate(levels):
        level = [[str(price), qty]]
        event = delta("A", 11 + i, bids=level if is_bid else [], asks=[] if is_bid else level)
        reference.on_event(event)
        if i in dropped:
            continue
        asked = market.on_event(event)
        for sym in asked:
            ref_book = reference.book(sym)
            assert ref_book is not None
            assert market.on_snapshot(ref_book.snapshot(depth=None)) == []
    ref_book = reference.book("A")
    assert ref_book is not None
    for _ in market.on_event(ev("md.heartbeat", ts=0, seqs={"A": ref_book.seq})):
        market.on_snapshot(ref_book.snapshot(depth=None))
    book = market.book("A")
    assert book is not None
    assert book.snapshot(depth=None) == ref_book.snapshot(depth=None)
