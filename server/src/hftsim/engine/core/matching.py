"""Matching: an incoming order against the opposite side of a book, emitting fills.

Price-time priority, trade at the resting price, self-trade prevention by
canceling the resting order. An order is compared with the opposite side
through `key = sign * price` (see book.py): the incoming order crosses a
level when the level's key is >= `sign * limit price`, whichever the side.
Each fill goes to settlement (`settlement.fill`), which books it and words
its events; what becomes of the taker's remainder is the engine's decision.
"""

from __future__ import annotations

from typing import Final

from ..status import CancelReason, OrderStatus
from .book import Book
from .events import Event, OrderView
from .orders import Order, Registry
from .settlement import fill, release

CANCELED: Final = OrderStatus.CANCELED
SELF_TRADE: Final = CancelReason.SELF_TRADE


def can_fill_completely(book: Book, taker: Order) -> bool:
    """FOK test: is there enough opposite quantity within the limit, not counting the taker's own orders?

    The user's own resting orders would be canceled by self-trade prevention,
    not filled, so they do not count.
    """
    opposite = book.asks if taker.is_buy else book.bids
    is_bid = opposite.is_bid
    keys = opposite.keys
    price = taker.price
    limit_key = opposite.key(price) if price is not None else 0
    need = taker.qty - taker.filled
    user_id = taker.user_id
    i = len(keys) - 1
    while i >= 0:
        key = keys[i]
        if price is not None and key < limit_key:
            break
        maker = opposite.at(key if is_bid else -key).head
        while maker is not None:
            if maker.user_id != user_id:
                need -= maker.qty - maker.filled
                if need <= 0:
                    return True
            maker = maker.next
        i -= 1
    return False


def match(taker: Order, book: Book, registry: Registry, events: list[Event], ts: int, view: OrderView) -> OrderView:
    """Trade the taker against the book until it is filled or no longer crosses.

    Appends, per fill, settlement's record, and an OrderCanceled for each
    own resting order met on the way. Returns the taker's latest snapshot:
    built here, once per command rather than per fill, or `view`, the one
    from before matching, when nothing filled, so that the caller reuses it
    instead of building an equal one.

    The maker met is always the head of the best level (fills and self-trade
    cancels take from the front), so a filled one is unlinked in place.
    """
    opposite = book.asks if taker.is_buy else book.bids
    keys = opposite.keys
    touched = opposite.touched
    is_bid = opposite.is_bid
    limit = taker.price
    limit_key = opposite.key(limit) if limit is not None else 0
    user_id = taker.user_id
    remaining = taker.qty - taker.filled
    filled = False
    while remaining and keys:
        key = keys[-1]
        if limit is not None and key < limit_key:
            break
        price = key if is_bid else -key
        level = opposite.at(price)
        if price not in touched:
            touched[price] = level.total
        maker = level.head
        while maker is not None:
            maker_leaves = maker.qty - maker.filled
            following = maker.next
            if maker.user_id == user_id:
                level.unlink(maker)
                level.total -= maker_leaves
                release(maker, maker_leaves, 0, book)
                maker.status = CANCELED
                maker.updated_ts = ts
                registry.finish(maker)
                events.append(maker.canceled(SELF_TRADE))
                maker = following
                continue
            qty = maker_leaves if maker_leaves < remaining else remaining
            remaining -= qty
            level.total -= qty
            fill(maker, taker, price, qty, ts, book, registry, events)
            filled = True
            if qty == maker_leaves:
                level.head = following  # the maker is the head: unlink it in place
                if following is None:
                    level.tail = None
                else:
                    following.prev = None
                maker.next = None
                registry.finish(maker)
            if not remaining:
                break
            maker = following
        if level.head is None:
            opposite.drop_best(price)
    return taker.view() if filled else view
