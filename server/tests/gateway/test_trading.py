"""Orders, private events, isolation, market data and candles over the real sockets."""

from __future__ import annotations

import asyncio
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from hftsim.config import DEFAULT_CONFIG
from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, handshake, login, open_wire


async def test_place_fill_and_events_precede_response(trader: Wire, other_trader: Wire) -> None:
    maker = await trader.ok(
        "order.place", {"sym": "ACME", "side": "sell", "price": "101.00", "qty": 5, "client_order_id": "m-1"}
    )
    assert maker["order"]["status"] == "new" and maker["order"]["client_order_id"] == "m-1"
    assert trader.events == []  # one frame acknowledges the order: the response, no order.accepted

    msg_before = len(other_trader.events)
    taker = await other_trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": "101.00", "qty": 3})
    assert taker["order"]["status"] == "filled" and taker["order"]["avg_fill_price"] == "101.00"
    ops = [e["op"] for e in other_trader.events[msg_before:]]
    assert ops[:2] == ["order.filled", "account.update"] and "order.accepted" not in ops

    fill = await trader.next_event("order.partially_filled")
    assert fill["payload"]["fill"]["liquidity"] == "maker" and fill["payload"]["fill"]["qty"] == 3
    assert fill["payload"]["order"] == {  # who the order is, and only what the fill changed
        "order_id": maker["order"]["order_id"],
        "client_order_id": "m-1",
        "sym": "ACME",
        "side": "sell",
        "status": "partially_filled",
        "filled_qty": 3,
        "leaves_qty": 2,
        "avg_fill_price": "101.00",
        "updated_ts": fill["payload"]["order"]["updated_ts"],
    }
    assert set(fill["payload"]["fill"]) == {"fill_id", "price", "qty", "liquidity", "fee", "trade_id", "ts"}
    account = await other_trader.ok("account.get")
    assert account["positions"][0]["qty"] == 3 and account["positions"][0]["avg_price"] == "101.00"
    fills = (await other_trader.ok("fills.list", {"sym": "ACME"}))["fills"]
    assert [f["qty"] for f in fills] == [3]

    assert await other_trader.error("order.cancel", {"order_id": maker["order"]["order_id"]}) == "UNKNOWN_ORDER"
    assert (await other_trader.ok("orders.list"))["orders"] == []
    canceled = await trader.ok("order.cancel", {"client_order_id": "m-1"})
    assert canceled["order"]["status"] == "canceled" and canceled["order"]["filled_qty"] == 3


async def test_the_users_other_sockets_hear_of_each_order(server: ServerProcess) -> None:
    token = handshake(server.url, guest=True)["token"]
    first = await open_wire(server.url, "/ws/cmd", token)
    second = await open_wire(server.url, "/ws/cmd", token)
    placed = (await first.ok("order.place", {"sym": "BOLT", "side": "buy", "price": "41.00", "qty": 2}))["order"]
    assert (await second.next_event("order.accepted"))["payload"]["order"] == placed
    amended = (await first.ok("order.amend", {"order_id": placed["order_id"], "price": "41.05"}))["order"]
    change = (await second.next_event("order.amended"))["payload"]["order"]
    assert change == {k: amended[k] for k in change} and {"price", "qty", "leaves_qty"} <= set(change)
    canceled = (await first.ok("order.cancel", {"order_id": placed["order_id"]}))["order"]
    event = (await second.next_event("order.canceled"))["payload"]
    assert event["reason"] == "user" and event["order"] == {
        k: canceled[k] for k in ("order_id", "client_order_id", "sym", "side", "status", "leaves_qty", "updated_ts")
    }
    assert first.events == []  # each response said it all
    await first.ws.close()
    await second.ws.close()


async def test_amend_cancel_all_and_rejections(trader: Wire) -> None:
    placed = await trader.ok("order.place", {"sym": "BOLT", "side": "buy", "price": "40.00", "qty": 10})
    oid = placed["order"]["order_id"]
    amended = await trader.ok("order.amend", {"order_id": oid, "qty": 6})
    assert amended["order"]["qty"] == 6 and amended["order"]["price"] == "40.00"
    assert (await trader.ok("order.amend", {"order_id": oid, "price": "40.05"}))["order"]["price"] == "40.05"
    assert (
        await trader.error("order.place", {"sym": "BOLT", "side": "buy", "price": "40.01", "qty": 1})
        == "PRICE_NOT_ON_TICK"
    )
    assert (
        await trader.error("order.place", {"sym": "BOLT", "side": "buy", "price": "1.00", "qty": 1})
        == "PRICE_OUT_OF_BAND"
    )
    assert (
        await trader.error("order.place", {"sym": "DUNE", "side": "buy", "price": "1.250", "qty": 150})
        == "QTY_NOT_LOT_MULTIPLE"
    )
    assert await trader.error("order.cancel", {"order_id": 999_999}) == "UNKNOWN_ORDER"
    rejected = await trader.next_event("order.rejected")
    assert rejected["payload"]["error"]["code"] == "PRICE_OUT_OF_BAND"  # malformed prices never reach the engine
    await trader.ok("order.place", {"sym": "BOLT", "side": "sell", "price": "45.00", "qty": 2})
    result = await trader.ok("order.cancel_all", {"sym": "BOLT"})
    assert result["count"] == 2
    assert (await trader.ok("orders.list", {"sym": "BOLT"}))["orders"] == []
    history = (await trader.ok("orders.list", {"sym": "BOLT", "status": "all"}))["orders"]
    assert {o["status"] for o in history} == {"canceled"}


async def test_buys_beyond_buying_power_are_refused(trader: Wire) -> None:
    """A guest has 1,000,000.00: ACME at 95.00 buys at most 10,526, counting resting buys."""
    cash = (await trader.ok("account.get"))["cash"]
    too_big = {"sym": "ACME", "side": "buy", "price": "95.00", "qty": 10_527, "client_order_id": "big-1"}
    assert await trader.error("order.place", too_big) == "INSUFFICIENT_FUNDS"
    rejected = await trader.next_event("order.rejected")
    assert rejected["payload"]["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert rejected["payload"]["client_order_id"] == "big-1"
    resting = await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": "95.00", "qty": 10_000})
    one_more = {"sym": "ACME", "side": "buy", "price": "95.00", "qty": 527}
    assert await trader.error("order.place", one_more) == "INSUFFICIENT_FUNDS"
    amend_up = {"order_id": resting["order"]["order_id"], "qty": 10_527}
    assert await trader.error("order.amend", amend_up) == "INSUFFICIENT_FUNDS"
    assert (await trader.ok("order.place", {**one_more, "qty": 526}))["order"]["status"] == "new"
    assert (await trader.ok("account.get"))["cash"] == cash
    assert (await trader.ok("order.cancel_all", {"sym": "ACME"}))["count"] == 2


async def test_a_foreign_order_id_answers_like_a_missing_one(trader: Wire, other_trader: Wire) -> None:
    mine = await trader.ok("order.place", {"sym": "BOLT", "side": "buy", "price": "40.00", "qty": 10})
    foreign_id = mine["order"]["order_id"]
    missing_id = foreign_id + 1_000_000
    for op, extra in (("order.cancel", {}), ("order.amend", {"qty": 20})):
        foreign = await other_trader.request(op, {"order_id": foreign_id, **extra})
        missing = await other_trader.request(op, {"order_id": missing_id, **extra})
        assert foreign["error"]["code"] == missing["error"]["code"] == "UNKNOWN_ORDER"
        assert foreign["error"]["message"] == missing["error"]["message"].replace(str(missing_id), str(foreign_id))
    assert (await trader.ok("order.cancel", {"order_id": foreign_id}))["order"]["status"] == "canceled"


async def test_a_client_order_id_is_never_reused(trader: Wire) -> None:
    order = {"sym": "BOLT", "side": "buy", "price": "40.00", "qty": 10, "client_order_id": "once"}
    await trader.ok("order.place", order)
    await trader.ok("order.cancel", {"client_order_id": "once"})
    assert await trader.error("order.place", order) == "DUPLICATE_CLIENT_ORDER_ID"
    assert (await trader.ok("orders.list", {"sym": "BOLT"}))["orders"] == []


async def test_market_data_snapshot_deltas_trades_and_heartbeat(
    server: ServerProcess, trader: Wire, other_trader: Wire
) -> None:
    md = await open_wire(server.url, "/ws/md", handshake(server.url)["token"])
    sub = await md.ok("md.subscribe", {"syms": ["CRUX"]})
    assert sub["syms"] == ["CRUX"]
    snap = (await md.next_event("md.snapshot"))["payload"]
    seq = snap["seq"]
    await trader.ok("order.place", {"sym": "CRUX", "side": "sell", "price": "4500.25", "qty": 4})
    await other_trader.ok("order.place", {"sym": "CRUX", "side": "buy", "price": "4500.25", "qty": 1})
    delta = (await md.next_event("md.delta"))["payload"]
    assert delta["seq"] == seq + 1 and delta["asks"] == [["4500.25", 4]]
    trade = (await md.next_event("md.trade"))["payload"]
    assert trade["seq"] == seq + 2 and trade["price"] == "4500.25" and trade["side"] == "buy"
    delta = (await md.next_event("md.delta"))["payload"]
    assert delta["seq"] == seq + 3 and delta["asks"] == [["4500.25", 3]]
    beat = (await md.next_event("md.heartbeat"))["payload"]
    while beat["seqs"]["CRUX"] < seq + 3:  # a heartbeat sent before the deltas may wait in the buffer
        beat = (await md.next_event("md.heartbeat"))["payload"]
    assert beat["seqs"] == {"CRUX": seq + 3}
    snap = await md.ok("md.snapshot", {"sym": "CRUX"})
    assert snap["seq"] == seq + 3 and snap["asks"][0] == ["4500.25", 3]
    candles = (await trader.ok("candles.get", {"sym": "CRUX", "interval_ms": 1000, "depth": 5}))["candles"]
    assert candles[-1]["c"] == "4500.25" or candles[-1]["v"] == 0
    assert sum(c["v"] for c in candles) >= 1
    tape = (await trader.ok("trades.list", {"sym": "CRUX"}))["trades"]
    assert tape[-1]["trade_id"] == trade["trade_id"]
    await trader.ok("order.cancel_all")
    await md.ws.close()


async def test_halt_is_broadcast_and_refuses_orders(server: ServerProcess, trader: Wire) -> None:
    server.add_user("haltadmin", "pw-admin", role="admin")
    admin = await login(server.url, username="haltadmin", password="pw-admin")
    md = await open_wire(server.url, "/ws/md", handshake(server.url)["token"])
    await md.ok("md.subscribe", {"syms": ["EMBR"]})
    resting = await trader.ok("order.place", {"sym": "EMBR", "side": "buy", "price": "29000.0", "qty": 1})
    assert (await admin.ok("admin.halt", {"sym": "EMBR"}))["status"] == "halted"
    assert (await md.next_event("md.status"))["payload"]["status"] == "halted"
    assert (
        await trader.error("order.place", {"sym": "EMBR", "side": "buy", "price": "29000.0", "qty": 1})
        == "SYMBOL_HALTED"
    )
    symbols = {s["sym"]: s for s in (await trader.ok("symbols.list"))["symbols"]}
    assert symbols["EMBR"]["status"] == "halted"
    await trader.ok("order.cancel", {"order_id": resting["order"]["order_id"]})
    await admin.ok("admin.resume", {"sym": "EMBR"})
    assert (
        await trader.error("order.place", {"sym": "EMBR", "side": "buy", "price": "1.0", "qty": 1})
        == "PRICE_OUT_OF_BAND"
    )
    await asyncio.gather(admin.ws.close(), md.ws.close())


async def test_many_requests_in_flight_on_one_socket(trader: Wire) -> None:
    ids = [f"p{i}" for i in range(50)]
    for i, msg_id in enumerate(ids):
        payload = {"sym": "ACME", "side": "buy", "price": f"90.{i:02d}", "qty": 1}
        await trader.ws.send(
            orjson.dumps({"type": "request", "msg_id": msg_id, "op": "order.place", "payload": payload}).decode()
        )
    answers = [await trader.response(msg_id) for msg_id in ids]
    assert all(a["ok"] for a in answers)
    assert (await trader.ok("order.cancel_all", {"sym": "ACME"}))["count"] == 50


async def test_leaderboard_ranks_by_marked_pnl(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        seller = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        buyer = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        await seller.ok("order.place", {"sym": "ACME", "side": "sell", "price": "100.00", "qty": 10})
        await buyer.ok("order.place", {"sym": "ACME", "side": "buy", "price": "100.00", "qty": 10})
        await seller.ok("order.place", {"sym": "ACME", "side": "sell", "price": "101.00", "qty": 1})
        await buyer.ok("order.place", {"sym": "ACME", "side": "buy", "price": "101.00", "qty": 1})
        leaders = (await seller.ok("leaderboard.get"))["leaders"]
        # last trade 101.00: the buyer is long 11 (cost 1101.00, worth 1111.00), the seller short 11
        assert [(r["rank"], r["pnl"]) for r in leaders] == [(1, "10.000"), (2, "-10.000")]
        buyer_id = (await buyer.ok("auth.whoami"))["user_id"]
        assert leaders[0]["user_id"] == buyer_id and leaders[0]["unrealized_pnl"] == "10.000"
        assert (await seller.ok("leaderboard.get", {"limit": 1}))["leaders"][0]["rank"] == 1


async def test_a_burst_that_drains_is_not_a_slow_consumer(tmp_path: Path) -> None:
    """Canceling 21,000 orders queues 21,000 events at once: a reading client must keep its socket."""
    # 10,500 resting buys of 100 DUNE at about 1.10 need more than a guest's default cash
    config = {"limits": {"max_position": 10**9}, "accounts": {"initial_cash": 10**7}}
    with server_process(tmp_path, config=config) as srv:
        wire = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        n, window = 21_000, 1_000
        for start in range(0, n, window):  # pipelined, but read as it goes: only the cancel burst is under test
            for i in range(start, start + window):
                side, base = ("buy", 1000) if i % 2 else ("sell", 1300)
                payload = {"sym": "DUNE", "side": side, "price": f"{(base + i % 200) / 1000:.3f}", "qty": 100}
                request = {"type": "request", "msg_id": f"b{i}", "op": "order.place", "payload": payload}
                await wire.ws.send(orjson.dumps(request).decode())
            for i in range(start, start + window):
                assert (await wire.response(f"b{i}"))["ok"]
        wire.events.clear()
        result = await wire.ok("order.cancel_all")
        assert result["count"] == n
        assert sum(e["op"] == "order.canceled" for e in wire.events) == n


async def test_orders_list_tells_the_quantity_ahead_after_fills_and_cancels(trader: Wire, other_trader: Wire) -> None:
    level = {"sym": "CRUX", "side": "sell", "price": "4600.00"}
    first = (await other_trader.ok("order.place", {**level, "qty": 5}))["order"]
    second = (await other_trader.ok("order.place", {**level, "qty": 3}))["order"]
    mine = (await trader.ok("order.place", {**level, "qty": 2}))["order"]

    async def ahead() -> int:
        orders = (await trader.ok("orders.list", {"sym": "CRUX"}))["orders"]
        return int(next(o["queue_ahead"] for o in orders if o["order_id"] == mine["order_id"]))

    assert await ahead() == 8
    await other_trader.ok("order.cancel", {"order_id": second["order_id"]})
    assert await ahead() == 5
    await trader.ok("order.place", {"sym": "CRUX", "side": "buy", "price": "4600.00", "qty": 4, "tif": "IOC"})
    assert await ahead() == 1  # the IOC took 4 of the first order (self-trade prevention spares none here)
    await other_trader.ok("order.cancel", {"order_id": first["order_id"]})
    assert await ahead() == 0
    everything = (await trader.ok("orders.list", {"sym": "CRUX", "status": "all"}))["orders"]
    assert any(o["queue_ahead"] is None for o in everything if o["status"] == "filled")


async def test_the_accounts_fees_add_up_their_fills_fees(tmp_path: Path) -> None:
    """account.get, account.update and leaderboard.get carry what the fills' fees add up to, exactly."""
    symbols: list[dict[str, Any]] = tomllib.loads(DEFAULT_CONFIG.read_text())["symbols"]
    for s in symbols:
        if s["sym"] == "ACME":
            s.update(taker_fee_bps="7.5", maker_fee_bps="-1.25")
        if s["sym"] == "BOLT":
            s.update(taker_fee_per_lot="0.03", maker_fee_per_lot="0.01")
    with server_process(tmp_path, config={"symbols": symbols}) as srv:
        maker = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        taker = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        for sym, price, qty in (("ACME", "100.37", 13), ("ACME", "100.41", 7), ("BOLT", "42.65", 9)):
            await maker.ok("order.place", {"sym": sym, "side": "sell", "price": price, "qty": qty})
            await taker.ok("order.place", {"sym": sym, "side": "buy", "price": price, "qty": qty, "tif": "IOC"})
        await taker.ok("order.place", {"sym": "ACME", "side": "sell", "price": "100.00", "qty": 5})
        await maker.ok("order.place", {"sym": "ACME", "side": "buy", "price": "100.00", "qty": 5, "tif": "IOC"})
        leaders = {r["user_id"]: r for r in (await maker.ok("leaderboard.get", {"include_bots": True}))["leaders"]}
        for wire in (maker, taker):
            fills = (await wire.ok("fills.list"))["fills"]
            assert len(fills) == 4
            paid = sum(Decimal(f["fee"]) for f in fills)
            assert any(Decimal(f["fee"]) < 0 for f in fills) and paid != 0
            account = await wire.ok("account.get")
            assert Decimal(account["fees"]) == paid
            for position in account["positions"]:  # each symbol's share, from its own fills
                own = sum(Decimal(f["fee"]) for f in fills if f["sym"] == position["sym"])
                assert Decimal(position["fees"]) == own
            assert {p["sym"] for p in account["positions"]} == {"ACME", "BOLT"}
            updates = [e for e in wire.events if e["op"] == "account.update"]
            assert Decimal(updates[-1]["payload"]["fees"]) == paid
            assert leaders[account["user_id"]]["fees"] == account["fees"]
