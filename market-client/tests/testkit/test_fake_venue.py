"""Each FakeVenue fault breaks a naive client and not the SDK: the venue is a test kit worth having."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from market_client import MarketClient
from market_client.testing import FakeVenue

from .naive import NaiveClient

USER, PASSWORD = "ann", "annpw"


def levels(rows: list[list[Any]]) -> list[tuple[Decimal, int]]:
    return [(Decimal(str(p)), int(q)) for p, q in rows]


@pytest.fixture
async def venue() -> AsyncIterator[FakeVenue]:
    async with FakeVenue() as v:
        v.add_user(USER, PASSWORD)
        yield v


@pytest.fixture
async def clients(venue: FakeVenue) -> AsyncIterator[tuple[MarketClient, NaiveClient]]:
    sdk = await MarketClient.connect(venue.url, username=USER, password=PASSWORD, liveness_timeout=2.0)
    naive = NaiveClient(venue.url)
    await naive.connect(USER, PASSWORD)
    await venue.until(lambda: "ACME" in naive.bids)
    yield sdk, naive
    await sdk.aclose()
    await naive.aclose()


def sdk_agrees(sdk: MarketClient, venue: FakeVenue, sym: str = "ACME") -> bool:
    if sdk.state != "connected" or not sdk.market.is_synced(sym):
        return False
    mine, truth = sdk.book_snapshot(sym, 50), venue.book(sym)
    return levels(mine["bids"]) == levels(truth["bids"]) and levels(mine["asks"]) == levels(truth["asks"])


def naive_agrees(naive: NaiveClient, venue: FakeVenue, sym: str = "ACME") -> bool:
    bids, asks = naive.book(sym)
    truth = venue.book(sym)
    return levels(bids) == levels(truth["bids"]) and levels(asks) == levels(truth["asks"])


async def settle(venue: FakeVenue) -> None:
    """A marker order on another symbol, seen by both clients' streams, fences what came before."""
    venue.house_order("BOLT", "buy", "40.00", 1)
    await asyncio.sleep(0)


async def test_a_dropped_delta(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    venue.faults.drop_md("ACME")
    venue.house_order("ACME", "sell", "101.00", 5)  # lost
    venue.house_order("ACME", "sell", "102.00", 5)
    await venue.until(lambda: sdk_agrees(sdk, venue))
    assert sdk.resync_counts.get("ACME", 0) >= 1
    await venue.until(lambda: levels(naive.book("ACME")[1]) == [(Decimal("102.00"), 5)])
    assert not naive_agrees(naive, venue)


async def test_duplicated_trades(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    await sdk.configure_candles("ACME", interval_ms=60_000, depth=5)
    venue.house_order("ACME", "sell", "100.00", 3)
    venue.faults.duplicate_md("ACME", count=10)
    await sdk.place_order("ACME", "buy", "100.00", 3)  # a trade of 3 (and deltas), each sent twice
    await venue.until(lambda: naive.volume.get("ACME", 0) >= 6)
    await venue.until(lambda: sum(c["v"] for c in sdk.get_candles("ACME")) == 3)
    assert naive.volume["ACME"] == 6  # counted twice


async def test_reordered_deltas(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    venue.faults.reorder_md("ACME")
    venue.house_order("ACME", "buy", "99.00", 5)  # held back, sent after the next
    venue.house_order("ACME", "buy", "99.00", 3)  # the level is 8 now
    await venue.until(lambda: sdk_agrees(sdk, venue))
    assert levels(sdk.book_snapshot("ACME")["bids"]) == [(Decimal("99.00"), 8)]
    await venue.until(lambda: naive.book("ACME")[0] != [])
    await settle(venue)
    await venue.until(lambda: "BOLT" in naive.bids and naive.bids["BOLT"] != {})
    assert levels(naive.book("ACME")[0]) == [(Decimal("99.00"), 5)]  # the older total, applied last


async def test_deltas_before_the_snapshot(venue: FakeVenue) -> None:
    venue.add_user("bob", "bobpw")
    venue.faults.snapshot_after(2, subscriptions=2)  # both clients' subscriptions
    naive = NaiveClient(venue.url)
    await naive.connect("bob", "bobpw")
    connecting = asyncio.create_task(MarketClient.connect(venue.url, username=USER, password=PASSWORD))
    await venue.until(lambda: venue.subscriptions == 2)
    venue.house_order("ACME", "sell", "101.00", 4)  # sent before the snapshots: the naive client loses it
    venue.house_order("ACME", "sell", "101.50", 4)
    venue.house_order("BOLT", "sell", "43.00", 1)  # BOLT's snapshots wait for two events too
    venue.house_order("BOLT", "sell", "43.50", 1)
    sdk = await connecting
    try:
        await venue.until(lambda: sdk_agrees(sdk, venue))
        assert sdk.resync_counts == {}  # it held the events that overtook the snapshots, and needed no resync
        await venue.until(lambda: "ACME" in naive.bids)
        assert not naive_agrees(naive, venue)
    finally:
        await sdk.aclose()
        await naive.aclose()


async def test_a_disconnect_in_the_middle_of_an_order(
    venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]
) -> None:
    sdk, naive = clients
    venue.faults.disconnect_on("order.place")
    placed = await sdk.place_order("ACME", "buy", "95.00", 1)
    assert [o["order_id"] for o in venue.orders(USER)] == [placed["order"]["order_id"]]
    venue.faults.disconnect_on("order.place")
    await naive.request("order.place", {"sym": "ACME", "side": "buy", "price": "95.00", "qty": 1})
    assert len(venue.orders(USER)) == 3  # the naive client placed its order twice


async def test_a_late_ack(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    venue.faults.late_ack("order.place", 1.0)
    placed = await sdk.place_order("ACME", "buy", "95.00", 1, timeout=0.3)
    assert [o["order_id"] for o in venue.orders(USER)] == [placed["order"]["order_id"]]
    venue.faults.late_ack("order.place", 1.0)
    await naive.request("order.place", {"sym": "ACME", "side": "buy", "price": "95.00", "qty": 1}, timeout=0.3)
    assert len(venue.orders(USER)) == 3


async def test_a_silent_link(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    venue.faults.silence()
    venue.house_order("ACME", "sell", "103.00", 2)
    await venue.until(lambda: sdk_agrees(sdk, venue), timeout=10)  # the watchdog noticed, reconnected, resynced
    assert not naive_agrees(naive, venue)  # still waiting on a socket that says nothing


async def test_a_restart(venue: FakeVenue, clients: tuple[MarketClient, NaiveClient]) -> None:
    sdk, naive = clients
    user_id = (sdk.user or {})["user_id"]
    await venue.restart()
    venue.house_order("ACME", "sell", "104.00", 2)
    await venue.until(lambda: sdk_agrees(sdk, venue), timeout=10)
    assert (sdk.user or {})["user_id"] == user_id  # logged in again as the same user on a new session
    placed = await sdk.place_order("ACME", "buy", "96.00", 1)
    assert placed["order"]["status"] == "new"
    assert not naive_agrees(naive, venue)  # its sockets are gone and it does not know


async def test_the_readme_example() -> None:
    """The test shown in market-client/README.md ("Testing offline"), as it is there."""
    async with FakeVenue() as venue, MarketClient(venue.url) as client:
        venue.faults.drop_md("ACME")  # the next ACME event is never sent
        venue.house_order("ACME", "sell", "101.00", 5)
        venue.house_order("ACME", "sell", "102.00", 5)
        await venue.until(lambda: client.book_snapshot("ACME", allow_stale=True)["asks"] == venue.book("ACME")["asks"])
        assert client.resync_counts["ACME"] == 1
