"""One socket's bounded send queue, flushed in one write per batch of commands or pass of the event loop.

Everything sent to a client goes through its outbox, so the engine and the
fan-out never wait for a socket: they append whole WebSocket frames
(`text_frame`) and move on; the fan-out builds a market-data
event's frame once and pushes the same bytes to every subscriber, so a
subscriber costs it one append. The frames a batch of the sequencer queued
leave together as it ends, joined into one write (`PassFlush`); frames
queued outside a batch leave so at the next pass. While the kernel and the
transport hold more than their high-water mark, the outbox keeps its frames
and writes nothing.

A client that falls `stall_s` seconds behind (the oldest frame in its queue
waited that long), or whose queue grows past its bounds (messages or
bytes), is cut off with close code 4008 instead of slowing anyone else
down. Lag, not queue length, is the usual signal: a burst (say, the events
of canceling 20,000 orders) is fine as long as it drains in time, while a
reader slower than its feed is cut even though its queue still moves.

Cutting off works even when the peer reads nothing at all: the close frame
is queued past the full buffer and the connection is reset after
CLOSE_TIMEOUT_S (see transport.py). So a non-reader holds at most its
queue bounds, plus the transport's and the kernel's buffers, for at most
stall_s + one heartbeat + CLOSE_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any, Final

from picows import WSTransport

from .transport import bound_send_buffer, cut

# The close codes the server uses; docs/protocol.md explains each to clients.
CLOSE_TOKEN_EXPIRED = 4001
CLOSE_INVALID_TOKEN = 4002
CLOSE_LOGGED_OUT = 4003
CLOSE_DEADLINE = 4004
CLOSE_TOO_MANY_SOCKETS = 4005
CLOSE_SLOW_CONSUMER: Final = 4008
CLOSE_RATE_LIMITED = 4029
CLOSE_SERVICE_RESTART = 1012
CLOSE_TIMEOUT_S = 2.0
"""How long a close may wait for the peer before the connection is reset."""

MD_BATCH_S = 0.001
"""How long market data gathers before it is flushed: the agents' commands of a step run one per pass, so
without it every pass cost each subscriber a system call; 1 ms merges them (server CPU per delivered event
4.75 -> 2.79 us with 500 subscribers, p50 +1 ms, p99 unchanged; bench/README.md)."""
MD_SEND_BUFFER = 64 * 1024
"""Kernel send buffer of a market-data socket (Linux doubles it): see `Outbox.bound_send_buffer`."""
BATCH_BYTES: Final = 64 * 1024
"""Frames gathered into one write: about the transport's high-water mark, so a full one pauses us at once."""


TEXT_FIN: Final = 0x81
"""First byte of an unfragmented text frame (RFC 6455 5.2): FIN, no reserved bits, opcode 1."""
_monotonic: Final = time.monotonic
_pack: Final = struct.pack
"""Read once: the compiled module would otherwise look them up on their modules per frame."""
_SHORT: Final = tuple(bytes((TEXT_FIN, n)) for n in range(126))
"""The whole header of a frame of each length under 126 bytes."""
_MEDIUM: Final = tuple(bytes((TEXT_FIN, 126, high)) for high in range(256))
_BYTE: Final = tuple(bytes((low,)) for low in range(256))
"""A frame of 126-65535 bytes: its header's first three bytes by the length's high byte, then the low byte.

Every answer and event is framed, most of them longer than 125 bytes: a `struct.pack` (a call through the
interpreter's calling convention, its format looked up) cost three times these two lookups and a concatenation."""


def text_frame(payload: bytes) -> bytes:
    """The whole WebSocket frame a server sends for `payload`: header (unmasked) and payload."""
    n = len(payload)
    if n < 126:
        return _SHORT[n] + payload
    if n < 65536:
        return _MEDIUM[n >> 8] + _BYTE[n & 255] + payload
    return _pack("!BBQ", TEXT_FIN, 127, n) + payload


class PassFlush:
    """Flushes the CMD outboxes written to: in one callback at the next pass, or at once as a batch ends.

    The sequencer holds it while it applies a batch (`hold`, `release`): the
    fills and answers the batch queued leave as it ends, in the pass that
    applied it, with no callback per socket and no further pass of the loop.
    Frames queued outside a batch (a ping's answer) leave at the next pass.
    """

    def __init__(self) -> None:
        self._boxes: list[Outbox] = []
        self._scheduled = False
        self._held = False

    def add(self, box: Outbox) -> None:
        self._boxes.append(box)
        if not self._held and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._next_pass)

    def hold(self) -> None:
        self._held = True

    def release(self) -> None:
        self._held = False
        self._run()

    def _next_pass(self) -> None:
        self._scheduled = False
        self._run()

    def _run(self) -> None:
        boxes = self._boxes
        if boxes:
            self._boxes = []
            for box in boxes:
                box.flush()


class LateFlush:
    """Flushes many outboxes in one callback, MD_BATCH_S after the first was written to.

    Market data goes through it, MD_BATCH_S after the first frame: the frames
    of a pass reach the CMD sockets (fills, then the answer) before the MD
    sockets, so a client that placed an order hears its answer before the
    book shows it, and a subscriber gets the events of several passes in one
    write.
    """

    def __init__(self) -> None:
        self._boxes: list[Outbox] = []
        self._scheduled = False

    def add(self, box: Outbox) -> None:
        self._boxes.append(box)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(MD_BATCH_S, self._run)

    def _run(self) -> None:
        self._scheduled = False
        boxes, self._boxes = self._boxes, []
        for box in boxes:
            box.flush()


class Outbox:
    def __init__(
        self,
        ws: WSTransport,
        limit: int,
        stall_s: float,
        flusher: PassFlush | LateFlush,
        limit_bytes: int = 1 << 62,
    ) -> None:
        self._ws = ws
        self._write = ws.underlying_transport.write
        self._stall_s = stall_s
        self._limit = limit
        self._limit_bytes = limit_bytes
        self._frames: list[bytes] = []
        """Lists, not deques: a join takes a list as it is, where it copies a deque into one first (and compiled, a
        list's append and clear are C calls, a deque's go through the interpreter's method lookup)."""
        self._queued_at: list[float] = []
        """When each queued frame was pushed (monotonic seconds), oldest first."""
        self._bytes = 0
        self._flush_scheduled = False
        self._paused = False
        """The transport is above its high-water mark: keep the frames until it drains."""
        self.is_open = True
        """False once `close` or `gone` ran: nothing more is sent (a plain attribute: read per message)."""
        self.closed = asyncio.Event()
        """Set once the socket is closed, by us or by the peer."""
        self._then_close: tuple[int, str] | None = None
        """Set by close_after_sent: the close that follows the frames already queued."""
        self._flusher = flusher
        """Flushes this outbox after a push: `PassFlush` (a CMD socket), or `LateFlush` (MD, after the CMD sockets)."""

    @property
    def transport(self) -> Any:
        """The connection under the WebSocket (to pause and resume reading it)."""
        return self._ws.underlying_transport

    def push(self, message: bytes) -> None:
        """Queue one message (encoded JSON) for this socket."""
        self.push_frame(text_frame(message), _monotonic())

    def push_frame(self, frame: bytes, now: float) -> None:
        """Queue a whole frame (`text_frame`), pushed at `now` (monotonic s): the fan-out shares both among sockets."""
        if not self.is_open or self._then_close is not None:
            return
        frames = self._frames
        if len(frames) >= self._limit or self._bytes + len(frame) > self._limit_bytes:
            self.close(
                CLOSE_SLOW_CONSUMER,
                f"slow consumer: more than {self._limit} messages or {self._limit_bytes} bytes queued",
            )
            return
        frames.append(frame)
        self._queued_at.append(now)
        self._bytes += len(frame)
        if not self._flush_scheduled and not self._paused:
            self._schedule()

    def _schedule(self) -> None:
        self._flush_scheduled = True
        self._flusher.add(self)

    def bound_send_buffer(self) -> None:
        """Cap the kernel's buffer for this socket (MD_SEND_BUFFER), so a non-reader's backlog waits here.

        Here the stall clock and the bounds see it: it is cut off within seconds instead of after megabytes.
        """
        bound_send_buffer(self._ws, MD_SEND_BUFFER)

    def check_stalled(self, now: float) -> None:
        """Cut the socket off if its oldest queued frame waited `stall_s` seconds (called periodically)."""
        if self._queued_at and now - self._queued_at[0] > self._stall_s:
            self.close(CLOSE_SLOW_CONSUMER, f"slow consumer: more than {self._stall_s:g} s behind")

    def flush(self) -> None:
        """Write the queued frames, joined, at most about BATCH_BYTES per write, until done or the transport is full.

        What the transport does not take stays here, where the bounds and the stall clock see it.
        """
        self._flush_scheduled = False
        frames, queued_at = self._frames, self._queued_at
        while frames and not self._paused and self.is_open:
            if self._bytes <= BATCH_BYTES:
                data = frames[0] if len(frames) == 1 else b"".join(frames)  # a lone order's answer goes as it is
                frames.clear()
                queued_at.clear()
                self._bytes = 0
            else:
                count = size = 0
                while count < len(frames) and size < BATCH_BYTES:
                    size += len(frames[count])
                    count += 1
                data = b"".join(frames[:count])
                del frames[:count]
                del queued_at[:count]
                self._bytes -= size
            self._write(data)
        if not frames and self._then_close is not None:
            self.close(*self._then_close)

    def pause(self) -> None:
        """The transport's buffer is full: queue frames here (where the bounds apply) until `resume`."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        if self._frames or self._then_close is not None:
            self.flush()

    def close_after_sent(self, code: int, reason: str) -> None:
        """Close once the frames already queued are sent, so e.g. a logout's answer arrives before its close."""
        if not self.is_open or self._then_close is not None:
            return
        self._then_close = (code, reason)
        if not self._flush_scheduled and not self._paused:
            self._schedule()

    def close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with `code`; safe to call more than once."""
        if not self.is_open:
            return
        self.is_open = False
        self._frames.clear()
        self._queued_at.clear()
        self._bytes = 0
        cut(self._ws, code, reason, CLOSE_TIMEOUT_S)
        self.closed.set()

    def gone(self) -> None:
        """The connection ended (the peer closed or went away): send nothing more."""
        self.is_open = False
        self._frames.clear()
        self._queued_at.clear()
        self.closed.set()
