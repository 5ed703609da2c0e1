"""When to retry a connection and when to renew a token: pure arithmetic.

Kept apart from the asyncio code so the numbers can be tested without
sleeping and changed in one place.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(attempt: int, *, initial: float, maximum: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before reconnect attempt `attempt` (0-based).

    Exponential growth capped at `maximum`, with "equal jitter": half the
    step is fixed, half random, so many clients dropped by one server
    restart do not all come back in the same instant, yet none retries
    sooner than half the step.
    """
    step = min(maximum, initial * 2.0 ** min(attempt, 32))
    return step / 2 + rng() * step / 2


def renew_delay(now_ms: int, expires_at_ms: int) -> float:
    """Seconds from now until a token should be renewed: after two thirds of its remaining life.

    The third kept in reserve leaves room for a slow renewal and for a
    retry before the server closes the sockets with 4001.
    """
    remaining = max(0, expires_at_ms - now_ms)
    return max(0.05, remaining * 2 / 3 / 1000)
