"""Sim control: pause freezes the books (MARKET_PAUSED), step runs the agents while paused, speed,
and a snapshot restored gives back the same venue (same hash, same agent behaviour, after a restart too)."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path

import pytest
from market_client import MarketClient, ServerError

from hftsim.engine import RULES
from hftsim.gateway.control import SNAPSHOT_DIR
from hftsim.testing import ServerProcess

ADMIN = ("prof", "prof-pass-1")
SYMS = ("ACME", "BOLT")


def make_server(data_dir: Path, *, bots: bool) -> ServerProcess:
    srv = ServerProcess(data_dir, bots=bots)
    srv.add_user(*ADMIN, role="admin")
    srv.start()
    return srv


@pytest.fixture
def bot_server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = make_server(tmp_path / "data", bots=True)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
async def admin(bot_server: ServerProcess) -> AsyncIterator[MarketClient]:
    async with await MarketClient.connect(bot_server.url, username=ADMIN[0], password=ADMIN[1]) as client:
        yield client


async def books(client: MarketClient) -> list[tuple[str, object, object]]:
    out = []
    for sym in SYMS:
        book = await client.get_book(sym, depth=1000)
        out.append((sym, book["bids"], book["asks"]))
    return out


async def refused(coro: Awaitable[object]) -> str:
    with pytest.raises(ServerError) as info:
        await coro
    return str(info.value.code)


async def test_pause_freezes_the_books_step_moves_the_agents_resume_reopens(
    bot_server: ServerProcess, admin: MarketClient
) -> None:
    async with await MarketClient.connect(bot_server.url) as guest:
        order = (await guest.place_order("ACME", "buy", "90.00", 1))["order"]
        paused = await admin.admin.pause()
        assert paused["paused"] is True and paused["running"] is False
        assert (await guest.send("market.status"))["paused"] is True
        assert await refused(guest.place_order("ACME", "buy", "90.00", 1)) == "MARKET_PAUSED"
        assert await refused(guest.cancel_order(order["order_id"])) == "MARKET_PAUSED"
        assert await refused(guest.send("order.cancel_all", {})) == "MARKET_PAUSED"
        # Frozen: the agents' clock stands still while the runner ticks on.
        before = (await admin.admin.sim_status())["sim_time_ms"]
        frozen = await books(admin)
        await admin.send("ping")
        assert await books(admin) == frozen
        stepped = await admin.admin.step(5)
        assert stepped["stepped"] > 0 and stepped["paused"] is True
        assert stepped["sim_time_ms"] - before == pytest.approx(5000, abs=250)
        assert await books(admin) != frozen
        assert await refused(admin.send("admin.sim", {"step_s": 5, "paused": False})) == "INVALID_FIELD"
        assert await refused(admin.admin.set_speed(0)) == "INVALID_FIELD"
        assert (await admin.admin.set_speed(4))["speed"] == 4
        resumed = await admin.admin.resume()
        assert resumed["paused"] is False and resumed["running"] is True
        assert (await guest.place_order("ACME", "buy", "90.00", 1))["order"]["status"] == "new"
        assert await refused(guest.send("admin.sim", {"paused": True})) == "FORBIDDEN"


async def test_restore_gives_the_same_hash_and_the_same_agent_behaviour(admin: MarketClient) -> None:
    await admin.admin.pause()
    await admin.admin.step(3)
    saved = await admin.admin.snapshot("before the step")
    assert saved["name"] == "before the step" and len(saved["state_hash"]) == 64
    await admin.admin.step(5)
    after_first_run = await books(admin)
    restored = await admin.admin.restore(saved["snapshot_id"])
    assert restored["state_hash"] == saved["state_hash"] and restored["paused"] is True
    assert await books(admin) != after_first_run
    await admin.admin.step(5)
    assert await books(admin) == after_first_run  # same seed, same state: the agents did it again
    assert [s["snapshot_id"] for s in await admin.admin.snapshots()] == [saved["snapshot_id"]]
    assert await refused(admin.admin.restore(99)) == "UNKNOWN_SNAPSHOT"


async def test_a_snapshot_this_version_cannot_load_is_refused_and_the_market_goes_on(
    bot_server: ServerProcess, admin: MarketClient
) -> None:
    await admin.admin.pause()
    saved = await admin.admin.snapshot()
    kept = await books(admin)
    older = bot_server.data_dir / SNAPSHOT_DIR / f"{saved['snapshot_id']:06d}.pickle"
    older.write_bytes(b"chftsim.sim.agents.base\nRetiredAgent\n.")  # a class an earlier version had
    with pytest.raises(ServerError) as info:
        await admin.admin.restore(saved["snapshot_id"])
    assert info.value.code == "SNAPSHOT_UNREADABLE" and "earlier version" in str(info.value)
    assert await books(admin) == kept
    await admin.admin.resume()
    async with await MarketClient.connect(bot_server.url) as guest:
        placed = (await guest.place_order("ACME", "buy", "80.00", 1))["order"]
        assert [o["order_id"] for o in await guest.list_orders()] == [placed["order_id"]]


async def test_a_snapshot_of_a_market_under_other_rules_is_refused(tmp_path: Path) -> None:
    """An engine saved under other trading rules unpickles empty (`Engine.rules`): restored, it would wipe the
    market without a word, so it is refused like any snapshot this version cannot load."""
    srv = make_server(tmp_path / "data", bots=False)
    try:
        async with (
            await MarketClient.connect(srv.url, username=ADMIN[0], password=ADMIN[1]) as boss,
            await MarketClient.connect(srv.url) as guest,
        ):
            await guest.place_order("ACME", "buy", "99.00", 5)
            saved = await boss.admin.snapshot()
            kept = await books(boss)
            path = srv.data_dir / SNAPSHOT_DIR / f"{saved['snapshot_id']:06d}.pickle"
            engine, history, fills, sim = pickle.loads(path.read_bytes())
            engine.rules = RULES - 1
            path.write_bytes(pickle.dumps((engine, history, fills, sim)))
            with pytest.raises(ServerError) as info:
                await boss.admin.restore(saved["snapshot_id"])
            assert info.value.code == "SNAPSHOT_UNREADABLE" and f"rules {RULES - 1}" in str(info.value)
            assert await books(boss) == kept
    finally:
        srv.stop()


async def test_a_restored_market_survives_a_restart_and_trades_on(tmp_path: Path) -> None:
    srv = make_server(tmp_path / "data", bots=False)
    try:
        async with await MarketClient.connect(srv.url, username=ADMIN[0], password=ADMIN[1]) as boss:
            async with await MarketClient.connect(srv.url) as guest:
                await guest.place_order("ACME", "buy", "99.00", 5)
                saved = await boss.admin.snapshot()
                kept = await books(boss)
                await guest.place_order("ACME", "sell", "99.00", 2)
                await guest.place_order("BOLT", "buy", (await guest.get_symbols())[1]["ref_price"], 3)
                await boss.admin.restore(saved["snapshot_id"])
                assert await books(boss) == kept
                await boss.admin.resume()
                async with await MarketClient.connect(srv.url) as seller:  # the read models go on after a restore
                    await seller.place_order("ACME", "sell", "99.00", 1)
                    assert [f["liquidity"] for f in await seller.list_fills()] == ["taker"]
                    assert [f["liquidity"] for f in await guest.list_fills()] == ["maker"]
                kept = await books(boss)
        srv.restart()
        async with await MarketClient.connect(srv.url) as watcher:
            assert await books(watcher) == kept
            placed = await watcher.place_order("ACME", "sell", "99.00", 1)
            assert placed["order"]["filled_qty"] == 1
    finally:
        srv.stop()


async def test_an_admin_call_auction_collects_then_uncrosses_on_resume(tmp_path: Path) -> None:
    srv = make_server(tmp_path / "data", bots=False)
    try:
        async with (
            await MarketClient.connect(srv.url, username=ADMIN[0], password=ADMIN[1]) as boss,
            await MarketClient.connect(srv.url) as buyer,
            await MarketClient.connect(srv.url) as seller,
        ):
            assert (await boss.send("admin.auction", {"sym": "ACME"}))["status"] == "auction"
            bid = (await buyer.place_order("ACME", "buy", "101.00", 3))["order"]
            ask = (await seller.place_order("ACME", "sell", "99.00", 2))["order"]
            assert bid["filled_qty"] == 0 and ask["filled_qty"] == 0  # crossed, collected, not traded
            assert (await boss.send("admin.resume", {"sym": "ACME"}))["status"] == "trading"
            fills = await seller.list_fills()
            assert sum(f["qty"] for f in fills) == 2
            assert await refused(buyer.send("admin.auction", {"sym": "ACME"})) == "FORBIDDEN"
    finally:
        srv.stop()
