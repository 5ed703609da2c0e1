"""The WebSocket under a session: picows, whose framing is compiled (Cython).

A session's cost per request is mostly its socket's: building, masking
and parsing frames in Python would cost more than the rest of an order's
trip through the SDK. `Socket` gives a session what it needs (`send`,
`recv`, `close`, and `transport` to abort a dead link) and reports a
closed link the way the session reads it: `ConnectionClosed` with the
close frame received, if any.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSHandshakeError,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close

NO_STATUS = 1005
"""RFC 6455's code for a close frame without one."""

TEXT, BINARY, CLOSE = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CLOSE
"""The frame types, read off the enum once: a member read off its class goes through the enum metaclass's
attribute hook (about 240 ns, more than the rest of a write), and every request and every frame names one."""


class HandshakeRefused(Exception):
    """The server answered the upgrade with an HTTP error `status`."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Socket(WSListener):
    """One client WebSocket: frames queue up until the session's reader takes them."""

    def __init__(self) -> None:
        super().__init__()
        self._frames: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ws: WSTransport | None = None
        self._received: Close | None = None
        self._gone = False
        self._push: Callable[[bytes], None] | None = None

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str], open_timeout: float, max_frame: int) -> Socket:
        """Open the socket; HandshakeRefused for an HTTP error, OSError or TimeoutError when unreachable."""
        try:
            _, socket = await ws_connect(
                cls,
                url,
                extra_headers=headers,
                websocket_handshake_timeout=open_timeout,
                max_frame_size=max_frame,
                max_redirects=0,
            )
        except WSHandshakeError as exc:
            status = exc.response.status if exc.response is not None else 0
            raise HandshakeRefused(int(status)) from None
        except WSError as exc:
            raise OSError(str(exc)) from None
        assert isinstance(socket, Socket)
        return socket

    @property
    def transport(self) -> Any:
        """The TCP connection under the WebSocket."""
        return None if self._ws is None else self._ws.underlying_transport

    def push_to(self, receive: Callable[[bytes], None]) -> None:
        """Hand each frame to `receive` as it arrives, instead of queueing it for `recv`.

        A session's reader then only waits for the close: a response reaches
        its request without a hop through the reader task.
        """
        while self._frames:
            receive(self._frames.popleft())
        self._push = receive

    async def send(self, message: str | bytes) -> None:
        self.send_now(message)

    def send_now(self, message: str | bytes) -> None:
        """Write one text frame; picows never suspends to write, so neither does this (ConnectionClosed if gone)."""
        ws = self._ws
        if self._gone or ws is None or ws.is_close_frame_sent:
            raise self._closed()
        ws.send(TEXT, message)

    async def recv(self) -> bytes:
        while not self._frames:
            if self._gone:
                raise self._closed()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._frames.popleft()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        ws = self._ws
        if ws is None or self._gone:
            return
        if not ws.is_close_frame_sent:
            ws.send_close(WSCloseCode(code), reason.encode())
        await ws.wait_disconnected()

    # picows callbacks ------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._ws = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        """A frame: a message (the server's are JSON objects) goes to the session, a close ends the link.

        `frame.msg_type` makes a Python enum member of the frame's opcode
        (about 560 ns, more than the rest of this call), so a frame whose
        payload opens a JSON object is taken for the message it is without
        asking: a close frame's payload opens with its code (1000-4999, so
        a first byte of 3-19), picows answers pings itself, and this
        client sends none to be ponged. The rest is told apart by its type.
        """
        payload = frame.get_payload_as_bytes()
        if not payload.startswith(b"{"):
            kind = frame.msg_type
            if kind == CLOSE:
                self._closed_by_peer(transport, frame)
                return
            if kind != TEXT and kind != BINARY:
                return
        push = self._push
        if push is not None:
            push(payload)
        else:
            self._frames.append(payload)
            self._wake()

    def _closed_by_peer(self, transport: WSTransport, frame: WSFrame) -> None:
        """The peer's close frame: keep its code and reason for the session, answer it and let the link go."""
        code = frame.get_close_code()
        self._received = Close(NO_STATUS if code == WSCloseCode.NO_INFO else code.value, frame.get_close_reason())
        if not transport.is_close_frame_sent:
            transport.send_close(WSCloseCode.OK if code == WSCloseCode.NO_INFO else code)
        transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._gone = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _closed(self) -> ConnectionClosed:
        return ConnectionClosed(self._received, None)
