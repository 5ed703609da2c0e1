"""Hostile clients: out-of-range numbers, floods, repeated msg_ids and hot symbols, against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from hftsim.testing import server_process

from .conftest import Wire, handshake, login, open_wire
from .test_frames import TEXT, frame

LIMITED = {"per_connection": {"burst": 20, "per_second": 50}, "per_user": {"burst": 40, "per_second": 100}}


def raw(msg_id: str, op: str, payload_json: str) -> str:
    return f'{{"type":"request","ver":1,"msg_id":"{msg_id}","op":"{op}","payload":{payload_json}}}'


async def answer_to(wire: Wire, frame: str, msg_id: str | None) -> dict[str, Any]:
    await wire.ws.send(frame)
    return await asyncio.wait_for(wire.response(msg_id), 30)


async def test_numbers_out_of_range_are_refused_and_the_venue_still_restarts(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        trader = await login(srv.url)
        order = '{"sym":"ACME","side":"buy","qty":1,"price":%s}'
        hostile = {
            "p1": raw("p1", "order.place", order % '"1E+20"'),
            "p2": raw("p2", "order.place", order % '"1E+30"'),
            "p3": raw("p3", "order.place", order % '"1e400"'),
            "p4": raw("p4", "order.place", order % "200000000000000000"),
            "p5": raw("p5", "order.place", order % '"100.001"'),
            "p6": raw("p6", "order.place", '{"sym":"ACME","side":"buy","qty":' + str(2**62) + ',"price":"100"}'),
            "p7": raw("p7", "order.place", '{"sym":"ACME","side":"buy","qty":1e3,"price":"100"}'),
            "c1": raw("c1", "order.cancel", '{"order_id":' + str(2**63) + "}"),
            "n2": raw("n2", "order.place", '{"sym":"ACME","sym":"NOPE","side":"buy","qty":1,"price":"100"}'),
        }
        codes = {msg_id: (await answer_to(trader, frame, msg_id))["error"]["code"] for msg_id, frame in hostile.items()}
        assert codes == {
            "p1": "INVALID_FIELD",
            "p2": "INVALID_FIELD",
            "p3": "INVALID_FIELD",
            "p4": "INVALID_FIELD",
            "p5": "PRICE_NOT_ON_TICK",
            "p6": "QTY_ABOVE_MAX",
            "p7": "INVALID_FIELD",
            "c1": "INVALID_FIELD",
            "n2": "UNKNOWN_SYMBOL",
        }
        for unreadable in (order % "NaN", "[" * 5000 + "]" * 5000):  # not JSON: no msg_id to answer to
            answer = await answer_to(trader, raw("n", "order.place", unreadable), None)
            assert answer["error"]["code"] == "BAD_ENVELOPE"
        placed = await trader.ok("order.place", {"sym": "ACME", "side": "buy", "qty": 1, "price": "99.50"})
        srv.kill()
        srv.start()  # the journal holds only commands the engine and the codec agree on
        again = await login(srv.url)
        book = await again.ok("book.get", {"sym": "ACME"})
        assert book["bids"] == [["99.50", 1]] and placed["order"]["status"] == "new"


async def test_a_flooder_is_refused_with_retry_after_and_others_are_served(tmp_path: Path) -> None:
    with server_process(tmp_path, config={"traffic": LIMITED}) as srv:
        flooder = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        limits = (await flooder.ok("auth.login", {}))["limits"]
        assert limits["messages_per_second"] == 50 and limits["breach_policy"] == "reject"
        calm = await login(srv.url)
        frames = [raw(f"f{i}", "ping", "{}") for i in range(400)]
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(flooder.ws.send(f) for f in frames))
        for i in range(10):  # meanwhile, another user trades as usual
            await calm.ok("order.place", {"sym": "ACME", "side": "buy", "qty": 1, "price": f"90.0{i}"})
        answers = [await flooder.response(f"f{i}") for i in range(400)]
        elapsed = asyncio.get_running_loop().time() - started
        refused = [a for a in answers if not a["ok"]]
        assert refused and all(a["error"]["code"] == "RATE_LIMITED" for a in refused)
        assert all(a["error"]["retry_after_ms"] > 0 for a in refused)
        assert sum(a["ok"] for a in answers) <= 20 + 50 * elapsed + 1  # the burst, then the connection's rate


async def test_the_disconnect_policy_closes_a_persistent_flooder(tmp_path: Path) -> None:
    config = {"traffic": {**LIMITED, "breach_policy": "disconnect", "disconnect_after": 10}}
    with server_process(tmp_path, config=config) as srv:
        flooder = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        with pytest.raises(websockets.ConnectionClosed) as info:
            for i in range(1000):
                await flooder.ws.send(raw(f"f{i}", "ping", "{}"))
            while True:
                await flooder.ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4029
        other = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        assert (await other.ok("ping"))["ts"] > 0


async def test_the_throttle_policy_answers_everything_at_the_allowed_rate(tmp_path: Path) -> None:
    config = {"traffic": {**LIMITED, "breach_policy": "throttle"}}
    with server_process(tmp_path, config=config) as srv:
        flooder = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(flooder.ws.send(raw(f"f{i}", "ping", "{}")) for i in range(70)))
        answers = [await flooder.response(f"f{i}") for i in range(70)]
        assert all(a["ok"] for a in answers)
        assert loop.time() - started >= (70 - 20) / 50 * 0.9  # burst, then the connection's rate


async def test_a_repeated_msg_id_places_one_order_even_on_another_socket(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        token = handshake(srv.url)["token"]
        first = await open_wire(srv.url, "/ws/cmd", token)
        await first.ok("auth.login", {})
        order = orjson.dumps({"sym": "ACME", "side": "buy", "qty": 1, "price": "95.00"}).decode()
        one = await answer_to(first, raw("same", "order.place", order), "same")
        second = await open_wire(srv.url, "/ws/cmd", token)  # the same session, as after a reconnect
        two = await answer_to(second, raw("same", "order.place", order), "same")
        assert one == two and one["ok"]
        assert len((await second.ok("orders.list"))["orders"]) == 1
        assert (await answer_to(second, raw("r", "ping", "{}"), "r"))["ok"]
        again = await answer_to(second, raw("r", "ping", "{}"), "r")
        assert again["error"]["code"] == "DUPLICATE_MSG"


async def test_a_burst_on_one_symbol_does_not_queue_another_users_order(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        token = handshake(srv.url)["token"]
        burst = [await open_wire(srv.url, "/ws/cmd", token) for _ in range(4)]
        await burst[0].ok("auth.login", {})
        other = await login(srv.url)
        order = orjson.dumps({"sym": "ACME", "side": "sell", "qty": 1, "price": "110.00"}).decode()
        for n, wire in enumerate(burst):  # each socket's 500 orders in one write: all queued at once
            frames = (frame(TEXT, raw(f"b{n}-{i}", "order.place", order).encode()) for i in range(500))
            wire.ws.transport.write(b"".join(frames))
        answered = await other.ok("order.place", {"sym": "BOLT", "side": "buy", "qty": 1, "price": "40.00"})
        assert answered["order"]["status"] == "new"
        assert answered["order"]["order_id"] <= 2000, "the other user's order waited behind the whole burst"
        for n, wire in enumerate(burst):
            assert all([(await wire.response(f"b{n}-{i}"))["ok"] for i in range(500)])
