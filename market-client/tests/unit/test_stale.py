"""Book reads say when the book may be stale, instead of answering silently from old data."""

import pytest

from market_client import Event, MarketClient, StaleBook
from market_client._recovery import State


def snapshot(seq: int) -> dict[str, object]:
    return {"sym": "ACME", "seq": seq, "status": "trading", "bids": [["99.00", 1]], "asks": [["101.00", 2]]}


def delta(seq: int) -> Event:
    payload = {"sym": "ACME", "seq": seq, "bids": [["99.50", 3]], "asks": []}
    return Event(op="md.delta", payload=payload, ts=1, raw={})


def test_a_book_awaiting_its_snapshot_after_a_gap_is_stale_until_it_arrives() -> None:
    client = MarketClient("http://127.0.0.1:1")
    client.market.on_snapshot(snapshot(5))
    assert client.best_bid_ask("ACME")["bid"] == "99.00"
    assert client.market.on_event(delta(7)) == ["ACME"]  # seq 6 is missing: a gap
    with pytest.raises(StaleBook, match="gap"):
        client.best_bid_ask("ACME")
    with pytest.raises(StaleBook):
        client.book_snapshot("ACME")
    assert client.best_bid_ask("ACME", allow_stale=True)["bid"] == "99.00"
    client.market.on_snapshot(snapshot(6))  # the held delta 7 is replayed on top
    assert client.best_bid_ask("ACME")["bid"] == "99.50"


@pytest.mark.parametrize("state", ["reconnecting", "resyncing"])
def test_every_book_is_stale_while_the_client_reconnects_or_resyncs(state: State) -> None:
    client = MarketClient("http://127.0.0.1:1")
    client.market.on_snapshot(snapshot(5))
    client._keeper.recovery.state = state
    with pytest.raises(StaleBook, match="wait_connected"):
        client.best_bid_ask("ACME")
    assert client.book_snapshot("ACME", allow_stale=True)["seq"] == 5
