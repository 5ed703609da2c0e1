"""The agents on a real server: in-process (`hftsim serve`), and out of process as market-client users."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from market_client import MarketClient

from hftsim.sim import SimSettings
from hftsim.sim.remote import run_remote
from hftsim.testing import server_process


def test_remote_agents_make_a_market_on_a_real_server(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        stats = await run_remote(url, SimSettings(), seed=3, duration_s=8.0)
        assert stats.steps > 30
        assert stats.commands > 100
        assert stats.trades_seen > 0
        assert stats.failures == 0
        assert stats.rejections.get("POSITION_LIMIT", 0) == 0
        # Seen from an ordinary user: trades happened, and the agents cleaned up their orders on exit.
        async with await MarketClient.connect(url) as watcher:
            trades = await watcher.send("trades.list", {"sym": "ACME", "limit": 100})
            assert trades["trades"]
            book = await watcher.get_book("ACME")
            assert book["bids"] == [] and book["asks"] == []

    with server_process(tmp_path / "data", bots=False) as server:
        asyncio.run(scenario(server.url))


def test_in_process_agents_make_a_living_market_within_seconds(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        async with await MarketClient.connect(url) as watcher:
            symbols = [s["sym"] for s in await watcher.get_symbols()]
            deadline = time.monotonic() + 15
            waiting = set(symbols)
            while waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                for sym in list(waiting):
                    book = watcher.book_snapshot(sym, 20)
                    trades = await watcher.send("trades.list", {"sym": sym, "limit": 10})
                    if len(book["bids"]) >= 5 and len(book["asks"]) >= 5 and trades["trades"]:
                        waiting.discard(sym)
            assert not waiting, f"no deep two-sided book with trades yet on {sorted(waiting)}"

    with server_process(tmp_path / "data", bots=True) as server:
        asyncio.run(scenario(server.url))
