"""How long the event loop was kept from running callbacks: the stall every client feels at once.

One timer wakes every `INTERVAL_S`; whatever it wakes late by is time the
loop spent in one callback (a snapshot, a long drain, a GC pass) while every
socket waited. The longest lateness since the last `take()` is kept, and a
stall above `WARN_S` logs a warning so an operator sees it without a bench.

A stall's length alone does not say what to fix, so each wake-up also reads
the loop thread's own resource usage (`getrusage(RUSAGE_THREAD)`, a few
microseconds) and the longest stall keeps what the thread did meanwhile
(`Stall`): CPU time in Python and in the kernel (work on the loop: a large
batch, a collection, page faults), page faults (copy-on-write after a
snapshot's fork), and the time it was off the CPU, split by why: it blocked
(voluntary switches: a write held by the kernel's dirty-page throttling, a
lock) or it was preempted (other work took the core).

On a machine shared with other work the longest stall is mostly the time
other processes held the core, which no change to the server moves. So
each stall's part on the CPU is kept too (`longest_on_cpu_s`): the stall
less the time the loop thread was off the CPU in that interval, i.e. the
stall the server's own work would have made on a core of its own. That
part is figured from the thread's CPU clock (`time.thread_time`), which
counts to the moment it is read; `getrusage` counts a running thread's
time as of the scheduler's last tick or switch. The stall with the
longest part on the CPU keeps its own breakdown (`longest_on_cpu`): the
wall-clock longest is nearly always another process's doing, this one
the server's.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import asdict, dataclass, field

log = logging.getLogger(__name__)

INTERVAL_S = 0.005
WARN_S = 0.25
COUNT_OVER_S = 0.005
"""Stalls longer than this are counted (`over`): the tails target's bound."""


@dataclass(slots=True, frozen=True)
class Stall:
    """One stall and what the loop thread did during it (from the wake-up before it to the one after)."""

    ms: float
    on_cpu_ms: float
    """The stall less the time the thread was off the CPU: the part the server's own work made."""
    user_ms: float
    """CPU time in user mode: Python work on the loop (this and `system_ms` split as the kernel's ticks saw it)."""
    system_ms: float
    """CPU time in the kernel for the loop thread: syscalls, page faults."""
    off_cpu_ms: float
    """Wall time the thread was not running: blocked or waiting for a core."""
    minor_faults: int
    major_faults: int
    blocked: int
    """Voluntary context switches: the thread waited on something (I/O, a lock, an idle poll)."""
    preempted: int
    """Involuntary context switches: the scheduler gave the core to other work."""

    def figures(self) -> dict[str, float | int]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(slots=True)
class LoopLag:
    longest_s: float = 0.0
    """The longest stall since the last `take()`."""
    samples: int = 0
    over: int = 0
    """Stalls longer than `COUNT_OVER_S` since the last `take()`."""
    longest: Stall | None = None
    """What the loop thread did during the longest stall since the last `take()`."""
    longest_on_cpu_s: float = 0.0
    """The longest stall's part on the CPU since the last `take()`, over every stall (not only the longest)."""
    longest_on_cpu: Stall | None = None
    """What the loop thread did during the stall of `longest_on_cpu_s`."""
    _usage: resource.struct_rusage | None = field(default=None, repr=False)
    _cpu: float = field(default=0.0, repr=False)
    """The thread's CPU clock at the last wake-up."""

    def take(self) -> tuple[float, int]:
        """The longest stall and the number of wake-ups since the last call; starts a new window."""
        taken = (self.longest_s, self.samples)
        self.longest_s, self.samples, self.over, self.longest = 0.0, 0, 0, None
        self.longest_on_cpu_s, self.longest_on_cpu = 0.0, None
        return taken

    async def watch(self) -> None:
        clock = time.perf_counter  # the loop's own clock counts whole milliseconds under uvloop
        cpu_clock = time.thread_time
        usage = resource.getrusage
        thread = resource.RUSAGE_THREAD
        before, self._cpu, self._usage = clock(), cpu_clock(), usage(thread)
        while True:
            await asyncio.sleep(INTERVAL_S)
            woke, cpu, after = clock(), cpu_clock(), usage(thread)
            elapsed = woke - before
            stall = max(0.0, elapsed - INTERVAL_S)
            self.samples += 1
            if stall > 0.0:
                self._count(stall, elapsed, cpu - self._cpu, after)
            before, self._cpu, self._usage = woke, cpu, after

    def _count(self, stall: float, elapsed: float, cpu: float, after: resource.struct_rusage) -> None:
        if stall > COUNT_OVER_S:
            self.over += 1
        on_cpu = max(0.0, stall - max(0.0, elapsed - cpu))  # the stall less the time off the CPU
        if stall > self.longest_s:
            self.longest_s = stall
            self.longest = self._explain(stall, on_cpu, elapsed, cpu, after)
        if on_cpu > self.longest_on_cpu_s:
            self.longest_on_cpu_s = on_cpu
            self.longest_on_cpu = self._explain(stall, on_cpu, elapsed, cpu, after)
        if stall > WARN_S:
            log.warning("the event loop stalled for %.0f ms: every client waited that long", stall * 1000)

    def _explain(self, stall: float, on_cpu: float, elapsed: float, cpu: float, after: resource.struct_rusage) -> Stall:
        before = self._usage
        assert before is not None
        user = after.ru_utime - before.ru_utime
        system = after.ru_stime - before.ru_stime
        return Stall(
            ms=stall * 1000,
            on_cpu_ms=on_cpu * 1000,
            user_ms=user * 1000,
            system_ms=system * 1000,
            off_cpu_ms=max(0.0, elapsed - cpu) * 1000,
            minor_faults=after.ru_minflt - before.ru_minflt,
            major_faults=after.ru_majflt - before.ru_majflt,
            blocked=after.ru_nvcsw - before.ru_nvcsw,
            preempted=after.ru_nivcsw - before.ru_nivcsw,
        )
