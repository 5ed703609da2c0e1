"""The garbage collector kept off the order path: what lives long is frozen, so no collection walks the market.

CPython's full collection walks every tracked object. With a market of a
few hundred thousand resting orders that is 50-250 ms in which no socket
is served (bench/journal.py's stall run measured it: the longest stalls of
a busy server were full collections that found almost nothing to free).
The order path makes next to no cyclic garbage: an order leaves its price
level with its links cleared and is freed by reference counting the
moment the engine lets go of it.

So the venue runs the collector this way (`HeapPolicy.start`):

- everything alive once the market is recovered is frozen (`gc.freeze`):
  the recovered engine, the modules, the settings are never walked again;
- every collection freezes what survived it. The collections are young
  ones, as CPython schedules them (every `YOUNG_THRESHOLD` new objects),
  and nothing older than the last collection is left unfrozen, so each
  one walks only what was made since the one before: about a thousand
  objects however fast orders come in and however large the book grows.
  Each object is walked once, then never again;
- the collector never starts a full collection by itself; instead, every
  `SETTLE_S` seconds, `settle` collects what is not frozen yet. Young
  collections start on the net count of new objects, which the death of a
  frozen one lowers: while new orders replace frozen ones the count stays
  low and the unfrozen objects pile up, and the settle bounds them by time.

The settles alone, with young collections every 5,000 objects and no
freeze after them, left everything made between two settles to the next:
a resting order leaves two objects (the order and a tuple), and at 20,000
resting orders a second a settle walked 4,000-4,500 objects in 1.7-1.8 ms
of CPU (bench/journal.py's snapshot run, a busy machine, ~450 ns an
object: each visit reaches the frozen orders beside it, out of cache),
more the faster orders came.

What it gives up: garbage cycles among objects that outlived a collection
are not collected. The venue's long-lived objects do not form such cycles
as they die (a closed connection breaks its own: sockets.py), and a
snapshot's fork freezes the heap the same way (store/snapshots.py), so the
heap stays frozen for the child's sake too.

`longest_pause_s` times every collection (a `gc.callbacks` hook), so the
loop-lag figures can say how much of a stall was the collector's; beside
it `longest_pause_cpu_s`, the same collections on the thread's CPU clock:
on a shared machine a collection's wall time counts the time other work
held the core, its CPU time only the walk itself.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

SETTLE_S = 0.1
"""Seconds between settles: a settle walks what the venue kept since the last collection, at most this long ago."""
YOUNG_THRESHOLD = 1_000
"""Allocations (less deallocations) of tracked objects between young collections (CPython's default: 700): about
the most objects one collection walks, since each freezes what it leaves."""
NO_FULL_COLLECTION = 1 << 30
"""The third threshold: young collections before CPython would start a full one on its own; never reached."""


class HeapPolicy:
    def __init__(self) -> None:
        self.longest_pause_s = 0.0
        """The longest collection since the last `take()`."""
        self.longest_pause_cpu_s = 0.0
        """The most CPU time one collection took since the last `take()`."""
        self.collections = 0
        self.settles = 0
        """Settles since start: each froze what had survived until then."""
        self._started_at = 0.0
        self._started_cpu = 0.0
        self._task: asyncio.Task[None] | None = None
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        """Freeze the heap as recovery left it and settle it every SETTLE_S seconds from now on."""
        self._saved = gc.get_threshold()
        gc.callbacks.append(self._timed)
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG_THRESHOLD, self._saved[1], NO_FULL_COLLECTION)
        self._task = asyncio.get_running_loop().create_task(self._settle_every(), name="hftsim-heap")

    def stop(self) -> None:
        """Give the collector back its own schedule (the frozen objects stay frozen)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            gc.callbacks.remove(self._timed)
            self._saved = None

    def take(self) -> tuple[float, float, int]:
        """The longest collection (wall, then CPU) and the number of collections since the last call; starts a
        new window."""
        taken = (self.longest_pause_s, self.longest_pause_cpu_s, self.collections)
        self.longest_pause_s, self.longest_pause_cpu_s, self.collections = 0.0, 0.0, 0
        return taken

    def settle(self) -> None:
        """Collect what is not frozen yet (the collection's end freezes what survived: `_timed`)."""
        gc.collect()
        self.settles += 1

    async def _settle_every(self) -> None:
        while True:
            await asyncio.sleep(SETTLE_S)
            self.settle()

    def _timed(self, phase: str, info: dict[str, Any]) -> None:
        """Time each collection, and freeze what survived it: the next one walks only what is made after."""
        if phase == "start":
            self._started_at, self._started_cpu = time.perf_counter(), time.thread_time()
            return
        gc.freeze()
        pause, cpu = time.perf_counter() - self._started_at, time.thread_time() - self._started_cpu
        self.collections += 1
        if pause > self.longest_pause_s:
            self.longest_pause_s = pause
        if cpu > self.longest_pause_cpu_s:
            self.longest_pause_cpu_s = cpu
