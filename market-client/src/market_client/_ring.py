"""A bounded, in-memory record of the newest items (the transactions buffer).

A deque with `maxlen` already drops the oldest entry on overflow; this
wrapper adds resizing that keeps the newest entries, which a deque cannot
do in place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RingBuffer(Generic[T]):
    """Keeps the newest `capacity` items, oldest first."""

    def __init__(self, capacity: int = 1000) -> None:
        self._items: deque[T] = deque(maxlen=_check_capacity(capacity))
        self.append: Callable[[T], None] = self._items.append
        """Add an item, dropping the oldest when full: the deque's own method, no call of ours between (one per
        order's event)."""

    @property
    def capacity(self) -> int:
        maxlen = self._items.maxlen
        assert maxlen is not None
        return maxlen

    def __len__(self) -> int:
        return len(self._items)

    def resize(self, capacity: int) -> None:
        """Change the capacity; when shrinking, the newest items survive."""
        self._items = deque(self._items, maxlen=_check_capacity(capacity))
        self.append = self._items.append

    def items(self, limit: int | None = None) -> list[T]:
        """The newest `limit` items (all when None), oldest first."""
        if limit is None:
            return list(self._items)
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if limit == 0:
            return []
        return list(self._items)[-limit:]

    def clear(self) -> None:
        self._items.clear()


def _check_capacity(capacity: int) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"capacity must be a positive int, got {capacity!r}")
    return capacity
