"""Out-of-process agents: the same simulation as market-client users of a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("market_client")

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
