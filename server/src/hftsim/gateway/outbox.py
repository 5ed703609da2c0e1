"""One socket's bounded send queue and the task that drains it.

Everything sent to a client goes through its outbox, so the engine and the
fan-out never await a socket: they append encoded frames and move on. A
client whose queue stops moving for `stall_s` seconds, or grows past
`limit` messages, is cut off with close code 4008 instead of slowing anyone
else down. Stalls, not queue length, are the usual signal: a burst (say,
the events of canceling 20,000 orders) is fine as long as it drains.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from starlette.websockets import WebSocket

log = logging.getLogger(__name__)

CLOSE_TOKEN_EXPIRED = 4001
CLOSE_INVALID_TOKEN = 4002
CLOSE_SLOW_CONSUMER = 4008
CLOSE_SERVICE_RESTART = 1012
CLOSE_TIMEOUT_S = 5.0
"""How long a close may wait behind a full TCP buffer before the socket is dropped."""


class Outbox:
    def __init__(
        self, ws: WebSocket, limit: int, stall_s: float, before_send: Callable[[], None] | None = None
    ) -> None:
        self._ws = ws
        self._stall_s = stall_s
        self._waiting_since = 0.0
        """When the frame at the head of the queue started waiting (monotonic seconds)."""
        self._before_send = before_send
        """Runs before each send: the journal's group commit (cheap when nothing is pending)."""
        self._limit = limit
        self._frames: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self.closed = asyncio.Event()
        """Set once the socket is closed by us, for whatever reason."""
        self.abandoned = False
        """True when a close could not get through and the socket's handler was cancelled."""
        self._owner = asyncio.current_task()
        self._writer = asyncio.create_task(self._write())
        self._closer: asyncio.Task[None] | None = None

    @property
    def is_open(self) -> bool:
        return not self._closing

    def push(self, frame: bytes) -> None:
        if self._closing:
            return
        frames = self._frames
        if not frames:
            self._waiting_since = time.monotonic()
        elif len(frames) >= self._limit:
            self.close(CLOSE_SLOW_CONSUMER, f"slow consumer: more than {self._limit} messages queued")
            return
        frames.append(frame)
        self._wakeup.set()

    def check_stalled(self, now: float) -> None:
        """Cut the socket off if its queue has not moved for `stall_s` seconds (called periodically)."""
        if self._frames and now - self._waiting_since > self._stall_s:
            self.close(CLOSE_SLOW_CONSUMER, f"slow consumer: nothing read for {self._stall_s:g} s")

    async def _write(self) -> None:
        frames = self._frames
        send = self._ws.send
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            before_send = self._before_send
            while frames:
                if before_send is not None:
                    before_send()
                await send({"type": "websocket.send", "text": frames.popleft().decode()})
                self._waiting_since = time.monotonic()

    def close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with `code`; safe to call more than once."""
        if self._closing:
            return
        self._closing = True
        self._frames.clear()
        self._writer.cancel()
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
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
