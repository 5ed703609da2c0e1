"""Per-user command queues served round-robin: a flooder waits behind itself.

The sequencer drains commands in rounds: one command from each user that
has something waiting, then the next round. A user's own commands keep
their order (a cancel never overtakes the order it cancels), while a user
with a thousand queued commands delays another user's single command by at
most one round — one command per active user — instead of a thousand.

A hot symbol needs no queue of its own: its burst comes from some users'
queues, and every other user's order, on any symbol, is served within a
round. Keying by symbol instead would break the per-user order, which
every real venue guarantees within a session.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self, per_key_limit: int) -> None:
        if per_key_limit < 1:
            raise ValueError(f"per_key_limit must be at least 1, got {per_key_limit}")
        self.per_key_limit = per_key_limit
        self._queues: dict[Hashable, deque[T]] = {}
        self._turns: deque[Hashable] = deque()
        """Keys with something queued, in the order they are served next."""
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, key: Hashable, item: T) -> bool:
        """Queue `item` behind `key`'s earlier items; False (nothing queued) when `key` already has its limit."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._turns.append(key)
        elif len(queue) >= self.per_key_limit:
            return False
        queue.append(item)
        self._size += 1
        return True

    def pop(self, most: int) -> list[T]:
        """Up to `most` items, one per key per round, each key's items in the order they came."""
        out: list[T] = []
        turns, queues = self._turns, self._queues
        while turns and len(out) < most:
            key = turns.popleft()
            queue = queues[key]
            out.append(queue.popleft())
            if queue:
                turns.append(key)
            else:
                del queues[key]
        self._size -= len(out)
        return out

    def queued(self, key: Hashable) -> int:
        queue = self._queues.get(key)
        return len(queue) if queue is not None else 0
