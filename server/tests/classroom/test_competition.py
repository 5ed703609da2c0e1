"""A scripted three-round competition: two SDK bots trade against the agents and each other.

Each round starts from fresh accounts; its scores reconcile exactly with
the bots' fills and the close-out marks; the archive, `rounds.get` and the
admin CSV export agree; the third round is timed and ends by itself.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from market_client import MarketClient, ServerError

from hftsim.config import DEFAULT_CONFIG
from hftsim.testing import ServerProcess

ADMIN = ("prof", "prof-pass-1")
BOTS = {"alpha": "alpha-pass-1", "beta": "beta-pass-1"}
INITIAL_CASH = Decimal("1000000")


def symbols_with_fees() -> list[dict[str, Any]]:
    """The shipped symbols, ACME and BOLT with fees: a taker fee, a maker rebate, a fee per lot."""
    symbols: list[dict[str, Any]] = tomllib.loads(DEFAULT_CONFIG.read_text())["symbols"]
    for s in symbols:
        if s["sym"] == "ACME":
            s.update(taker_fee_bps="10", maker_fee_bps="-2")
        if s["sym"] == "BOLT":
            s.update(taker_fee_per_lot="0.01")
    return symbols


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = {"rounds": {"sample_s": 0.2}, "symbols": symbols_with_fees()}
    srv = ServerProcess(tmp_path_factory.mktemp("contest"), bots=True, config=config)
    srv.add_user(*ADMIN, role="admin")
    for name, password in BOTS.items():
        srv.add_user(name, password)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


async def wait_for(what: str, check: Any, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def trade(client: MarketClient, sym: str, side: str, qty: int) -> None:
    """Take liquidity the agents offer: an IOC at the far edge of the band."""
    symbol = next(s for s in await client.get_symbols() if s["sym"] == sym)
    ref, band, tick = Decimal(symbol["ref_price"]), Decimal(symbol["band_pct"]), Decimal(symbol["tick"])
    edge = ref * (1 + band / 100) if side == "buy" else ref * (1 - band / 100)
    price = (edge / tick).to_integral_value(rounding="ROUND_FLOOR" if side == "buy" else "ROUND_CEILING") * tick
    await client.place_order(sym, side, str(price), qty, "IOC")


def expected_pnl(fills: list[dict[str, Any]], marks: dict[str, str]) -> tuple[Decimal, int]:
    """Cash from the fills less their fees, plus the net positions closed out at the marks; and the volume."""
    cash, held, volume = Decimal(0), dict[str, int](), 0
    for f in fills:
        sign = 1 if f["side"] == "sell" else -1
        cash += sign * Decimal(f["price"]) * f["qty"] - Decimal(f["fee"])
        held[f["sym"]] = held.get(f["sym"], 0) - sign * f["qty"]
        volume += f["qty"]
    return cash + sum((Decimal(marks[s]) * q for s, q in held.items()), Decimal(0)), volume


async def test_three_rounds_score_exactly_what_the_fills_say(venue: ServerProcess) -> None:
    async with (
        await MarketClient.connect(venue.url, username=ADMIN[0], password=ADMIN[1]) as boss,
        await MarketClient.connect(venue.url, username="alpha", password=BOTS["alpha"]) as alpha,
        await MarketClient.connect(venue.url, username="beta", password=BOTS["beta"]) as beta,
    ):
        bots = {"alpha": alpha, "beta": beta}
        for number in (1, 2, 3):
            timed = number == 3
            payload: dict[str, Any] = {"name": f"heat {number}"}
            if timed:
                payload["duration_s"] = 4
            started = (await boss.send("admin.round_start", payload))["round"]
            assert started["round_id"] == number and started["status"] == "running"
            with pytest.raises(ServerError) as twice:
                await boss.send("admin.round_start", {})
            assert twice.value.code == "ROUND_RUNNING"
            for client in bots.values():  # fresh accounts every round
                account = await client.get_account()
                assert Decimal(account["cash"]) == INITIAL_CASH and account["positions"] == []
            await wait_for("the agents' books", lambda: both_sides(boss, "ACME", "BOLT"))
            await trade(alpha, "ACME", "buy", 5 * number)
            await trade(alpha, "BOLT", "sell", 7)
            await trade(beta, "ACME", "sell", 3)
            await trade(beta, "BOLT", "buy", 4 * number)
            live = await boss.send("rounds.get", {})
            assert live["round"]["round_id"] == number and {r["username"] for r in live["scores"]} >= set(bots)
            if timed:
                await wait_for("the timed round to end", lambda: round_over(boss))
                result = await boss.send("rounds.get", {"round_id": number})
            else:
                result = await boss.send("admin.round_end", {})
            ended = result["round"]
            assert ended["status"] == "ended" and ended["marks"]
            rows = {r["username"]: r for r in result["scores"]}
            assert not any(r["is_bot"] for r in result["scores"])
            for name, client in bots.items():
                fills = await client.list_fills(limit=1000)
                assert fills, f"{name} traded nothing in round {number}"
                pnl, volume = expected_pnl(fills, ended["marks"])
                row = rows[name]
                assert Decimal(row["pnl"]) == pnl, (name, number, row, fills)
                assert row["volume"] == volume and row["fills"] == len(fills)
                assert Decimal(row["fees"]) == sum(Decimal(f["fee"]) for f in fills)
                assert any(Decimal(f["fee"]) != 0 for f in fills)
                assert Decimal(row["max_drawdown"]) >= 0 and row["breaches"] == 0
                assert Decimal(row["notional"]) == sum(Decimal(f["price"]) * f["qty"] for f in fills)
                assert await client.list_orders() == []  # every order canceled at the end
            with pytest.raises(ServerError) as paused:
                await trade(alpha, "ACME", "buy", 1)
            assert paused.value.code == "MARKET_PAUSED"
        listed = await boss.send("rounds.list", {})
        assert listed["current"] is None
        assert [r["name"] for r in listed["rounds"]] == ["heat 1", "heat 2", "heat 3"]
        with_bots = await boss.send("rounds.get", {"round_id": 2, "include_bots": True})
        assert any(r["is_bot"] for r in with_bots["scores"])
        assert [r["rank"] for r in with_bots["scores"]] == list(range(1, len(with_bots["scores"]) + 1))

        async with httpx.AsyncClient() as http:
            bearer = {"Authorization": f"Bearer {boss.token}"}
            r = await http.get(f"{venue.url}/rounds/2.csv", headers=bearer)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            table = list(csv.DictReader(io.StringIO(r.text)))
            assert {row["username"]: row["pnl"] for row in table} == {
                row["username"]: row["pnl"] for row in with_bots["scores"]
            }
            assert (
                await http.get(f"{venue.url}/rounds/2.csv", headers={"Authorization": f"Bearer {alpha.token}"})
            ).status_code == 403
            assert (await http.get(f"{venue.url}/rounds/9.csv", headers=bearer)).status_code == 404
        with pytest.raises(ServerError) as forbidden:
            await alpha.send("admin.round_start", {})
        assert forbidden.value.code == "FORBIDDEN"
        with pytest.raises(ServerError) as none:
            await boss.send("admin.round_end", {})
        assert none.value.code == "NO_ROUND"


async def both_sides(client: MarketClient, *syms: str) -> bool:
    for sym in syms:
        book = await client.get_book(sym, depth=5)
        if len(book["bids"]) < 3 or len(book["asks"]) < 3:
            return False
    return True


async def round_over(client: MarketClient) -> bool:
    return (await client.send("rounds.list", {}))["current"] is None
