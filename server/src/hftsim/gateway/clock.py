"""Wall-clock milliseconds: the gateway's only clock (the engine has none); compiled with the order path, which
reads it several times per order."""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
