"""A subscriber that stops reading is cut off; everyone else keeps their feed."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

import orjson
import pytest
import websockets

from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, handshake, login, open_wire, ws_url

TCP_ESTABLISHED = 1
TCP_CLOSE = 7


def tcp_state(sock: socket.socket) -> int:
    """The kernel's state of our end of the connection (tcp_info.tcpi_state).

    Once the server's reset reaches the client library, the library closes
    the socket: then there is no state to read, and the connection is closed.
    """
    if sock.fileno() == -1:
        return TCP_CLOSE
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)
    except OSError:  # closed between the check and the read
        return TCP_CLOSE
    return int(struct.unpack("B", info)[0])


async def deep_book_and_slow_subscriber(
    srv: ServerProcess,
) -> tuple[socket.socket, websockets.ClientConnection, Wire]:
    """A book whose snapshot is ~5 KB, a subscriber that reads (almost) nothing, and a trader."""
    trader = await login(srv.url)
    for i in range(300):
        await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": f"{80 + i * 0.01:.2f}", "qty": 1})
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    token = handshake(srv.url)["token"]
    slow = await websockets.connect(ws_url(srv.url, f"/ws/md?token={token}"), sock=sock, max_queue=1)
    request = {"type": "request", "msg_id": "s", "op": "md.subscribe", "payload": {"syms": ["ACME"]}}
    await slow.send(orjson.dumps(request).decode())
    for i in range(2000):  # ~10 MB of answers that the slow client does not read
        request = {"type": "request", "msg_id": f"q{i}", "op": "md.snapshot", "payload": {"sym": "ACME"}}
        await slow.send(orjson.dumps(request).decode())
    return sock, slow, trader


async def test_non_reader_is_cut_off_within_stall_and_close_timeout(tmp_path: Path) -> None:
    stall_s = 0.5
    with server_process(tmp_path, config={"server": {"stall_s": stall_s, "heartbeat_ms": 200}}) as srv:
        healthy = await open_wire(srv.url, "/ws/md", handshake(srv.url)["token"])
        await healthy.ok("md.subscribe", {"syms": ["ACME"]})
        sock, slow, trader = await deep_book_and_slow_subscriber(srv)
        flooded = time.monotonic()
        await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": "79.00", "qty": 1})
        async with asyncio.timeout(10):  # the healthy subscriber sees every delta, up to the last one
            while (await healthy.next_event("md.delta"))["payload"]["bids"] != [["79.00", 1]]:
                pass
        # The slow client never reads, so it cannot see a close frame: the server must abort the
        # connection (RST), which our kernel reports as a state change of the socket.
        async with asyncio.timeout(20):
            while tcp_state(sock) == TCP_ESTABLISHED:  # noqa: ASYNC110 - a kernel state, no event to await
                await asyncio.sleep(0.05)
        cut_after = time.monotonic() - flooded
        assert cut_after < stall_s + 0.2 + 2.0 + 5.0, cut_after  # stall + heartbeat + close timeout + slack
        assert (await trader.ok("ping"))["ts"] > 0
        assert (await healthy.ok("md.snapshot", {"sym": "ACME"}))["bids"][0] == ["82.99", 1]
        slow.transport.abort()


async def test_burst_beyond_the_queue_limit_closes_with_4008(tmp_path: Path) -> None:
    """A burst bigger than the queue bound in one go: the reader is told why with 4008 before the cut."""
    with server_process(tmp_path, config={"server": {"send_queue_limit": 32, "stall_s": 60}}) as srv:
        trader = await login(srv.url)
        for i in range(100):
            await trader.ok("order.place", {"sym": "ACME", "side": "buy", "price": f"{80 + i * 0.01:.2f}", "qty": 1})
        other = await login(srv.url)
        with pytest.raises(websockets.ConnectionClosed) as info:
            await trader.request("order.cancel_all")  # 100 order.canceled events queued at once
        assert info.value.rcvd is not None and info.value.rcvd.code == 4008
        assert "slow consumer" in info.value.rcvd.reason
        assert (await other.ok("ping"))["ts"] > 0
