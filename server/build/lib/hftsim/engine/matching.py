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
    OrderView,
    PositionView,
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


def market_buy_cost(book: Book, user_id: int, qty: int) -> int:
    """Exact cash a market buy of `qty` would spend now, in cash units.

    Walks the asks as `match` would (best first, skipping the user's own
    orders, which self-trade prevention cancels rather than fills); what the
    book cannot supply expires unfilled and costs nothing. The engine applies
    one command at a time, so this is exactly what the fills will cost.
    """
    asks = book.asks
    levels = asks.levels
    cost = 0
    for key in reversed(asks.keys):
        price = -key
        maker = levels[price].head
        while maker is not None:
            if maker.user_id != user_id:
                take = min(maker.qty - maker.filled, qty)
                cost += price * take
                qty -= take
                if not qty:
                    return cost * book.tick_value
            maker = maker.next
    return cost * book.tick_value


def match(taker: Order, book: Book, registry: Registry, events: list[Event], ts: int, view: OrderView) -> OrderView:
    """Trade the taker against the book until it is filled or no longer crosses.

    Appends, per fill: maker OrderFilled, taker OrderFilled, both
    AccountUpdates, the public Trade; and an OrderCanceled for each own
    resting order met on the way. The taker's status and fills are updated;
    resting or expiring its remainder is the caller's decision. Returns the
    taker's latest snapshot (`view`, the one from before matching, when
    nothing filled) so that the caller reuses it instead of building an
    equal one.

    This is the loop of every marketable order, so it is written flat: the
    maker met is always the head of the best level (fills and self-trade
    cancels take from the front), so a filled one is unlinked in place; the
    maker is on the other side, so its open quantity is `open_sell` for a
    buying taker; and the id counters, the md sequence and the last price
    stay in locals until the loop ends.
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
    maker_is_buy = not is_buy
    finish = registry.finish
    append = events.append
    md_seq = book.md_seq
    last_price = book.last_price
    trade_id = registry.last_trade_id
    fill_id = registry.last_fill_id
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
                if is_buy:
                    maker_position.open_sell -= maker_leaves
                else:
                    maker_position.open_buy -= maker_leaves
                    maker.account.reserved -= price * maker_leaves * tick_value
                maker.status = _CANCELED
                maker.updated_ts = ts
                finish(maker)
                append(OrderCanceled(user_id, maker.view(), _SELF_TRADE))
                maker = following
                continue
            qty = maker_leaves if maker_leaves < remaining else remaining
            remaining -= qty
            notional = price * qty
            level.total -= qty
            maker.filled += qty
            maker.filled_cost += notional
            maker.updated_ts = ts
            if is_buy:
                maker_position.open_sell -= qty
            else:
                maker_position.open_buy -= qty
                maker.account.reserved -= notional * tick_value
            if qty == maker_leaves:
                maker.status = _FILLED
                level.head = following  # the maker is the head: unlink it in place
                if following is None:
                    level.tail = None
                else:
                    following.prev = None
                maker.next = None
                finish(maker)
            else:
                maker.status = _PARTIAL
            taker.filled += qty
            taker.filled_cost += notional
            taker.updated_ts = ts
            taker.status = _PARTIAL if remaining else _FILLED
            maker_account = maker.account
            apply_fill(maker_account, maker_position, maker_is_buy, price, qty, tick_value)
            apply_fill(taker_account, taker_position, is_buy, price, qty, tick_value)
            trade_id += 1
            fill_id += 2
            maker_id = maker.user_id
            maker_fill = FillView(
                fill_id - 1, maker.order_id, maker.client_order_id, maker_id, sym, maker.side, price, qty, True,
                trade_id, ts,
            )  # fmt: skip
            append(OrderFilled(maker_id, maker.view(), maker_fill))
            view = taker.view()
            taker_fill = FillView(
                fill_id, taker.order_id, taker.client_order_id, user_id, sym, side, price, qty, False, trade_id, ts
            )
            append(OrderFilled(user_id, view, taker_fill))
            position = PositionView(maker_id, sym, maker_position.qty, maker_position.cost, maker_position.realized)
            append(AccountUpdate(maker_id, maker_account.cash, position))
            position = PositionView(user_id, sym, taker_position.qty, taker_position.cost, taker_position.realized)
            append(AccountUpdate(user_id, taker_account.cash, position))
            md_seq += 1
            last_price = price
            append(
                Trade(
                    sym,
                    md_seq,
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
    book.md_seq = md_seq
    book.last_price = last_price
    registry.last_trade_id = trade_id
    registry.last_fill_id = fill_id
    return view
