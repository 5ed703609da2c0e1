"""A restart during a round keeps the round's counts: volume, fees, breaches and the PnL samples.

The round's book is saved with the market's snapshots and fed the commands
replayed after the last one, so a clean restart changes no score, and a
crash (SIGKILL) keeps every fill and every refusal the engine made.
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from market_client import MarketClient, ServerError

from hftsim.config import DEFAULT_CONFIG
from hftsim.testing import ServerProcess

ADMIN = ("prof", "prof-pass-1")
TRADERS = {"alpha": "alpha-pass-1", "beta": "beta-pass-1", "gamma": "gamma-pass-1"}
KEPT = ("pnl", "fees", "max_drawdown", "volume", "notional", "fills", "breaches")
"""What a restart must not change (Sharpe changes with the samples taken meanwhile, all at the same PnL)."""


@asynccontextmanager
async def session(srv: ServerProcess, name: str) -> AsyncIterator[MarketClient]:
    password = ADMIN[1] if name == ADMIN[0] else TRADERS[name]
    async with await MarketClient.connect(srv.url, username=name, password=password) as client:
        yield client


async def until(what: str, check: Callable[[], Awaitable[Any]], within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return value


async def scores(boss: MarketClient) -> dict[str, dict[str, Any]]:
    return {r["username"]: r for r in (await boss.send("rounds.get", {}))["scores"]}


async def print_trade(seller: MarketClient, buyer: MarketClient, price: str) -> None:
    """One lot of ACME traded at `price`: the mark moves there."""
    await seller.place_order("ACME", "sell", price, 1)
    await buyer.place_order("ACME", "buy", price, 1, "IOC")


@pytest.fixture
def venue(tmp_path: Path) -> ServerProcess:
    symbols: list[dict[str, Any]] = tomllib.loads(DEFAULT_CONFIG.read_text())["symbols"]
    for s in symbols:
        if s["sym"] == "ACME":
            s.update(taker_fee_bps="10", maker_fee_bps="-2")
    config = {"rounds": {"sample_s": 0.05}, "limits": {"max_open_orders": 3}, "symbols": symbols}
    srv = ServerProcess(tmp_path / "data", config=config)
    srv.add_user(*ADMIN, role="admin")
    for name, password in TRADERS.items():
        srv.add_user(name, password)
    return srv


async def test_a_restart_mid_round_keeps_its_scores(venue: ServerProcess) -> None:
    venue.start()
    try:
        async with (
            session(venue, "prof") as boss,
            session(venue, "alpha") as alpha,
            session(venue, "beta") as beta,
            session(venue, "gamma") as gamma,
        ):
            await boss.send("admin.round_start", {"name": "restarted"})
            await alpha.place_order("ACME", "sell", "100.00", 10)
            await beta.place_order("ACME", "buy", "100.00", 10, "IOC")
            # The mark swings between 103 and 101 until a sample has seen beta's PnL at its peak (29, then 9).
            await until("a sample at the peak", lambda: swing(boss, alpha, gamma))
            with pytest.raises(ServerError, match="QTY_ABOVE_MAX"):  # refused by the engine, journaled
                await beta.place_order("ACME", "buy", "90.00", 100_001)
            for _ in range(3):
                await gamma.place_order("ACME", "buy", "90.00", 1)
            with pytest.raises(ServerError, match="OPEN_ORDERS_LIMIT"):  # refused by the gateway
                await gamma.place_order("ACME", "buy", "90.00", 1)
            before = await scores(boss)
        assert before["beta"]["max_drawdown"] == "20.000" and before["beta"]["pnl"] == "9.000"
        assert before["beta"]["breaches"] == 1
        assert before["gamma"]["breaches"] == 1 and before["alpha"]["fees"] != "0.000"

        venue.restart()
        async with session(venue, "prof") as boss, session(venue, "alpha") as alpha, session(venue, "gamma") as gamma:
            after = await scores(boss)
            assert {n: {k: r[k] for k in KEPT} for n, r in after.items()} == {
                n: {k: r[k] for k in KEPT} for n, r in before.items()
            }
            assert (await boss.send("rounds.list", {}))["current"]["name"] == "restarted"
            await gamma.cancel_all()
            await print_trade(alpha, gamma, "102.00")
            with pytest.raises(ServerError, match="QTY_ABOVE_MAX"):
                await gamma.place_order("ACME", "buy", "90.00", 100_001)
            before_crash = await scores(boss)

        venue.kill()  # a crash keeps what the journal holds: every fill and the engine's refusals
        venue.start()
        async with session(venue, "prof") as boss:
            after_crash = await scores(boss)
            for name, row in before_crash.items():
                for k in ("pnl", "fees", "volume", "notional", "fills", "breaches"):
                    assert after_crash[name][k] == row[k], (name, k)
            ended = {r["username"]: r for r in (await boss.send("admin.round_end", {}))["scores"]}
            assert ended["gamma"]["volume"] == before["gamma"]["volume"] + 1 and ended["gamma"]["breaches"] == 2
            assert ended["beta"]["volume"] == 10 and ended["beta"]["fees"] == before["beta"]["fees"]
    finally:
        venue.stop()


async def swing(boss: MarketClient, alpha: MarketClient, gamma: MarketClient) -> bool:
    """The mark up to 103 and back to 101; whether a sample caught beta's PnL at the top."""
    await print_trade(alpha, gamma, "103.00")
    await print_trade(alpha, gamma, "101.00")
    drawdown: str = (await scores(boss))["beta"]["max_drawdown"]
    return drawdown != "0.000"
