"""Limits announced at login and enforced: open orders, resting volume, notional; the SDK paces
itself under the message rate; refusals count as breaches in the round's scores."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from market_client import MarketClient, ServerError

from hftsim.testing import ServerProcess, server_process

from .conftest import handshake, open_wire
from .test_frames import TEXT, frame

ADMIN = ("prof", "prof-pass-1")
LIMITS = {"max_order_qty": 95, "max_open_orders": 3, "max_active_volume": 100, "max_order_notional": "10000"}
RATE = {"burst": 5, "per_second": 20}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    config = {"limits": LIMITS, "traffic": {"per_connection": RATE, "per_user": RATE}}
    traders = {name: f"{name}-pass-1" for name in ("paced", "flooder", "trader")}
    with server_process(tmp_path_factory.mktemp("limits"), config=config, admins=dict([ADMIN]), traders=traders) as srv:
        yield srv


async def code_of(coro: Awaitable[object]) -> str:
    with pytest.raises(ServerError) as info:
        await coro
    return str(info.value.code)


async def test_limits_pacing_and_breaches(limited: ServerProcess) -> None:
    url = limited.url
    async with await MarketClient.connect(url, username=ADMIN[0], password=ADMIN[1]) as boss:
        await boss.admin.start_round("limits")
    async with (
        await MarketClient.connect(url, username="paced", password="paced-pass-1") as paced,
        await MarketClient.connect(url, username="flooder", password="flooder-pass-1", pace=False) as flooder,
    ):
        announced = paced.limits
        assert announced is not None
        assert announced["max_open_orders"] == 3 and announced["max_active_volume"] == 100
        assert announced["max_order_notional"] == "10000" and announced["messages_per_second"] == 20
        assert {"max_order_qty", "max_position", "message_burst", "breach_policy"} <= announced.keys()
        assert (await paced.send("auth.whoami"))["limits"] == announced  # a resumed session learns them too

        # Paced by default: a burst far over the limit is spread out, never refused.
        started = time.monotonic()
        answers = await asyncio.gather(*(paced.send("ping") for _ in range(30)))
        assert len(answers) == 30
        assert time.monotonic() - started >= (30 - RATE["burst"]) / RATE["per_second"]

        # Unpaced, the same burst meets the limit.
        outcomes = await asyncio.gather(*(flooder.send("ping") for _ in range(30)), return_exceptions=True)
        refused = [o for o in outcomes if isinstance(o, ServerError) and o.code == "RATE_LIMITED"]
        assert refused

    async with await MarketClient.connect(url, username="trader", password="trader-pass-1") as trader:
        for _ in range(3):
            await trader.place_order("ACME", "buy", "90.00", 1)
        assert await code_of(trader.place_order("ACME", "buy", "90.00", 1)) == "OPEN_ORDERS_LIMIT"
        await trader.cancel_all()
        await trader.place_order("ACME", "buy", "80.00", 90)
        assert await code_of(trader.place_order("ACME", "buy", "80.00", 11)) == "ACTIVE_VOLUME_LIMIT"
        await trader.cancel_all()
        assert await code_of(trader.place_order("ACME", "buy", "120.00", 90)) == "NOTIONAL_LIMIT"
        assert await code_of(trader.place_order("ACME", "buy", "80.00", 96)) == "QTY_ABOVE_MAX"

        scores = {r["username"]: r for r in (await trader.admin.round_results())["scores"]}
        assert "paced" not in scores  # no account, no breach: nothing to score
        assert scores["flooder"]["breaches"] >= len(refused)
        assert scores["trader"]["breaches"] == 4


async def test_a_pipelined_burst_never_passes_the_open_orders_or_volume_limit(tmp_path: Path) -> None:
    """Orders queued behind each other count before the engine applies them: exactly the limit rests."""
    config = {"limits": {"max_open_orders": 7, "max_active_volume": 50}}
    with server_process(tmp_path, config=config) as srv:
        token = handshake(srv.url)["token"]
        wire = await open_wire(srv.url, "/ws/cmd", token)
        await wire.ok("auth.login", {"guest": True})

        async def burst(count: int, qty: int, tag: str) -> list[dict[str, Any]]:
            """`count` resting orders in one write: all in the queues before the first is applied."""
            order = {"sym": "ACME", "side": "buy", "price": "90.00", "qty": qty}
            requests = (
                {"type": "request", "msg_id": f"{tag}{i}", "op": "order.place", "payload": order} for i in range(count)
            )
            wire.ws.transport.write(b"".join(frame(TEXT, orjson.dumps(r)) for r in requests))
            return [await wire.response(f"{tag}{i}") for i in range(count)]

        answers = await burst(40, 1, "o")
        codes = [a["error"]["code"] for a in answers if not a["ok"]]
        assert sum(a["ok"] for a in answers) == 7 and set(codes) == {"OPEN_ORDERS_LIMIT"}
        assert len((await wire.ok("orders.list"))["orders"]) == 7

        await wire.ok("order.cancel_all")
        answers = await burst(7, 9, "v")  # 5 x 9 = 45 rest; a sixth would make 54 > 50
        assert [a["ok"] for a in answers] == [True] * 5 + [False] * 2
        assert {a["error"]["code"] for a in answers[5:]} == {"ACTIVE_VOLUME_LIMIT"}
        await wire.ok("order.cancel_all")

        # Concurrent HTTP requests of one user are held to the same count.
        async with httpx.AsyncClient(base_url=srv.url, headers={"Authorization": f"Bearer {token}"}) as http:

            async def place(i: int) -> dict[str, Any]:
                payload = {"sym": "ACME", "side": "buy", "price": "90.00", "qty": 1}
                request = {"type": "request", "ver": 1, "msg_id": f"h{i}", "ts": 0, "op": "order.place"}
                response = await http.post("/api/request", json={**request, "payload": payload})
                return dict(response.json())

            answers = list(await asyncio.gather(*(place(i) for i in range(30))))
        assert sum(a["ok"] for a in answers) == 7
        assert len((await wire.ok("orders.list"))["orders"]) == 7
