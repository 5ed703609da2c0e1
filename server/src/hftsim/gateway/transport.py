"""The hot sockets' transport: picows frames, written in batches, and a way to cut off a peer.

uvicorn keeps serving HTTP (FastAPI) on the one port; when a request asks
for a WebSocket, `hand_over` gives the connection, with the request's bytes,
to picows (Cython framing, no ASGI in between), so /ws/cmd and /ws/md keep
their URLs. picows negotiates no extension, so nothing is compressed.

`Corked` sits between picows and the asyncio transport: while an outbox
flushes, every frame picows builds is gathered and the lot leaves in one
write, so a pass of the event loop costs each socket one system call
however many events it carries.

`cut` closes a socket even when its peer stopped reading: the close frame
is queued behind the full buffer (a peer that does read sees the close code
after the data it was sent), and the connection is reset if the peer has
not closed within the timeout.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any

from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSListener,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponseWithListener,
)
from picows.picows import WSProtocol  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0
READ_BUFFER = 16 * 1024

ListenerFactory = Callable[[WSUpgradeRequest], WSListener | WSUpgradeResponseWithListener | None]


class Corked:
    """The asyncio transport as picows sees it: frames written between `cork` and `flush` leave in one write."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._parts: list[bytes] = []
        self._corked = False

    def cork(self) -> None:
        self._corked = True

    def flush(self) -> None:
        self._corked = False
        parts = self._parts
        if parts:
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            parts.clear()
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        # Never 0 while corked: picows then hands each frame to write() instead of sending it itself.
        return self._transport.get_write_buffer_size() + self._corked

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._corked:
            self._parts.append(bytes(data))
        else:
            self._transport.write(data)

    def writelines(self, parts: list[Any]) -> None:
        for part in parts:
            self.write(part)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._parts.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def hand_over(transport: asyncio.Transport, request: bytes, factory: ListenerFactory, max_frame: int) -> None:
    """Serve an upgrade request uvicorn has read (`request`, head included) with picows on its connection."""
    protocol = WSProtocol(
        None,
        None,
        False,  # server side
        factory,
        logging.getLogger("picows.server"),
        True,  # an exception in a listener closes its socket (1011)
        HANDSHAKE_TIMEOUT_S,
        False,  # the server pings nobody: heartbeats and deadlines cover idle peers
        20.0,
        20.0,
        WSAutoPingStrategy.PING_WHEN_IDLE,
        True,  # answer pings
        max_frame,
        None,
        READ_BUFFER,
    )
    transport.set_protocol(protocol)
    protocol.connection_made(Corked(transport))
    buffer = protocol.get_buffer(len(request))
    buffer[: len(request)] = request
    protocol.buffer_updated(len(request))


def cut(ws: WSTransport, code: int, reason: str, timeout: float) -> None:
    """Send a close frame past any backlog, then reset the connection unless the peer closes within `timeout`."""
    if ws.is_disconnected:
        return
    raw = ws.underlying_transport
    if isinstance(raw, Corked):
        raw.flush()
    if not ws.is_close_frame_sent:
        ws.send_close(WSCloseCode(code), reason.encode()[:120])
    asyncio.get_running_loop().call_later(timeout, abort, ws)


def abort(ws: WSTransport) -> None:
    """Reset the connection: with linger 0 the kernel drops its unsent data and sends RST.

    A plain close would leave the kernel trying to deliver that data to a
    peer whose window is shut, keeping the connection alive for minutes.
    """
    if ws.is_disconnected:
        return
    sock = ws.underlying_transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.underlying_transport.abort()
