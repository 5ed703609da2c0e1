"""Lean benchmark clients: the least a client can do, so a figure measures the server.

`LeanWs` is a picows client, `LeanTcp` a length-prefixed TCP client; both
parse every frame they get with orjson (as any client must) and resolve the
waiter of a response by its `corr_id`. The same client drives the gateway
and the echo servers of `bench/echo_server.py`, so the ratios compare
servers, not clients.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

OnResponse = Callable[[dict[str, Any]], None]


class Lean:
    """What both clients share: frames in, responses matched by corr_id."""

    def __init__(self) -> None:
        self.frames = 0
        self.on_response: OnResponse | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    def received(self, data: bytes) -> None:
        self.frames += 1
        msg = orjson.loads(data)
        if msg.get("type") != "response":
            return
        waiter = self._waiting.pop(msg.get("corr_id"), None)
        if waiter is not None:
            waiter.set_result(msg)
        if self.on_response is not None:
            self.on_response(msg)

    def expect(self, msg_id: str) -> asyncio.Future[dict[str, Any]]:
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = waiter
        return waiter

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    async def ask(self, data: bytes, msg_id: str) -> dict[str, Any]:
        waiter = self.expect(msg_id)
        self.send(data)
        return await waiter

    async def close(self) -> None:
        raise NotImplementedError


class _Listener(WSListener):
    def __init__(self, lean: LeanWs) -> None:
        super().__init__()
        self._lean = lean

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self._lean.received(frame.get_payload_as_bytes())


class LeanWs(Lean):
    def __init__(self) -> None:
        super().__init__()
        self._ws: WSTransport | None = None

    @classmethod
    async def open(cls, url: str, token: str | None = None) -> LeanWs:
        lean = cls()
        headers = {"Authorization": f"Bearer {token}"} if token else None
        lean._ws, _ = await ws_connect(lambda: _Listener(lean), url, extra_headers=headers, max_frame_size=2**26)
        return lean

    def send(self, data: bytes) -> None:
        assert self._ws is not None
        self._ws.send(WSMsgType.TEXT, data)

    async def close(self) -> None:
        if self._ws is not None:
            self._ws.send_close(WSCloseCode.OK)
            self._ws.disconnect()
            await self._ws.wait_disconnected()


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, lean: LeanTcp) -> None:
        self._lean = lean
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            n = int.from_bytes(buffer[:4], "big")
            if len(buffer) < 4 + n:
                break
            message = bytes(buffer[4 : 4 + n])
            del buffer[: 4 + n]
            self._lean.received(message)


class LeanTcp(Lean):
    def __init__(self) -> None:
        super().__init__()
        self._transport: asyncio.Transport | None = None

    @classmethod
    async def open(cls, port: int) -> LeanTcp:
        lean = cls()
        transport, _ = await asyncio.get_running_loop().create_connection(lambda: _TcpProtocol(lean), "127.0.0.1", port)
        lean._transport = transport
        return lean

    def send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(len(data).to_bytes(4, "big") + data)

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
