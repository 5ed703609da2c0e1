"""SIGKILL at random points of an order stream: every acknowledged order survives, no id is reused."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import orjson
import pytest

from hftsim.testing import server_process

from .conftest import login

ORDERS = 300


def order(i: int) -> bytes:
    payload = {"sym": "ACME", "side": "buy", "qty": 1, "price": f"{91 + i % 100 / 100:.2f}"}
    return orjson.dumps({"type": "request", "ver": 1, "msg_id": f"o{i}", "op": "order.place", "payload": payload})


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_crash_at_a_random_point_keeps_every_acknowledged_order(tmp_path: Path, seed: int) -> None:
    kill_after = random.Random(seed).randrange(1, ORDERS)
    with server_process(tmp_path, bots=True) as srv:  # the agents write to the journal too
        srv.add_user("alice", "pw-alice")
        alice = await login(srv.url, username="alice", password="pw-alice")
        await asyncio.gather(*(alice.ws.send(order(i)) for i in range(ORDERS)))
        acked: set[int] = set()
        async with asyncio.timeout(60):
            while len(acked) < kill_after:
                msg = orjson.loads(await alice.ws.recv())
                if msg["type"] == "response":
                    assert msg["ok"], msg
                    acked.add(msg["payload"]["order"]["order_id"])
        srv.kill()  # the rest of the stream is in flight: in the engine, the journal or the socket
        srv.start()
        alice = await login(srv.url, username="alice", password="pw-alice")
        live = {o["order_id"] for o in (await alice.ok("orders.list"))["orders"]}
        filled = {f["order_id"] for f in (await alice.ok("fills.list"))["fills"]}
        assert acked <= live | filled
        placed = await alice.ok("order.place", {"sym": "ACME", "side": "buy", "qty": 1, "price": "90.00"})
        assert placed["order"]["order_id"] > max(live | filled)
    assert "Traceback" not in srv.log()
