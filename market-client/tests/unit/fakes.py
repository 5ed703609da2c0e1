"""An in-memory connection: the seam RequestSession is tested through, no sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close


class FakeConnection:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._incoming: asyncio.Queue[str | Close] = asyncio.Queue()
        self._sent_event = asyncio.Event()

    async def send(self, message: str | bytes) -> None:
        self.sent.append(orjson.loads(message))
        self._sent_event.set()

    async def recv(self) -> str | bytes:
        item = await self._incoming.get()
        if isinstance(item, Close):
            raise ConnectionClosed(item, None)
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._incoming.put_nowait(Close(code, reason))

    # -- test side ---------------------------------------------------------

    def push(self, message: dict[str, Any] | str) -> None:
        self._incoming.put_nowait(message if isinstance(message, str) else orjson.dumps(message).decode())

    def drop(self, code: int, reason: str = "") -> None:
        self._incoming.put_nowait(Close(code, reason))

    async def next_sent(self, count: int = 1) -> list[dict[str, Any]]:
        while len(self.sent) < count:
            self._sent_event.clear()
            await self._sent_event.wait()
        return self.sent[:count]

    def respond(self, request: dict[str, Any], payload: dict[str, Any] | None = None, error: str | None = None) -> None:
        message: dict[str, Any] = {
            "type": "response",
            "ver": 1,
            "msg_id": "s",
            "ts": 1,
            "op": request["op"],
            "corr_id": request["msg_id"],
            "ok": error is None,
            "payload": payload or {},
        }
        if error is not None:
            message["error"] = {"code": error, "message": f"{error} message"}
        self.push(message)


class DirectConnection(FakeConnection):
    """A socket that writes without suspending, as picows does: the session calls `send_now`, not `send`."""

    def send_now(self, message: str | bytes) -> None:
        self.sent.append(orjson.loads(message))
        self._sent_event.set()
