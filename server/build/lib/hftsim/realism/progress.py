"""A one-line progress bar on stderr for long offline runs (plain lines when not on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class ProgressBar:
    def __init__(self, total: float, unit: str = "simulated min", *, stream: TextIO | None = None) -> None:
        """`total` is the amount of work (e.g. simulated seconds over all runs)."""
        self.total = max(total, 1e-9)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.perf_counter()
        self.done = 0.0
        self.label = ""
        self._shown = -1

    def advance(self, amount: float, label: str | None = None) -> None:
        self.done = min(self.total, self.done + amount)
        if label is not None:
            self.label = label
        self._draw()

    def _draw(self) -> None:
        share = self.done / self.total
        step = int(share * 100) if self.tty else int(share * 10) * 10
        if step == self._shown:
            return
        self._shown = step
        elapsed = time.perf_counter() - self.started
        eta = elapsed / share - elapsed if share > 0 else 0.0
        filled = int(WIDTH * share)
        bar = "#" * filled + "-" * (WIDTH - filled)
        text = f"[{bar}] {100 * share:3.0f}%  {self.label}  {elapsed:.0f} s, ~{eta:.0f} s left"
        if self.tty:
            self.stream.write("\r" + text.ljust(100))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
