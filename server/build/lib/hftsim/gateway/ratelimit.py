"""Token buckets keyed by address, user or connection: handshakes, logins and every message."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic


class RateLimiter:
    def __init__(self, burst: int, per_second: float, clock: Callable[[], float] = monotonic) -> None:
        self._burst = float(burst)
        self._rate = per_second
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 100_000:
            self._forget_full(now)
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may take a token (0 when it may now); takes nothing."""
        tokens, last = self._buckets.get(key, (self._burst, 0.0))
        tokens = min(self._burst, tokens + (self._clock() - last) * self._rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information."""
        full_after = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
