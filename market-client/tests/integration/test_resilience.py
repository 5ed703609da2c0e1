"""Server restarts, expiring tokens and dropped sockets: the client heals itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import MarketClient, MarketConnectionError

from .conftest import eventually


async def test_server_restart_reconnects_logs_in_and_resyncs(server: ServerProcess) -> None:
    states: list[str] = []
    client = await MarketClient.connect(server.url, on_state_change=states.append, reconnect_delay=(0.05, 0.5))
    try:
        await client.configure_candles("ACME")
        await client.place_order("ACME", "buy", "99.00", 1)
        first_user = client.user
        assert first_user is not None

        await asyncio.to_thread(server.stop)
        await eventually(lambda: client.state == "reconnecting", what="the drop to be noticed")
        with pytest.raises(MarketConnectionError):
            await client.send("ping")  # fails at once while down, never hangs
        await asyncio.to_thread(server.start)
        await client.wait_connected(timeout=15)

        assert client.user is not None and client.user["user_id"] == first_user["user_id"]  # the session survived
        assert [o["price"] for o in await client.list_orders()] == ["99.00"]
        async with await MarketClient.connect(server.url, connect_md=False) as other:
            await other.place_order("ACME", "sell", "101.00", 2)
            await other.place_order("BOLT", "buy", "42.00", 3)
            fresh_acme = await other.get_book("ACME")
            fresh_bolt = await other.get_book("BOLT")
        await eventually(lambda: client.book_snapshot("ACME") == fresh_acme, what="ACME to match a fresh snapshot")
        await eventually(lambda: client.book_snapshot("BOLT") == fresh_bolt, what="BOLT to match a fresh snapshot")
        placed = await client.place_order("ACME", "buy", "99.50", 1)  # logged in again: can trade
        assert placed["order"]["status"] == "new"
        open_ids = [o["order_id"] for o in await client.list_orders()]
        assert placed["order"]["order_id"] in open_ids
        # Same user only if the server kept the session across its restart; else a new guest with one order.
        assert len(open_ids) == (2 if client.user["user_id"] == first_user["user_id"] else 1)
    finally:
        await client.aclose()
    assert states[:2] == ["connecting", "connected"]
    assert "reconnecting" in states and "resyncing" in states
    assert states[-2:] == ["connected", "closed"]


async def test_requests_in_flight_fail_at_once_when_the_server_dies(server: ServerProcess) -> None:
    client = await MarketClient.connect(server.url, reconnect_delay=(0.05, 0.5))
    try:
        pending = [asyncio.create_task(client.send("ping", timeout=30)) for _ in range(50)]
        await asyncio.to_thread(server.stop)
        started = time.monotonic()
        results = await asyncio.gather(*pending, return_exceptions=True)
        assert time.monotonic() - started < 5  # not the 30 s timeout
        assert all(isinstance(r, dict) or isinstance(r, MarketConnectionError) for r in results), results
        await asyncio.to_thread(server.start)
        await client.wait_connected(timeout=15)
        assert (await client.send("ping"))["ts"] > 0
    finally:
        await client.aclose()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_aclose_while_reconnecting_stops_everything(server: ServerProcess) -> None:
    client = await MarketClient.connect(server.url, reconnect_delay=(0.05, 0.2))
    await asyncio.to_thread(server.stop)
    await eventually(lambda: client.state == "reconnecting", what="the drop to be noticed")
    await asyncio.sleep(0.5)  # a few failed attempts
    await client.aclose()
    assert client.state == "closed"
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_short_lived_tokens_are_renewed_transparently(tmp_path: Path) -> None:
    states: list[str] = []
    with server_process(tmp_path / "s", config={"session": {"token_ttl_s": 1.5}}) as srv:
        async with (
            await MarketClient.connect(srv.url, on_state_change=states.append) as client,
            await MarketClient.connect(srv.url, connect_md=False) as other,
        ):
            user, token = client.user, client.token
            await asyncio.sleep(5)  # more than three lifetimes
            assert client.token != token and client.user == user
            assert (await client.send("auth.whoami"))["user_id"] == user["user_id"]  # type: ignore[index]
            await other.place_order("ACME", "sell", "100.50", 1)  # MD is still live too
            fresh = await other.get_book("ACME")
            await eventually(lambda: client.book_snapshot("ACME") == fresh, what="MD after renewals")
    assert "reconnecting" not in states


async def test_an_expired_token_closes_with_4001_and_the_client_recovers(tmp_path: Path) -> None:
    with server_process(tmp_path / "s", config={"session": {"token_ttl_s": 1.0}}) as srv:
        client = await MarketClient.connect(srv.url, reconnect_delay=(0.05, 0.5))
        states: list[str] = []
        client.set_state_hook(states.append)  # the reconnect can be over before a poll would see it
        try:
            time.sleep(2.5)  # noqa: ASYNC251  # block the loop on purpose: no renewal can happen, the server closes both sockets with 4001
            await eventually(lambda: "reconnecting" in states, what="the 4001 close")
            await client.wait_connected(timeout=15)
            assert (await client.send("ping"))["ts"] > 0
            assert client.book_snapshot("ACME")["sym"] == "ACME"
            await client.place_order("ACME", "buy", "99", 1)  # a new session, logged in again
        finally:
            await client.aclose()


async def test_an_order_placed_while_reconnecting_waits_for_the_link_up_to_its_timeout(server: ServerProcess) -> None:
    client = await MarketClient.connect(server.url, reconnect_delay=(0.05, 0.5))
    try:
        await asyncio.to_thread(server.stop)
        await eventually(lambda: client.state == "reconnecting", what="the drop to be noticed")
        with pytest.raises(MarketConnectionError, match=r"not reconnected within 0\.2s"):
            await client.place_order("ACME", "buy", "99.00", 1, timeout=0.2)  # the server is down: bounded
        placing = asyncio.create_task(client.place_order("ACME", "buy", "99.00", 1, timeout=30))
        await asyncio.to_thread(server.start)
        placed = await placing  # sent once the link is back, not refused for being mid-reconnect
        assert placed["order"]["status"] == "new"
        assert [o["order_id"] for o in await client.list_orders()] == [placed["order"]["order_id"]]
    finally:
        await client.aclose()
