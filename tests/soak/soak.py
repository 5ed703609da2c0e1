"""Soak: hours of market in minutes, then a crash, and nothing may be lost.

`make soak` (or `python tests/soak/soak.py --seconds 600`) starts a real
server with its agents at high intensity, lets several market_client
traders trade against them, and checks as it goes and at the end:

- every client's MD-maintained book equals the server's snapshot at the
  same sequence number (no lost or misapplied delta);
- the market is zero-sum: the PnL of all accounts, agents included, adds up
  to exactly zero (cash is conserved and positions cancel out);
- after a crash (SIGKILL) and restart, the traders' clients reconnect by
  themselves as the same users, and their accounts are exactly as before;
- the server's memory stays bounded and its log holds no traceback.

It exits non-zero on the first broken check.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from hftsim.testing import ServerProcess
from market_client import MarketClient, ServerError

TRADERS = 4


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def trade(
    client: MarketClient,
    symbols: list[dict[str, Any]],
    rng: random.Random,
    until: float,
) -> int:
    """Random limit, marketable and cancel traffic near the touch."""
    placed = 0
    while time.monotonic() < until:
        sym = rng.choice(symbols)
        top = client.best_bid_ask(sym["sym"])
        tick, lot = Decimal(sym["tick"]), sym["lot"]
        if top["bid"] is None or top["ask"] is None:
            await asyncio.sleep(0.05)
            continue
        side = rng.choice(["buy", "sell"])
        qty = max(sym["min_qty"], lot * rng.randint(1, 5))
        roll = rng.random()
        try:
            if roll < 0.6:
                away = tick * rng.randint(0, 5)
                price = Decimal(top["bid"]) - away if side == "buy" else Decimal(top["ask"]) + away
                await client.place_order(sym["sym"], side, str(price), qty)
            elif roll < 0.75:
                await client.place_order(sym["sym"], side, None, qty, type="market")
            else:
                orders = await client.list_orders()
                if orders:
                    await client.cancel_order(rng.choice(orders)["order_id"])
            placed += 1
        except ServerError:
            pass  # a refused order, or a cancel that lost the race with a fill: normal answers
        await asyncio.sleep(rng.uniform(0.005, 0.03))
    await client.cancel_all()
    return placed


async def check_books(client: MarketClient, symbols: list[str]) -> None:
    for sym in symbols:
        for _ in range(50):
            server = await client.get_book(sym, depth=1000)
            local = client.book_snapshot(sym, depth=1000)
            if local["seq"] == server["seq"]:
                assert (local["bids"], local["asks"]) == (
                    server["bids"],
                    server["asks"],
                ), f"{sym} book differs"
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"{sym}: the client's book never caught up with the server")


async def ledger(admin: MarketClient) -> list[dict[str, Any]]:
    answer = await admin.send("leaderboard.get", {"limit": 1000, "include_bots": True})
    leaders: list[dict[str, Any]] = answer["leaders"]
    return sorted(leaders, key=lambda r: r["user_id"])


async def soak(server: ServerProcess, seconds: float, seed: int) -> None:
    admin = await MarketClient.connect(server.url, username="soak-admin", password="soak-admin-pw")
    await admin.send("admin.sim", {"intensity": 3})
    traders = [await MarketClient.connect(server.url) for _ in range(TRADERS)]
    symbols = await admin.get_symbols()
    names = [s["sym"] for s in symbols]
    rng = random.Random(seed)
    start = time.monotonic()
    rss_start = rss_mb(server.pid)
    placed = 0
    while time.monotonic() - start < seconds:
        until = min(time.monotonic() + 30, start + seconds)
        counts = await asyncio.gather(*(trade(c, symbols, random.Random(rng.random()), until) for c in traders))
        placed += sum(counts)
        await asyncio.gather(*(check_books(c, names) for c in traders))
        total = sum(Decimal(r["pnl"]) for r in await ledger(admin))
        assert total == 0, f"the market is not zero-sum: total PnL {total}"
        print(
            f"  {time.monotonic() - start:6.0f}s  {placed} trader requests, RSS {rss_mb(server.pid):.0f} MB, "
            f"books equal, total PnL {total}",
            flush=True,
        )
    await admin.send("admin.sim", {"intensity": 0})
    await asyncio.sleep(0.5)
    accounts_before = [settled(await t.get_account()) for t in traders]
    rss_end = rss_mb(server.pid)
    await admin.aclose()

    server.kill()
    server.start()
    admin = await MarketClient.connect(server.url, username="soak-admin", password="soak-admin-pw")
    await admin.send("admin.sim", {"intensity": 0})
    for client in traders:
        await client.wait_connected(timeout=30)
    accounts_after = [settled(await t.get_account()) for t in traders]
    assert accounts_after == accounts_before, "accounts differ after the crash"
    assert sum(Decimal(r["pnl"]) for r in await ledger(admin)) == 0
    assert "Traceback" not in server.log(), "the server logged a traceback"
    for client in [admin, *traders]:
        await client.aclose()
    print(
        f"soak passed: {seconds:.0f}s, {placed} trader requests, RSS {rss_start:.0f} -> {rss_end:.0f} MB, "
        f"{len(traders)} traders recovered exactly after a crash"
    )


def settled(account: dict[str, Any]) -> dict[str, Any]:
    """What a crash must not change: cash and positions (marks move with the next trade)."""
    positions = [{k: p[k] for k in ("sym", "qty", "avg_price", "realized_pnl")} for p in account["positions"]]
    return {
        "user_id": account["user_id"],
        "cash": account["cash"],
        "positions": positions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hftsim-soak-") as tmp:
        server = ServerProcess(Path(tmp), bots=True, seed=args.seed)
        server.add_user("soak-admin", "soak-admin-pw", role="admin")
        server.start()
        try:
            asyncio.run(soak(server, args.seconds, args.seed))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
