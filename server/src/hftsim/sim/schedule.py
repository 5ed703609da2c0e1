"""When each agent next looks at each symbol: wake-ups in continuous simulated time.

Real participants do not act on a shared clock tick: each has its own
arrival times (a trader's orders, an algorithm's child orders, a maker's
periodic look) and reacts to what it sees (a print, a moved quote) after
its own latency of microseconds to milliseconds. The simulation keeps one
pending wake-up per (agent, symbol) pair in this queue, in integer
microseconds of simulated time; the earliest runs first, ties in the order
they were set, so a seed gives the same sequence every time.
"""

from __future__ import annotations

import heapq

US_PER_MS = 1_000


class Wakes:
    """A priority queue holding at most one live wake-up time per key (a later `set` replaces it)."""

    __slots__ = ("_due", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int]] = []
        self._due: dict[int, int] = {}
        """key -> its live wake-up time (µs); heap entries that disagree are stale and skipped."""
        self._seq = 0

    def set(self, key: int, t_us: int) -> None:
        """Wake `key` at `t_us` (replacing any earlier plan)."""
        if self._due.get(key) == t_us:
            return
        self._due[key] = t_us
        self._seq += 1
        heapq.heappush(self._heap, (t_us, self._seq, key))

    def earlier(self, key: int, t_us: int) -> None:
        """Wake `key` at `t_us` unless it is due sooner already (a reaction never delays a plan)."""
        due = self._due.get(key)
        if due is None or t_us < due:
            self.set(key, t_us)

    def due(self, key: int) -> int | None:
        return self._due.get(key)

    def next_us(self) -> int | None:
        """Time of the earliest live wake-up, or None when nothing is planned."""
        heap = self._heap
        while heap:
            t_us, _, key = heap[0]
            if self._due.get(key) == t_us:
                return t_us
            heapq.heappop(heap)
        return None

    def pop(self) -> tuple[int, int]:
        """Remove and return the earliest live wake-up as (time, key); call `next_us` first."""
        while True:
            t_us, _, key = heapq.heappop(self._heap)
            if self._due.get(key) == t_us:
                del self._due[key]
                return t_us, key
