"""Settlement: the last stage, where a fill moves cash and positions and is recorded.

Matching decides who trades with whom, at what price and how much; this
module books it. Money is integer cash units (price ticks x quantity x the
instrument's cash value of a tick), exact throughout.

Each fill pays its fees here (`fee`: maker and taker rates per symbol,
rebates allowed, rounded toward zero), taken from cash and added up in
`Account.fees`.

It also keeps each account's commitments in step with its resting orders:
`Position.open_buy` / `open_sell` (the position limit counts them) and
`Account.reserved` (cash committed to resting buys, fees included, which
buying power excludes). `commit` runs when an order starts to rest,
`release` when it rests less or stops resting, and `fill` releases what a
maker's fill uses.
"""

from __future__ import annotations

from typing import Final

from ..status import OrderStatus
from .accounts import Account, Position
from .book import Book
from .events import Event, Fill
from .orders import Order, Registry

FILLED: Final = OrderStatus.FILLED
PARTIAL: Final = OrderStatus.PARTIALLY_FILLED


def fee(value: int, qty: int, lot: int, ppm: int, per_lot: int) -> int:
    """The fee of one fill worth `value` cash units for `qty` units, in cash units; negative is a rebate.

    `ppm` is the notional share in millionths (basis points x 100) and
    `per_lot` the cash units per lot (see instruments.Fees). The share is
    rounded toward zero, so a fill never costs more than the rate and the
    fees of an order's fills never exceed the fee of the whole order at its
    limit, which is what `commitment` reserves.
    """
    # `value` is never negative; each product is of non-negative operands, which compiled code multiplies as
    # machine integers (a negative operand takes the slow path through Python ints).
    share = value * ppm // 1_000_000 if ppm >= 0 else -(value * -ppm // 1_000_000)
    lots = qty // lot
    return share + (lots * per_lot if per_lot >= 0 else -(lots * -per_lot))


def most_fee(book: Book, value: int, qty: int) -> int:
    """The most a fill (or fills) worth `value` for `qty` units could cost in fees, maker or taker; never negative."""
    if book.fee_free:
        return 0
    lot = book.lot
    maker = fee(value, qty, lot, book.maker_ppm, book.maker_lot_fee)
    taker = fee(value, qty, lot, book.taker_ppm, book.taker_lot_fee)
    worst = maker if maker > taker else taker
    return worst if worst > 0 else 0


def commitment(book: Book, price: int, leaves: int) -> int:
    """Cash a resting buy of `leaves` at `price` commits: its value plus the most its fills could cost in fees."""
    value = price * leaves * book.tick_value
    return value + most_fee(book, value, leaves)


def commit(order: Order, leaves: int, book: Book) -> None:
    """`leaves` more of a limit order now rest: count them in the open quantity (and a buy's cash)."""
    price = order.price
    assert price is not None
    reserve(order, leaves, commitment(book, price, leaves) if order.is_buy else 0)


def reserve(order: Order, leaves: int, cash: int) -> None:
    """`commit` with a buy's commitment of `leaves` already known (`cash`; 0 for a sell): a new buy that rests
    whole commits what its funds check computed (`checks.buy_cost`), not the same sum again."""
    if order.is_buy:
        order.position.open_buy += leaves
        order.account.reserved += cash
    else:
        order.position.open_sell += leaves


def release(order: Order, leaves: int, remaining: int, book: Book) -> None:
    """A resting limit order goes from `leaves` to `remaining` resting (0: off the book): the reverse of `commit`.

    The commitment of nothing is nothing (no value, no lots, no fee), so an order that stops resting (a cancel,
    a maker filled whole) frees its commitment of `leaves` without computing one of 0."""
    if order.is_buy:
        order.position.open_buy -= leaves - remaining
        price = order.price
        assert price is not None
        freed = commitment(book, price, leaves)
        if remaining:
            freed -= commitment(book, price, remaining)
        order.account.reserved -= freed
    else:
        order.position.open_sell -= leaves - remaining


def apply_fill(account: Account, pos: Position, is_buy: bool, price: int, qty: int, tick_value: int) -> None:
    """Book one fill to one side: move cash, update the position on average cost, realize PnL.

    Reducing a position releases `cost * closed // |qty|` of the cost basis
    (all of it when the position goes flat, so nothing is lost to rounding);
    a fill through zero closes the old position, then opens the rest at the
    fill price.
    """
    value = price * qty * tick_value
    if is_buy:
        account.cash -= value
    else:
        account.cash += value
    held = pos.qty
    if held == 0 or (held > 0) == is_buy:
        pos.qty = held + qty if is_buy else held - qty
        pos.cost += value if is_buy else -value
        return
    size = held if held > 0 else -held
    closing = size if size < qty else qty
    cost = pos.cost
    if closing == size:
        released = cost
    elif cost >= 0:
        released = cost * closing // size
    else:  # the same floor of `cost * closing / size`, from non-negative operands (see `fee`)
        released = -((-cost * closing + size - 1) // size)
    close_value = closing * price * tick_value
    pos.realized += (-close_value if is_buy else close_value) - released
    pos.cost = cost - released
    pos.qty = held + qty if is_buy else held - qty
    opening = qty - closing
    if opening:
        opened = opening * price * tick_value
        pos.cost = opened if is_buy else -opened


def move_cash(account: Account, amount: int) -> None:
    """Cash moved into (positive) or out of the account by a transfer, which moves its opening cash alike:
    a transfer is neither profit nor loss, and `cash + cost - realized + fees` stays the opening cash."""
    account.cash += amount
    account.opening_cash += amount


def fill(
    maker: Order, taker: Order, price: int, qty: int, ts: int, book: Book, registry: Registry, events: list[Event]
) -> None:
    """Book `qty` at `price` between a resting maker and the taker; append the fill's record (events.Fill)."""
    tick_value = book.tick_value
    notional = price * qty
    value = notional * tick_value
    maker_leaves = maker.qty - maker.filled
    release(maker, maker_leaves, maker_leaves - qty, book)
    maker.filled += qty
    maker.filled_cost += notional
    maker.updated_ts = ts
    maker.status = FILLED if maker.filled == maker.qty else PARTIAL
    taker.filled += qty
    taker.filled_cost += notional
    taker.updated_ts = ts
    taker.status = FILLED if taker.filled == taker.qty else PARTIAL
    maker_account = maker.account
    maker_position = maker.position
    taker_account = taker.account
    taker_position = taker.position
    apply_fill(maker_account, maker_position, maker.is_buy, price, qty, tick_value)
    apply_fill(taker_account, taker_position, taker.is_buy, price, qty, tick_value)
    maker_fee = taker_fee = 0
    if not book.fee_free:  # else each fee is 0, not worth computing (`Book.fee_free`)
        lot = book.lot
        maker_fee = fee(value, qty, lot, book.maker_ppm, book.maker_lot_fee)
        taker_fee = fee(value, qty, lot, book.taker_ppm, book.taker_lot_fee)
        maker_account.cash -= maker_fee
        maker_account.fees += maker_fee
        taker_account.cash -= taker_fee
        taker_account.fees += taker_fee
    registry.last_trade_id = trade_id = registry.last_trade_id + 1
    registry.last_fill_id = fill_id = registry.last_fill_id + 2
    book.md_seq = md_seq = book.md_seq + 1
    book.last = price
    maker_id = maker.user_id
    taker_id = taker.user_id
    is_buy = taker.is_buy
    events.append(
        Fill(
            book.sym, md_seq, trade_id, price, qty, taker.side, ts, taker_id if is_buy else maker_id,
            maker_id if is_buy else taker_id, fill_id,
            maker.order_id, maker.client_order_id, maker.type, maker.price, maker.qty, maker.filled,
            maker.filled_cost, maker.tif, maker.post_only, maker.status, maker.created_ts, maker_fee,
            maker_account.cash, maker_account.fees, maker_position.qty, maker_position.cost, maker_position.realized,
            taker.order_id, taker.client_order_id, taker.type, taker.price, taker.qty, taker.filled,
            taker.filled_cost, taker.tif, taker.post_only, taker.status, taker.created_ts, taker_fee,
            taker_account.cash, taker_account.fees, taker_position.qty, taker_position.cost, taker_position.realized,
        )
    )  # fmt: skip
