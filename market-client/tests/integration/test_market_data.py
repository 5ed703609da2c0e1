"""Symbols, books and candles kept from MD, and the resync of one symbol after a gap."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hftsim.testing import ServerProcess

from market_client import MarketClient, OrderRejected

from .conftest import eventually


async def test_symbols_are_cached_and_statuses_follow_md(server: ServerProcess) -> None:
    await asyncio.to_thread(server.add_user, "root", "admin-pw", "admin")
    async with (
        await MarketClient.connect(server.url) as client,
        await MarketClient.connect(server.url, username="root", password="admin-pw", connect_md=False) as admin,
    ):
        symbols = await client.get_symbols()
        assert [s["sym"] for s in symbols] == ["ACME", "BOLT", "CRUX", "DUNE", "EMBR"]
        dune = next(s for s in symbols if s["sym"] == "DUNE")
        assert {k: dune[k] for k in ("sym", "tick", "min_qty", "lot", "status")} == {
            "sym": "DUNE",
            "tick": "0.001",
            "min_qty": 100,
            "lot": 100,
            "status": "trading",
        }
        symbols[0]["status"] = "scribbled"  # callers get copies
        assert (await client.get_symbols())[0]["status"] == "trading"

        assert await admin.send("admin.halt", {"sym": "ACME"}) == {"sym": "ACME", "status": "halted"}
        await eventually(lambda: client.book_snapshot("ACME")["status"] == "halted", what="md.status")
        assert (await client.get_symbols())[0]["status"] == "halted"  # cached list, updated by MD
        assert (await client.get_symbols(force_refresh=True))[0]["status"] == "halted"
        with pytest.raises(OrderRejected) as info:
            await client.place_order("ACME", "buy", "100", 1)
        assert info.value.code == "SYMBOL_HALTED"


async def test_local_book_matches_the_server_book(server: ServerProcess) -> None:
    md_events: list[dict[str, Any]] = []
    async with (
        await MarketClient.connect(server.url, on_md_event=md_events.append) as watcher,
        await MarketClient.connect(server.url, connect_md=False) as trader,
    ):
        for n in range(25):
            await trader.place_order("ACME", "buy", f"99.{n:02d}", n + 1)
            await trader.place_order("ACME", "sell", f"101.{n:02d}", 1)
        await watcher.place_order("ACME", "sell", "99.22", 70)  # takes out two levels and part of a third
        server_book = await watcher.get_book("ACME", depth=20)
        await eventually(lambda: watcher.book_snapshot("ACME")["seq"] == server_book["seq"], what="MD catch-up")
        assert watcher.book_snapshot("ACME") == server_book
        assert watcher.book_snapshot("ACME", depth=3)["bids"] == server_book["bids"][:3]
        assert watcher.best_bid_ask("ACME") == {
            "sym": "ACME",
            "seq": server_book["seq"],
            "bid": server_book["bids"][0][0],
            "bid_qty": server_book["bids"][0][1],
            "ask": server_book["asks"][0][0],
            "ask_qty": server_book["asks"][0][1],
        }
        ops = {e["op"] for e in md_events}
        assert {"md.snapshot", "md.delta", "md.trade"} <= ops


async def test_candles_are_seeded_then_grown_by_md_trades(server: ServerProcess) -> None:
    async with (
        await MarketClient.connect(server.url) as client,
        await MarketClient.connect(server.url, connect_md=False) as other,
    ):
        assert await client.configure_candles("ACME") == []  # no trade yet: nothing to chart
        await other.place_order("ACME", "sell", "100.00", 3)
        await client.place_order("ACME", "buy", "100.00", 3)
        await eventually(lambda: sum(c["v"] for c in client.get_candles("ACME")) == 3, what="the first trade")

        seeded = await client.configure_candles("BOLT", interval_ms=2000, depth=5)
        assert seeded == []
        await other.place_order("ACME", "sell", "100.05", 4)
        await client.place_order("ACME", "buy", "100.05", 4)
        await eventually(lambda: sum(c["v"] for c in client.get_candles("ACME")) == 7, what="the second trade")
        local = client.get_candles("ACME")
        assert local[-1]["c"] == "100.05" and max(c["h"] for c in local) == "100.05"

        # A fresh seed agrees with what MD built (retry across an interval boundary).
        for _ in range(5):
            started = time.time()
            server_side = await client.send("candles.get", {"sym": "ACME", "interval_ms": 1000, "depth": 50})
            if int(started) == int(time.time()) and client.get_candles("ACME") == server_side["candles"]:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"local candles {client.get_candles('ACME')} differ from the server's")

        reseeded = await client.configure_candles("ACME", interval_ms=1000, depth=50)
        assert sum(c["v"] for c in reseeded) == 7


async def test_a_forced_gap_resyncs_only_that_symbol_once(server: ServerProcess) -> None:
    async with (
        await MarketClient.connect(server.url) as watcher,
        await MarketClient.connect(server.url, connect_md=False) as trader,
    ):
        await trader.place_order("BOLT", "buy", "42.00", 1)
        await trader.send("test.drop_md", {"sym": "ACME", "count": 1})
        await trader.place_order("ACME", "buy", "99.00", 1)  # its delta never reaches the watcher
        await trader.place_order("BOLT", "buy", "42.05", 2)
        await trader.place_order("ACME", "buy", "99.01", 2)  # seq jumps by 2: a gap
        server_acme = await trader.get_book("ACME")
        server_bolt = await trader.get_book("BOLT")
        await eventually(lambda: watcher.book_snapshot("ACME") == server_acme, what="the ACME resync")
        await eventually(lambda: watcher.book_snapshot("BOLT") == server_bolt, what="BOLT to go on")
        await asyncio.sleep(1.5)  # a heartbeat or two later, still one resync, and only of ACME
        assert watcher.resync_counts == {"ACME": 1}
        assert watcher.book_snapshot("ACME") == server_acme


async def test_a_gap_seen_only_by_the_heartbeat(server: ServerProcess) -> None:
    async with (
        await MarketClient.connect(server.url) as watcher,
        await MarketClient.connect(server.url, connect_md=False) as trader,
    ):
        await watcher.configure_candles("CRUX")
        await trader.send("test.drop_md", {"sym": "CRUX", "count": 1})
        await trader.place_order("CRUX", "sell", "4500.25", 3)  # the last event: only a heartbeat tells
        server_crux = await trader.get_book("CRUX")
        await eventually(lambda: watcher.book_snapshot("CRUX") == server_crux, timeout=4, what="heartbeat resync")
        assert watcher.resync_counts == {"CRUX": 1}
