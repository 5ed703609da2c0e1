"""The hot sockets' transport: picows reads, our frames written in batches, and a way to cut off a peer.

uvicorn keeps serving HTTP (FastAPI) on the one port; when a request asks
for a WebSocket, `hand_over` gives the connection, with the request's bytes,
to picows (Cython framing, no ASGI in between), so /ws/cmd and /ws/md keep
their URLs. picows negotiates no extension, so nothing is compressed.

What the server sends goes out as frames built by `outbox.text_frame`, once
per message: a server's frames are unmasked, so a market-data event's frame is
the same bytes for every subscriber, built once and shared. An outbox joins
the frames of one pass of the event loop and writes them with one system
call (outbox.py); picows itself writes only control frames (pongs, closes).

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
from typing import Protocol

from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSFrame,
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


class Peer(Protocol):
    """What serves one socket's picows callbacks (sockets.py's `Connection`)."""

    def on_ws_connected(self, transport: WSTransport) -> None: ...

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None: ...

    def on_ws_disconnected(self, transport: WSTransport) -> None: ...

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...


CALLBACKS = ("on_ws_connected", "on_ws_frame", "on_ws_disconnected", "pause_writing", "resume_writing")
"""The callbacks of `Peer`, which a `Listener` takes from it."""


class Listener(WSListener):
    """The picows listener of one socket: its callbacks are its `Peer`'s.

    The peer is compiled with the rest of the order path (mypyc), and a
    compiled class cannot extend picows' own compiled listener class, so this
    plain one stands between them. It holds the peer's bound methods as its
    own attributes: picows looks each callback up on the listener and calls
    what it finds, so a frame reaches the compiled peer directly, without a
    Python frame of this class in between.
    """

    def __init__(self, peer: Peer) -> None:
        super().__init__()
        for name in CALLBACKS:
            setattr(self, name, getattr(peer, name))


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
    protocol.connection_made(transport)
    buffer = protocol.get_buffer(len(request))
    buffer[: len(request)] = request
    protocol.buffer_updated(len(request))


def bound_send_buffer(ws: WSTransport, size: int) -> None:
    """Cap the kernel's send buffer of the connection, so a peer that stops reading shows in its outbox soon.

    Left alone, Linux grows it up to `net.ipv4.tcp_wmem` (4 MB here): at the
    default market rate a non-reader's 45 s of feed fit in the kernel, the
    outbox never stood still, and nobody was cut off.
    """
    sock = ws.underlying_transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


def cut(ws: WSTransport, code: int, reason: str, timeout: float) -> None:
    """Send a close frame past any backlog, then reset the connection unless the peer closes within `timeout`."""
    if ws.is_disconnected:
        return
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
