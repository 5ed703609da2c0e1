"""The one writer: every state change passes through `Sequencer.submit`.

The gateway and the in-process agents all call `submit`, which stamps the
command with the time, applies it to the engine and hands the result to
the listeners (read models, then fan-out) before returning. asyncio runs
one callback at a time, so no lock is needed and commands are totally
ordered by the engine's sequence number.
"""

from __future__ import annotations

from collections.abc import Callable

from ..engine import Command, Engine, Result
from .clock import now_ms

Listener = Callable[[Result], None]


class Sequencer:
    def __init__(self, engine: Engine, clock: Callable[[], int] = now_ms) -> None:
        self.engine = engine
        self._clock = clock
        self._last_ts = 0
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def now(self) -> int:
        """Milliseconds, never going backwards even if the wall clock does."""
        ts = self._clock()
        if ts < self._last_ts:
            ts = self._last_ts
        self._last_ts = ts
        return ts

    def submit(self, command: Command) -> Result:
        result = self.engine.apply(command, self.now())
        for listener in self._listeners:
            listener(result)
        return result
