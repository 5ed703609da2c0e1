"""Wall-clock milliseconds: the gateway's only clock (the engine has none); compiled with the order path, which
reads it several times per order."""

import time
from typing import Final

_time_ns: Final = time.time_ns
"""Read once: the compiled module would otherwise look it up on the `time` module on every reading."""


def now_ms() -> int:
    return _time_ns() // 1_000_000


class Clock:
    """A sequencer's milliseconds, never going backwards even if the wall clock does: what its commands are
    applied at, and what the answers of its sockets say (`ts`).

    A compiled class, so a socket that keeps its sequencer's clock reads it with a C call: through the
    sequencer's bound method (a sequencer is one of two classes) a reading cost about 1k instructions, once per
    order's answer.
    """

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        ts = _time_ns() // 1_000_000
        if ts < self._last:
            return self._last
        self._last = ts
        return ts
