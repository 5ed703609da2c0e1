"""Token buckets keyed by address, user or connection: handshakes, logins and every message."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic


class Bucket:
    """One key's tokens as of `last` (monotonic seconds): changed in place, as every message spends from two."""

    def __init__(self, tokens: float, last: float) -> None:
        self.tokens = tokens
        self.last = last


class RateLimiter:
    def __init__(self, burst: int, per_second: float, clock: Callable[[], float] = monotonic) -> None:
        self._burst = float(burst)
        self._rate = per_second
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        tokens = self.tokens(key, now)
        if tokens < 1:
            self._set(key, tokens, now)
            return False
        self.spend(key, tokens, now)
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may take a token (0 when it may now); takes nothing."""
        return self.wait(self.tokens(key, self.clock()))

    def tokens(self, key: str, now: float) -> float:
        """The tokens in `key`'s bucket at `now`; takes nothing."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return self._burst
        return min(self._burst, bucket.tokens + (now - bucket.last) * self._rate)

    def wait(self, tokens: float) -> float:
        """Seconds until a bucket holding `tokens` has one to give (0 when it has)."""
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    def spend(self, key: str, tokens: float, now: float) -> None:
        """Take one of the `tokens` (at least one, read at `now` by `tokens`) from `key`'s bucket."""
        self._set(key, tokens - 1, now)

    def _set(self, key: str, tokens: float, now: float) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = tokens
            bucket.last = now
            return
        self._buckets[key] = Bucket(tokens, now)
        if len(self._buckets) > 100_000:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information."""
        full_after = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v.last < full_after}
