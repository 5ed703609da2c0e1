"""One causal timeline: the CMD and MD streams merged into the order the engine made them.

Every private event and every sequenced MD event carries its place in the
engine's one order (docs/protocol.md, "Engine order"): `gseq`, the global
sequence number of the command that made it, and `gidx`, its index among
that command's events. Each socket delivers its own events in that order,
but the two sockets are separate: a fill on CMD and the trade it made on
MD may arrive either way round. `CausalMerge` (no I/O) holds each event
until nothing earlier can still come:

- from the other socket: it has already delivered a later event;
- from CMD's answers: a place, amend or cancel in flight stands for an
  event (`order.accepted`, ...) the answer brings, placed after anything
  seen before the request was sent, so later events wait for that answer;
- or, at the latest, `lateness` seconds after the event arrived (the
  other socket may simply have nothing to say).

An event seen twice (a duplicated frame, a resend) is yielded once. An
event that comes after a later one was already yielded (later than
`lateness`) is still yielded, and counted in `late`. Events lost to an MD
gap are not in the timeline: the book resyncs from a snapshot instead.
`Timeline` is the asyncio iterator over one merge.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from ._envelope import JSON

Key = tuple[int, int]
"""(gseq, gidx): an event's place in the engine's order."""
BEFORE_ALL: Key = (-1, -1)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event in engine order: `sock` says where it came from ("cmd": private, "md": public)."""

    gseq: int
    gidx: int
    sock: str
    op: str
    payload: JSON = field(repr=False)


class CausalMerge:
    """Orders the events of both sockets by (gseq, gidx), releasing each once nothing earlier can arrive."""

    def __init__(self, lateness: float, remember: int = 100_000) -> None:
        self.lateness = lateness
        self.late = 0
        """Events yielded after a later one (they came more than `lateness` late)."""
        self.duplicates = 0
        """Events seen again and dropped."""
        self._heap: list[tuple[Key, int, float, TimelineEvent]] = []
        self._order = itertools.count()
        self._newest: dict[str, Key] = {"cmd": BEFORE_ALL, "md": BEFORE_ALL}
        self._released = BEFORE_ALL
        self._seen: set[Key] = set()
        self._seen_order: deque[Key] = deque()
        self._remember = remember
        self._answers: dict[str, Key] = {}
        """Order requests in flight: msg_id -> the newest place seen when it was sent (its event comes after)."""

    def push(self, sock: str, op: str, payload: Mapping[str, Any], now: float) -> bool:
        """Take one event; False when it has no place (no gseq/gidx) or was seen before."""
        gseq, gidx = payload.get("gseq"), payload.get("gidx")
        if not isinstance(gseq, int) or not isinstance(gidx, int):
            return False
        key = (gseq, gidx)
        if key in self._seen:
            self.duplicates += 1
            return False
        self._remember_key(key)
        if key > self._newest[sock]:
            self._newest[sock] = key
        event = TimelineEvent(gseq, gidx, sock, op, dict(payload))
        heapq.heappush(self._heap, (key, next(self._order), now, event))
        return True

    def request_sent(self, msg_id: str) -> None:
        """A place, amend or cancel went out on CMD: its answer will bring an event later than all seen so far."""
        self._answers[msg_id] = max(self._newest.values())

    def request_done(self, msg_id: str) -> None:
        """The request was answered (its event pushed), refused or lost."""
        self._answers.pop(msg_id, None)

    def pop_ready(self, now: float) -> list[TimelineEvent]:
        """The events that may be released now, in engine order."""
        ready: list[TimelineEvent] = []
        floor = min(self._answers.values(), default=None)
        while self._heap:
            key, _, arrived, event = self._heap[0]
            other = "md" if event.sock == "cmd" else "cmd"
            safe = key < self._newest[other] and (floor is None or key <= floor)
            if not safe and now - arrived < self.lateness:
                break
            heapq.heappop(self._heap)
            if key < self._released:
                self.late += 1
            else:
                self._released = key
            ready.append(event)
        return ready

    def next_due(self) -> float | None:
        """When the oldest held event is released at the latest (None: nothing held)."""
        if not self._heap:
            return None
        return self._heap[0][2] + self.lateness

    def _remember_key(self, key: Key) -> None:
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > self._remember:
            self._seen.discard(self._seen_order.popleft())


class Timeline:
    """`async for event in client.timeline():` the client's CMD and MD events in engine order.

    Also an async context manager; `close()` (or leaving the `async with`)
    stops it, and so does closing the client.
    """

    def __init__(self, lateness: float, on_close: Callable[[Timeline], None]) -> None:
        self.merge = CausalMerge(lateness)
        self._wake = asyncio.Event()
        self._ready: deque[TimelineEvent] = deque()
        self._on_close = on_close
        self.closed = False

    @property
    def late(self) -> int:
        """Events that came after a later one had been yielded (see the module docstring)."""
        return self.merge.late

    @property
    def duplicates(self) -> int:
        """Events seen twice and yielded once."""
        return self.merge.duplicates

    def push(self, sock: str, op: str, payload: Mapping[str, Any]) -> None:
        """An event arrived on `sock` (the client calls this)."""
        if self.merge.push(sock, op, payload, time.monotonic()):
            self._wake.set()

    def request_sent(self, msg_id: str) -> None:
        self.merge.request_sent(msg_id)

    def request_done(self, msg_id: str) -> None:
        self.merge.request_done(msg_id)
        self._wake.set()

    def close(self) -> None:
        """Stop: the iteration ends once the events already released are taken."""
        if not self.closed:
            self.closed = True
            self._on_close(self)
            self._wake.set()

    def __aiter__(self) -> Timeline:
        return self

    async def __anext__(self) -> TimelineEvent:
        while not self._ready:
            if self.closed:
                raise StopAsyncIteration
            self._ready.extend(self.merge.pop_ready(time.monotonic()))
            if self._ready:
                break
            due = self.merge.next_due()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), None if due is None else max(0.0, due - time.monotonic()))
            except TimeoutError:
                pass
        return self._ready.popleft()

    async def __aenter__(self) -> Timeline:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
