"""A subscriber that stops reading is cut off; everyone else keeps their feed."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import orjson
import pytest
import websockets

from hftsim.testing import server_process

from .conftest import handshake, open_wire, ws_url


@pytest.mark.parametrize(
    "limits",
    [{"send_queue_limit": 32, "stall_s": 60}, {"send_queue_limit": 1_000_000, "stall_s": 0.5}],
    ids=["queue-limit", "stall"],
)
async def test_non_reading_subscriber_is_closed_with_4008(tmp_path: Path, limits: dict[str, float]) -> None:
    with server_process(tmp_path, config={"server": limits}) as srv:
        token = handshake(srv.url)["token"]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.port))
        slow = await websockets.connect(ws_url(srv.url, f"/ws/md?token={token}"), sock=sock, max_queue=1)
        await slow.send(
            orjson.dumps(
                {"type": "request", "msg_id": "s", "op": "md.subscribe", "payload": {"syms": ["ACME"]}}
            ).decode()
        )
        healthy = await open_wire(srv.url, "/ws/md", handshake(srv.url)["token"])
        await healthy.ok("md.subscribe", {"syms": ["ACME"]})
        trader = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        await trader.ok("auth.login", {})
        for i in range(300):  # a deep book makes every snapshot ~5 KB
            await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": f"{80 + i * 0.01:.2f}", "qty": 1})
        for i in range(2000):  # ~10 MB of answers that the slow client does not read
            await slow.send(
                orjson.dumps(
                    {"type": "request", "msg_id": f"q{i}", "op": "md.snapshot", "payload": {"sym": "ACME"}}
                ).decode()
            )
        await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": "79.00", "qty": 1})
        async with asyncio.timeout(10):  # the healthy subscriber sees every delta, up to the last one
            while (await healthy.next_event("md.delta"))["payload"]["bids"] != [["79.00", 1]]:
                pass
        await asyncio.sleep(2.5)  # past the stall limit and a heartbeat's check
        with pytest.raises(websockets.ConnectionClosed) as info:
            async with asyncio.timeout(15):
                while True:
                    await slow.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4008
        assert (await trader.ok("ping"))["ts"] > 0
        assert (await healthy.ok("md.snapshot", {"sym": "ACME"}))["bids"][0] == ["82.99", 1]
