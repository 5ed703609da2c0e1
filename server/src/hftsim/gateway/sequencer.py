"""The one writer: every state change passes through `Sequencer.submit`.

The gateway and the in-process agents all call `submit`, which stamps the
command with the time, applies it to the engine and hands the result to
the listeners (read models, then fan-out) before returning. asyncio runs
one callback at a time, so no lock is needed and commands are totally
ordered by the engine's sequence number.

Each command is appended to the journal before any listener sees it; the
group commit runs as the next ready callback, and every socket writer calls
`flush` before it sends, so a client never hears of a command that is not
journaled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..engine import Command, Engine, Result
from ..store.journal import Journal
from .clock import now_ms

Listener = Callable[[Result], None]


class Sequencer:
    def __init__(self, engine: Engine, journal: Journal | None = None, clock: Callable[[], int] = now_ms) -> None:
        self.engine = engine
        self.journal = journal
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

    def flush(self) -> None:
        """Commit the journal's pending group now (a no-op when there is none)."""
        if self.journal is not None:
            self.journal.commit()

    def submit(self, command: Command) -> Result:
        ts = self.now()
        result = self.engine.apply(command, ts)
        journal = self.journal
        if journal is not None and journal.append(result.seq, ts, command):
            try:
                asyncio.get_running_loop().call_soon(journal.commit)
            except RuntimeError:  # no loop yet (start-up): commit at once
                journal.commit()
        for listener in self._listeners:
            listener(result)
        return result
