"""What the agents may read of the market, and a per-wake-up cache over it.

`MarketView` is the read side of `hftsim.engine.Engine`; the out-of-process
mode implements it over a market client's MD-maintained state. Agents only
read through `StepView`, which asks the market at most once per wake-up
for each thing (the touch alone when that is all the agent looks at), so a
wake-up costs a bounded number of reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..engine import OrderView
from ..engine.instruments import Instrument

BOOK_DEPTH = 20
"""Levels per side the agents look at."""


class MarketView(Protocol):
    """The read methods the simulation needs; `Engine` satisfies it."""

    def book_levels(
        self, sym: str, depth: int | None = None
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...

    def best_bid_ask(self, sym: str) -> tuple[int | None, int | None]: ...

    def last_price(self, sym: str) -> int | None: ...

    def open_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]: ...

    def exposure(self, user_id: int, sym: str) -> tuple[int, int, int]:
        """The user's position in `sym` and the leaves of its open buy and sell orders there (what the
        position limit counts), without listing the orders."""
        ...

    def instrument(self, sym: str) -> Instrument | None: ...


class StepView:
    """One symbol's market as one wake-up sees it (read lazily, cached)."""

    __slots__ = ("_exposures", "_last", "_last_read", "_levels", "_market", "_orders", "_touch", "sym")

    def __init__(self, market: MarketView, sym: str) -> None:
        self._market = market
        self.sym = sym
        self._levels: tuple[list[tuple[int, int]], list[tuple[int, int]]] | None = None
        self._touch: tuple[int | None, int | None] | None = None
        self._last: int | None = None
        self._last_read = False
        self._orders: dict[int, list[OrderView]] = {}
        self._exposures: dict[int, tuple[int, int, int]] = {}

    @property
    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        if self._levels is None:
            self._levels = self._market.book_levels(self.sym, BOOK_DEPTH)
        return self._levels

    @property
    def bids(self) -> list[tuple[int, int]]:
        return self.levels[0]

    @property
    def asks(self) -> list[tuple[int, int]]:
        return self.levels[1]

    def near_quantity(self, levels: int) -> int:
        """Quantity on the first `levels` price levels of both sides: a short read of the book unless the
        levels were read already (most wake-ups look only this deep)."""
        bids, asks = self._levels if self._levels is not None else self._market.book_levels(self.sym, levels)
        return sum(q for _, q in bids[:levels]) + sum(q for _, q in asks[:levels])

    @property
    def touch(self) -> tuple[int | None, int | None]:
        """Best bid and ask (from the levels when they were read already)."""
        if self._touch is None:
            if self._levels is not None:
                bids, asks = self._levels
                self._touch = (bids[0][0] if bids else None, asks[0][0] if asks else None)
            else:
                self._touch = self._market.best_bid_ask(self.sym)
        return self._touch

    @property
    def best_bid(self) -> int | None:
        return self.touch[0]

    @property
    def best_ask(self) -> int | None:
        return self.touch[1]

    @property
    def mid(self) -> float | None:
        """Mid of a two-sided book, else None."""
        bid, ask = self.touch
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return None

    @property
    def last(self) -> int | None:
        if not self._last_read:
            self._last = self._market.last_price(self.sym)
            self._last_read = True
        return self._last

    def open_orders(self, user_id: int) -> list[OrderView]:
        orders = self._orders.get(user_id)
        if orders is None:
            orders = self._orders[user_id] = self._market.open_orders(user_id, self.sym)
        return orders

    def exposure(self, user_id: int) -> tuple[int, int, int]:
        """The user's position and the leaves of its open buy and sell orders (see `MarketView.exposure`)."""
        exposure = self._exposures.get(user_id)
        if exposure is None:
            exposure = self._exposures[user_id] = self._market.exposure(user_id, self.sym)
        return exposure


def others_best(levels: Sequence[tuple[int, int]], own: dict[int, int]) -> int | None:
    """Best price on a side once the caller's own resting quantity is taken out."""
    for price, qty in levels:
        if qty > own.get(price, 0):
            return price
    return None
