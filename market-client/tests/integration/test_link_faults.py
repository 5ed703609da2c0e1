"""Broken links between the client and the real server, made by a real TCP proxy.

A half-open link (bytes silently dropped, no FIN, no RST) is caught by the
liveness watchdog; a reset recovers like any drop; an order whose answer is
lost is placed exactly once and the call returns it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from hftsim.testing import ServerProcess

from market_client import MarketClient, StaleBook

from .conftest import eventually
from .proxy import TcpProxy

LIVENESS = 1.5


@pytest.fixture
async def proxy(server: ServerProcess) -> AsyncIterator[TcpProxy]:
    async with TcpProxy(int(server.url.rsplit(":", 1)[1])) as p:
        yield p


async def proxied_client(proxy: TcpProxy, states: list[str]) -> MarketClient:
    return await MarketClient.connect(
        proxy.url,
        on_state_change=states.append,
        liveness_timeout=LIVENESS,
        connect_timeout=2.0,
        reconnect_delay=(0.05, 0.3),
        recover_timeout=20.0,
    )


async def test_a_half_open_link_is_detected_within_the_deadline_and_books_say_stale(
    server: ServerProcess, proxy: TcpProxy
) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        async with await MarketClient.connect(server.url, connect_md=False) as trader:
            assert client.best_bid_ask("ACME")["bid"] is None
            proxy.blackhole()
            started = time.monotonic()
            await eventually(lambda: client.state == "reconnecting", timeout=LIVENESS + 3, what="the dead link")
            assert time.monotonic() - started < LIVENESS + 2  # the deadline, not TCP's minutes
            with pytest.raises(StaleBook, match="wait_connected"):
                client.best_bid_ask("ACME")
            with pytest.raises(StaleBook):
                client.book_snapshot("ACME")
            assert client.book_snapshot("ACME", allow_stale=True)["sym"] == "ACME"

            await trader.place_order("ACME", "buy", "99.50", 4)  # happens while the client is cut off
            fresh = await trader.get_book("ACME")
            proxy.heal()
            await client.wait_connected(timeout=20)
            assert client.book_snapshot("ACME") == fresh
            assert client.best_bid_ask("ACME")["bid"] == "99.50"
            assert (await client.place_order("BOLT", "buy", "42.00", 1))["order"]["status"] == "new"
    finally:
        await client.aclose()
    assert "reconnecting" in states and states[-2:] == ["connected", "closed"]


async def test_an_idle_cmd_socket_is_kept_alive_by_pings(proxy: TcpProxy) -> None:
    states: list[str] = []
    async with await MarketClient.connect(
        proxy.url, connect_md=False, on_state_change=states.append, liveness_timeout=0.6
    ) as client:
        await asyncio.sleep(2.0)  # no event to wait for: time passes, CMD gets no heartbeats, only pings
        assert client.state == "connected" and "reconnecting" not in states


async def test_a_reset_link_recovers(server: ServerProcess, proxy: TcpProxy) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        proxy.reset()
        await eventually(lambda: "reconnecting" in states, what="the reset to be noticed")
        await client.wait_connected(timeout=20)
        assert (await client.send("ping"))["ts"] > 0
        async with await MarketClient.connect(server.url, connect_md=False) as trader:
            await trader.place_order("ACME", "sell", "100.70", 3)
            fresh = await trader.get_book("ACME")
        await eventually(lambda: client.book_snapshot("ACME") == fresh, what="MD after the reset")
    finally:
        await client.aclose()


async def test_a_lost_place_answer_places_exactly_once_and_returns_the_order(
    server: ServerProcess, proxy: TcpProxy
) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        async with await MarketClient.connect(server.url) as watcher:
            proxy.mute_replies()  # the request goes through, nothing comes back
            placing = asyncio.create_task(client.place_order("ACME", "buy", "98.70", 3, timeout=30))
            await eventually(lambda: watcher.best_bid_ask("ACME")["bid"] == "98.70", what="the order on the server")
            assert not placing.done()
            proxy.reset()
            placed = (await placing)["order"]
        assert "reconnecting" in states
        orders = await client.list_orders(status="all")
        assert [o["order_id"] for o in orders] == [placed["order_id"]]
        assert (placed["price"], placed["qty"], placed["status"]) == ("98.70", 3, "new")
        assert placed["client_order_id"]  # made up by the client, so it could be looked up
    finally:
        await client.aclose()


async def test_a_lost_place_request_is_sent_again_once(server: ServerProcess, proxy: TcpProxy) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        proxy.mute_requests()  # the request never reaches the server
        placing = asyncio.create_task(client.place_order("BOLT", "sell", "43.10", 2, client_order_id="mine-1"))
        await eventually(lambda: proxy.dropped_up > 0, what="the request to be dropped")
        proxy.reset()
        placed = (await placing)["order"]
        orders = await client.list_orders(status="all")
        assert [(o["order_id"], o["client_order_id"]) for o in orders] == [(placed["order_id"], "mine-1")]
    finally:
        await client.aclose()


async def test_a_lost_cancel_answer_returns_the_canceled_order(server: ServerProcess, proxy: TcpProxy) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        placed = (await client.place_order("ACME", "sell", "101.30", 1))["order"]
        async with await MarketClient.connect(server.url) as watcher:
            await eventually(lambda: watcher.best_bid_ask("ACME")["ask"] == "101.30", what="the order on MD")
            proxy.mute_replies()
            canceling = asyncio.create_task(client.cancel_order(placed["order_id"], timeout=30))
            await eventually(lambda: watcher.best_bid_ask("ACME")["ask"] is None, what="the cancel on the server")
            proxy.reset()
            canceled = (await canceling)["order"]
        assert (canceled["order_id"], canceled["status"]) == (placed["order_id"], "canceled")
        assert await client.list_orders() == []
    finally:
        await client.aclose()


async def test_a_lost_amend_answer_returns_the_amended_order(server: ServerProcess, proxy: TcpProxy) -> None:
    states: list[str] = []
    client = await proxied_client(proxy, states)
    try:
        placed = (await client.place_order("ACME", "sell", "101.40", 1))["order"]
        async with await MarketClient.connect(server.url) as watcher:
            await eventually(lambda: watcher.best_bid_ask("ACME")["ask"] == "101.40", what="the order on MD")
            proxy.mute_replies()
            amending = asyncio.create_task(client.amend_order(placed["order_id"], price="101.45", timeout=30))
            await eventually(lambda: watcher.best_bid_ask("ACME")["ask"] == "101.45", what="the amend on the server")
            proxy.reset()
            amended = (await amending)["order"]
        assert (amended["order_id"], amended["price"]) == (placed["order_id"], "101.45")
        assert [o["price"] for o in await client.list_orders()] == ["101.45"]
    finally:
        await client.aclose()
