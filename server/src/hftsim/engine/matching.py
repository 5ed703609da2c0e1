"""Matching an incoming order against the opposite side of a book.

Price-time priority, trade at the resting price, self-trade prevention by
canceling the resting order. An order is compared with the opposite side
through `key = sign * price` (see book.py): the incoming order crosses a
level when the level's key is >= `sign * limit price`, whichever the side.
"""

from __future__ import annotations

from .accounts import apply_fill
from .book import Book
from .events import (
    AccountUpdate,
    CancelReason,
    Event,
    FillView,
    OrderCanceled,
    OrderFilled,
    OrderStatus,
    Trade,
)
from .orders import Order, Registry

_FILLED = OrderStatus.FILLED
_PARTIAL = OrderStatus.PARTIALLY_FILLED
_CANCELED = OrderStatus.CANCELED
_SELF_TRADE = CancelReason.SELF_TRADE


def crosses(book: Book, is_buy: bool, price: int | None) -> bool:
    """Would an order on this side at this price (None = market) meet the opposite best?"""
    opposite = book.asks if is_buy else book.bids
    keys = opposite.keys
    if not keys:
        return False
    return price is None or keys[-1] >= opposite.sign * price


def can_fill_completely(book: Book, taker: Order) -> bool:
    """FOK test: is there enough opposite quantity within the limit, not counting the taker's own orders?

    The user's own resting orders would be canceled by self-trade prevention,
    not filled, so they do not count.
    """
    opposite = book.asks if taker.is_buy else book.bids
    sign = opposite.sign
    levels = opposite.levels
    limit_key = None if taker.price is None else sign * taker.price
    need = taker.qty - taker.filled
    user_id = taker.user_id
    for key in reversed(opposite.keys):
        if limit_key is not None and key < limit_key:
            break
        maker = levels[key * sign].head
        while maker is not None:
            if maker.user_id != user_id:
                need -= maker.qty - maker.filled
                if need <= 0:
                    return True
            maker = maker.next
    return False


def match(taker: Order, book: Book, registry: Registry, events: list[Event], ts: int) -> None:
    """Trade the taker against the book until it is filled or no longer crosses.

    Appends, per fill: maker OrderFilled, taker OrderFilled, both
    AccountUpdates, the public Trade; and an OrderCanceled for each own
    resting order met on the way. The taker's status and fills are updated;
    resting or expiring its remainder is the caller's decision.
    """
    is_buy = taker.is_buy
    opposite = book.asks if is_buy else book.bids
    keys = opposite.keys
    levels = opposite.levels
    touched = opposite.touched
    sign = opposite.sign
    limit_key = None if taker.price is None else sign * taker.price
    remaining = taker.qty - taker.filled
    user_id = taker.user_id
    taker_account = taker.account
    taker_position = taker.position
    tick_value = book.tick_value
    sym = book.sym
    side = taker.side
    while remaining and keys:
        key = keys[-1]
        if limit_key is not None and key < limit_key:
            break
        price = key * sign
        level = levels[price]
        if price not in touched:
            touched[price] = level.total
        maker = level.head
        while maker is not None:
            maker_leaves = maker.qty - maker.filled
            maker_position = maker.position
            following = maker.next
            if maker.user_id == user_id:
                level.unlink(maker)
                level.total -= maker_leaves
                if maker.is_buy:
                    maker_position.open_buy -= maker_leaves
                else:
                    maker_position.open_sell -= maker_leaves
                maker.status = _CANCELED
                maker.updated_ts = ts
                registry.finish(maker)
                events.append(OrderCanceled(user_id, maker.view(), _SELF_TRADE))
                maker = following
                continue
            qty = min(maker_leaves, remaining)
            remaining -= qty
            notional = price * qty
            level.total -= qty
            maker.filled += qty
            maker.filled_cost += notional
            maker.updated_ts = ts
            if maker.is_buy:
                maker_position.open_buy -= qty
            else:
                maker_position.open_sell -= qty
            if qty == maker_leaves:
                maker.status = _FILLED
                level.unlink(maker)
                registry.finish(maker)
            else:
                maker.status = _PARTIAL
            taker.filled += qty
            taker.filled_cost += notional
            taker.updated_ts = ts
            taker.status = _PARTIAL if remaining else _FILLED
            maker_account = maker.account
            apply_fill(maker_account, maker_position, maker.is_buy, price, qty, tick_value)
            apply_fill(taker_account, taker_position, is_buy, price, qty, tick_value)
            registry.last_trade_id = trade_id = registry.last_trade_id + 1
            maker_fill_id = registry.last_fill_id + 1
            registry.last_fill_id = taker_fill_id = maker_fill_id + 1
            maker_id = maker.user_id
            events.append(
                OrderFilled(
                    maker_id,
                    maker.view(),
                    FillView(
                        maker_fill_id,
                        maker.order_id,
                        maker.client_order_id,
                        maker_id,
                        sym,
                        maker.side,
                        price,
                        qty,
                        True,
                        trade_id,
                        ts,
                    ),
                )
            )
            events.append(
                OrderFilled(
                    user_id,
                    taker.view(),
                    FillView(
                        taker_fill_id,
                        taker.order_id,
                        taker.client_order_id,
                        user_id,
                        sym,
                        side,
                        price,
                        qty,
                        False,
                        trade_id,
                        ts,
                    ),
                )
            )
            events.append(AccountUpdate(maker_id, maker_account.cash, maker_position.view()))
            events.append(AccountUpdate(user_id, taker_account.cash, taker_position.view()))
            book.md_seq += 1
            book.last_price = price
            events.append(
                Trade(
                    sym,
                    book.md_seq,
                    trade_id,
                    price,
                    qty,
                    side,
                    ts,
                    user_id if is_buy else maker_id,
                    maker_id if is_buy else user_id,
                )
            )
            if not remaining:
                break
            maker = following
        if level.head is None:
            del levels[price]
            keys.pop()
