"""One socket's bounded send queue and the task that drains it.

Everything sent to a client goes through its outbox, so the engine and the
fan-out never await a socket: they append encoded frames and move on. A
client that falls `stall_s` seconds behind (the oldest frame in its queue
waited that long), or whose queue grows past its bounds (messages or
bytes), is cut off with close code 4008 instead of slowing anyone else
down. Lag, not queue length, is the usual signal: a burst (say, the events
of canceling 20,000 orders) is fine as long as it drains in time, while a
reader slower than its feed is cut even though its queue still moves.

Cutting off works even when the peer reads nothing at all: the close frame
is queued past the full buffer and the connection is aborted after
CLOSE_TIMEOUT_S (see transport.py). So a non-reader holds at most its
queue bounds, plus the transport's and the kernel's buffers, for at most
stall_s + one heartbeat + CLOSE_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from starlette.websockets import WebSocket

from .transport import CUT

log = logging.getLogger(__name__)

# The close codes the server uses; docs/protocol.md explains each to clients.
CLOSE_TOKEN_EXPIRED = 4001
CLOSE_INVALID_TOKEN = 4002
CLOSE_LOGGED_OUT = 4003
CLOSE_DEADLINE = 4004
CLOSE_TOO_MANY_SOCKETS = 4005
CLOSE_SLOW_CONSUMER = 4008
CLOSE_RATE_LIMITED = 4029
CLOSE_SERVICE_RESTART = 1012
CLOSE_TIMEOUT_S = 2.0
"""How long a close may wait for the peer before the connection is aborted."""


class Outbox:
    def __init__(self, ws: WebSocket, limit: int, stall_s: float, limit_bytes: int = 1 << 62) -> None:
        self._ws = ws
        self._stall_s = stall_s
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._frames: deque[bytes] = deque()
        self._queued_at: deque[float] = deque()
        """When each queued frame was pushed (monotonic seconds), oldest first."""
        self._bytes = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        self.closed = asyncio.Event()
        """Set once the socket is closed by us, for whatever reason."""
        self.abandoned = False
        """True when a close could not get through and the socket's handler was cancelled."""
        self._owner = asyncio.current_task()
        self._writer = asyncio.create_task(self._write())
        self._closer: asyncio.Task[None] | None = None
        self._then_close: tuple[int, str] | None = None
        """Set by close_after_sent: the close that follows the frames already queued."""

    @property
    def is_open(self) -> bool:
        return not self._closing

    def push(self, frame: bytes) -> None:
        if self._closing or self._then_close is not None:
            return
        frames = self._frames
        if len(frames) >= self._limit or self._bytes + len(frame) > self._limit_bytes:
            self.close(
                CLOSE_SLOW_CONSUMER,
                f"slow consumer: more than {self._limit} messages or {self._limit_bytes} bytes queued",
            )
            return
        frames.append(frame)
        self._queued_at.append(time.monotonic())
        self._bytes += len(frame)
        self._wakeup.set()

    def check_stalled(self, now: float) -> None:
        """Cut the socket off if its oldest queued frame waited `stall_s` seconds (called periodically)."""
        if self._queued_at and now - self._queued_at[0] > self._stall_s:
            self.close(CLOSE_SLOW_CONSUMER, f"slow consumer: more than {self._stall_s:g} s behind")

    async def _write(self) -> None:
        frames, queued_at = self._frames, self._queued_at
        send = self._ws.send
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while frames:
                frame = frames.popleft()
                queued_at.popleft()
                self._bytes -= len(frame)
                await send({"type": "websocket.send", "text": frame.decode()})
            if self._then_close is not None:
                self.close(*self._then_close)
                return

    def close_after_sent(self, code: int, reason: str) -> None:
        """Close once the frames already queued are sent, so e.g. a logout's answer arrives before its close."""
        if self._closing or self._then_close is not None:
            return
        self._then_close = (code, reason)
        self._wakeup.set()

    def close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with `code`; safe to call more than once."""
        if self._closing:
            return
        self._closing = True
        self._frames.clear()
        self._queued_at.clear()
        self._bytes = 0
        self._writer.cancel()
        cut = self._ws.scope.get("extensions", {}).get(CUT)
        if cut is not None:
            cut["cut"](code, reason, CLOSE_TIMEOUT_S)
            self.closed.set()
            return
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        """Close through ASGI alone (a server without the cut extension, e.g. in unit tests)."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        try:
            await asyncio.wait_for(self._ws.close(code=code, reason=reason), CLOSE_TIMEOUT_S)
        except TimeoutError:
            # The peer reads nothing, so even the close frame cannot be sent: end the
            # socket's handler, which makes the server drop the connection.
            self.abandoned = True
            if self._owner is not None:
                self._owner.cancel()
        except Exception:  # the peer may already be gone; closing is best effort
            log.debug("close(%s) did not complete cleanly", code)
        self.closed.set()

    async def flush_and_stop(self) -> None:
        """The socket was closed by the peer: stop the writer."""
        self._closing = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._writer
        self.closed.set()
