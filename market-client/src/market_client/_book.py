"""One symbol's order book as MD describes it: price level -> total quantity.

Levels are keyed by Decimal so "100.1" and "100.10" are the same level;
the string the server first sent for a level is what we hand back (a
Decimal keeps its exponent, so str() reproduces it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

Level = list[Any]
"""[price: str, qty: int], the wire's shape for a level."""


class OrderBook:
    """Levels of one symbol plus the MD sequence number they reflect."""

    def __init__(self, sym: str) -> None:
        self.sym = sym
        self.seq = 0
        self.gseq: int | None = None
        """The engine order (`gseq`) of the newest delta applied; None after a snapshot, which carries none."""
        self.status: str | None = None
        self._bids: dict[Decimal, int] = {}
        self._asks: dict[Decimal, int] = {}

    def load(self, seq: int, bids: Iterable[Sequence[Any]], asks: Iterable[Sequence[Any]], status: str | None) -> None:
        """Replace the whole book with a snapshot."""
        self.seq = seq
        self.gseq = None
        if status is not None:
            self.status = status
        self._bids = {}
        self._asks = {}
        self.update(bids, asks)

    def update(self, bids: Iterable[Sequence[Any]], asks: Iterable[Sequence[Any]]) -> None:
        """Apply levels as new totals; a quantity of 0 removes the level."""
        _apply(self._bids, bids)
        _apply(self._asks, asks)

    def bids(self, depth: int | None = None) -> list[Level]:
        """Best (highest) first."""
        return _levels(self._bids, reverse=True, depth=depth)

    def asks(self, depth: int | None = None) -> list[Level]:
        """Best (lowest) first."""
        return _levels(self._asks, reverse=False, depth=depth)

    def best_bid(self) -> Level | None:
        """[price, qty] of the highest bid, or None."""
        return [str(p := max(self._bids)), self._bids[p]] if self._bids else None

    def best_ask(self) -> Level | None:
        """[price, qty] of the lowest ask, or None."""
        return [str(p := min(self._asks)), self._asks[p]] if self._asks else None

    def snapshot(self, depth: int | None = 20) -> dict[str, Any]:
        """The book in the shape of `book.get`: {sym, seq, status, bids, asks}."""
        return {
            "sym": self.sym,
            "seq": self.seq,
            "status": self.status,
            "bids": self.bids(depth),
            "asks": self.asks(depth),
        }


def _apply(side: dict[Decimal, int], levels: Iterable[Sequence[Any]]) -> None:
    for price, qty in levels:
        key = Decimal(price)
        if qty:
            side[key] = int(qty)
        else:
            side.pop(key, None)


def _levels(side: dict[Decimal, int], *, reverse: bool, depth: int | None) -> list[Level]:
    prices = sorted(side, reverse=reverse)
    if depth is not None:
        prices = prices[:depth]
    return [[str(p), side[p]] for p in prices]
