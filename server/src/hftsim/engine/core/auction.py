"""The call auction: orders collect without trading, then the book uncrosses at one price.

While a symbol's status is `auction`, new GTC limit orders rest even when
they cross (other kinds are refused: see `checks.auction_rule`), amends move
orders without trading, cancels work as ever. When the symbol goes back to
`trading` (from the auction, or from a halt that followed it) the book is
uncrossed before continuous trading resumes:

- the price is the one that maximises the executed volume, min(demand at
  or above it, supply at or below it), among the resting orders' prices;
- ties go to the smallest imbalance |demand - supply|, then to the price
  closest to the reference (the last trade price, or the instrument's
  reference price before any trade), then to the lower price;
- every fill is at that price, in price-time priority on both sides; of the
  two orders of a fill the one that arrived later counts as the taker
  (taker fee, the trade's aggressor), the earlier as the maker, as if the
  later order had met the earlier one in continuous trading; two orders of
  the same user cancel the earlier one (self-trade prevention), as
  continuous matching does.

If self-trade prevention leaves a crossed book, the uncross runs again on
what is left, so continuous trading always starts from an uncrossed book.
"""

from __future__ import annotations

from typing import Final

from ..status import CancelReason, OrderStatus
from .book import Book, BookSide
from .events import Event
from .orders import Order, Registry
from .settlement import fill, release

CANCELED: Final = OrderStatus.CANCELED
SELF_TRADE: Final = CancelReason.SELF_TRADE


def crossed(book: Book) -> bool:
    bid, ask = book.bids.best(), book.asks.best()
    return bid is not None and ask is not None and bid >= ask


def uncross_price(book: Book) -> int:
    """The uncrossing price of a crossed book, by the rules of the module docstring."""
    reference = book.last if book.last else book.instrument.ref_price
    bids = book.bids.depth(None)
    asks = book.asks.depth(None)
    prices = sorted({p for p, _ in bids} | {p for p, _ in asks})
    best_price = 0
    best_key: tuple[int, int, int, int] | None = None
    for price in prices:
        demand = sum([total for p, total in bids if p >= price])
        supply = sum([total for p, total in asks if p <= price])
        volume = demand if demand < supply else supply
        distance = price - reference if price >= reference else reference - price
        key = (volume, -abs(demand - supply), -distance, -price)
        if best_key is None or key > best_key:
            best_key = key
            best_price = price
    return best_price


def uncross(book: Book, registry: Registry, events: list[Event], ts: int) -> None:
    """Trade the crossed book down at its uncrossing price (again if self-trade prevention leaves it crossed)."""
    while crossed(book):
        price = uncross_price(book)
        while True:
            bid = _front(book.bids)
            ask = _front(book.asks)
            if bid is None or ask is None or bid.price is None or ask.price is None:
                break
            if bid.price < price or ask.price > price:
                break
            earlier, later = (bid, ask) if bid.order_id < ask.order_id else (ask, bid)
            if bid.user_id == ask.user_id:
                _cancel(earlier, book, registry, events, ts)
                continue
            qty = min(bid.qty - bid.filled, ask.qty - ask.filled)
            later_leaves = later.qty - later.filled
            _take(book.side(earlier.is_buy), earlier, qty)
            _take(book.side(later.is_buy), later, qty)
            release(later, later_leaves, later_leaves - qty, book)  # fill releases the maker's side only
            fill(earlier, later, price, qty, ts, book, registry, events)
            for order in (earlier, later):
                if order.filled == order.qty:
                    registry.finish(order)


def _front(side: BookSide) -> Order | None:
    best = side.best()
    return side.at(best).head if best is not None else None


def _take(side: BookSide, order: Order, qty: int) -> None:
    """`qty` of the resting `order` (the head of its level) trades: lower the level, unqueue the order if done."""
    price = order.price
    assert price is not None
    level = side.at(price)
    if price not in side.touched:
        side.touched[price] = level.total
    level.total -= qty
    if qty == order.qty - order.filled:
        level.unlink(order)
        if level.head is None:
            side.drop(price)


def _cancel(order: Order, book: Book, registry: Registry, events: list[Event], ts: int) -> None:
    leaves = order.qty - order.filled
    book.side(order.is_buy).remove(order, leaves)
    release(order, leaves, 0, book)
    order.status = CANCELED
    order.updated_ts = ts
    registry.finish(order)
    events.append(order.canceled(SELF_TRADE))
