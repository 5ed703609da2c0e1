"""How long the event loop was kept from running callbacks: the stall every client feels at once.

One timer wakes every `INTERVAL_S`; whatever it wakes late by is time the
loop spent in one callback (a snapshot, a long drain, a GC pass) while every
socket waited. The longest lateness since the last `take()` is kept, and a
stall above `WARN_S` logs a warning so an operator sees it without a bench.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

INTERVAL_S = 0.005
WARN_S = 0.25


@dataclass(slots=True)
class LoopLag:
    longest_s: float = 0.0
    """The longest stall since the last `take()`."""
    samples: int = 0

    def take(self) -> tuple[float, int]:
        """The longest stall and the number of wake-ups since the last call; starts a new window."""
        taken = (self.longest_s, self.samples)
        self.longest_s, self.samples = 0.0, 0
        return taken

    async def watch(self) -> None:
        clock = time.perf_counter  # the loop's own clock counts whole milliseconds under uvloop
        while True:
            before = clock()
            await asyncio.sleep(INTERVAL_S)
            stall = max(0.0, clock() - before - INTERVAL_S)
            self.samples += 1
            if stall > self.longest_s:
                self.longest_s = stall
            if stall > WARN_S:
                log.warning("the event loop stalled for %.0f ms: every client waited that long", stall * 1000)
