"""Events: what the engine says happened.

Private events name the user they belong to; public ones carry the symbol's
market-data sequence number. Order and position states are snapshots taken
when the event was emitted, so a consumer may keep them; they are read-only
by convention.

These are plain classes with explicit constructors rather than dataclasses:
compiled, a dataclass's generated `__init__` stays interpreted and costs
several times a native one, and the engine builds several events per
command. `Record` gives them what the dataclass did: equality, a readable
repr and pickling (snapshots keep trades and fills) by their `FIELDS`.

Compiled, every event class is `acyclic`: an event refers to views, enums,
strings and ints, never back to anything that refers to it, so the garbage
collector need not track it (a tracked object costs a link on creation, an
unlink on release and a visit in every collection it lives through). The
commonest keep one freed instance for the next (`free_list_len=1`): the
events of one command are released before the next command's are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from mypy_extensions import mypyc_attr

from ..commands import OrderType, Side, SymbolStatus, Tif
from ..errors import Code
from ..status import CancelReason, OrderStatus

NEW: Final = OrderStatus.NEW
PARTIALLY_FILLED: Final = OrderStatus.PARTIALLY_FILLED
"""Read once: a member read off its enum class goes through the metaclass, on every order rendered."""


@mypyc_attr(acyclic=True)
class Record:
    """Equality, repr and pickling by the fields named in `FIELDS`, in constructor order."""

    FIELDS: ClassVar[tuple[str, ...]] = ()

    def values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.FIELDS])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Record) and other.values() == self.values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclasses these replace

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name in self.FIELDS])
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return type(self), self.values()


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderView(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "order_id", "client_order_id", "user_id", "sym", "side", "type", "price", "qty", "filled_qty",
        "filled_cost", "tif", "post_only", "status", "created_ts", "updated_ts",
    )  # fmt: skip

    def __init__(
        self,
        order_id: int,
        client_order_id: str | None,
        user_id: int,
        sym: str,
        side: Side,
        type: OrderType,
        price: int | None,
        qty: int,
        filled_qty: int,
        filled_cost: int,
        tif: Tif,
        post_only: bool,
        status: OrderStatus,
        created_ts: int,
        updated_ts: int,
    ) -> None:
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = user_id
        self.sym = sym
        self.side = side
        self.type = type
        self.price = price
        self.qty = qty
        self.filled_qty = filled_qty
        self.filled_cost = filled_cost
        """Sum of fill price (ticks) times fill qty: avg fill price = filled_cost / filled_qty."""
        self.tif = tif
        self.post_only = post_only
        self.status = status
        self.created_ts = created_ts
        self.updated_ts = updated_ts

    @property
    def leaves_qty(self) -> int:
        status = self.status
        live = status is NEW or status is PARTIALLY_FILLED
        return self.qty - self.filled_qty if live else 0


@mypyc_attr(acyclic=True)
class FillView(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "fill_id", "order_id", "client_order_id", "user_id", "sym", "side", "price", "qty", "is_maker", "trade_id",
        "ts", "fee",
    )  # fmt: skip

    def __init__(
        self,
        fill_id: int,
        order_id: int,
        client_order_id: str | None,
        user_id: int,
        sym: str,
        side: Side,
        price: int,
        qty: int,
        is_maker: bool,
        trade_id: int,
        ts: int,
        fee: int = 0,
    ) -> None:
        self.fill_id = fill_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = user_id
        self.sym = sym
        self.side = side
        self.price = price
        self.qty = qty
        self.is_maker = is_maker
        self.trade_id = trade_id
        self.ts = ts
        self.fee = fee
        """Cash units this fill cost its user in fees (negative: a rebate), already in the account's cash."""


@mypyc_attr(acyclic=True)
class PositionView(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "sym", "qty", "cost", "realized_pnl")

    def __init__(self, user_id: int, sym: str, qty: int, cost: int, realized_pnl: int) -> None:
        self.user_id = user_id
        self.sym = sym
        self.qty = qty
        """Signed: negative is short."""
        self.cost = cost
        """Cash units paid for the open position (negative when short): avg price = cost / qty."""
        self.realized_pnl = realized_pnl
        """Cash units."""


# Private events -------------------------------------------------------------


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderAccepted(OrderView):
    """A new order accepted: the event is the order's snapshot itself, and `order` is the event.

    One object where a wrapper and its view were two: most commands are new
    orders, and each of their events is built and freed. Printed and pickled
    as the order's fields (the view's `FIELDS`), and equal to a plain view
    of the same fields: it is the order's snapshot, which a command's result
    hands back as its `order` and a query may be compared with.
    `order_accepted` makes one from a view.
    """

    @property
    def order(self) -> OrderView:
        return self

    def __eq__(self, other: object) -> bool:
        return (
            (type(other) is OrderAccepted or type(other) is OrderView)
            and isinstance(other, OrderView)
            and other.values() == self.values()
        )


def order_accepted(order: OrderView) -> OrderAccepted:
    """An OrderAccepted from an order's snapshot: how the reference engine makes one."""
    return OrderAccepted(
        order.order_id, order.client_order_id, order.user_id, order.sym, order.side, order.type, order.price,
        order.qty, order.filled_qty, order.filled_cost, order.tif, order.post_only, order.status, order.created_ts,
        order.updated_ts,
    )  # fmt: skip


@mypyc_attr(acyclic=True)
class Rejected(Record):
    """A command refused by a pre-trade check; nothing changed."""

    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "code", "message", "sym", "client_order_id", "is_place")

    def __init__(
        self,
        user_id: int | None,
        code: Code,
        message: str,
        sym: str | None = None,
        client_order_id: str | None = None,
        is_place: bool = False,
    ) -> None:
        self.user_id = user_id
        self.code = code
        self.message = message
        self.sym = sym
        self.client_order_id = client_order_id
        self.is_place = is_place
        """True when the refused command was a new order (→ order.rejected event)."""


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderFilled(OrderView):
    """A fill; `order.status` tells partially filled from filled.

    Held flat: the event is the order's snapshot as the fill left it (its
    `updated_ts` is the fill's time) plus the fill's own fields, copied when
    the fill happened. The `order` and `fill` views are built the first time
    they are read (then kept), so a fill nobody reads costs one object
    instead of three; `order_filled` makes one from views.
    """

    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "order", "fill")

    fill_id: int
    fill_price: int
    fill_qty: int
    is_maker: bool
    trade_id: int
    fee: int
    _order: OrderView | None = None
    _fill: FillView | None = None

    def with_fill(
        self, fill_id: int, fill_price: int, fill_qty: int, is_maker: bool, trade_id: int, fee: int
    ) -> OrderFilled:
        """Set the fill's fields (the constructor took the order's); return the event."""
        self.fill_id = fill_id
        self.fill_price = fill_price
        self.fill_qty = fill_qty
        self.is_maker = is_maker
        self.trade_id = trade_id
        self.fee = fee
        return self

    @property
    def order(self) -> OrderView:
        view = self._order
        if view is None:
            view = self._order = OrderView(
                self.order_id, self.client_order_id, self.user_id, self.sym, self.side, self.type, self.price,
                self.qty, self.filled_qty, self.filled_cost, self.tif, self.post_only, self.status, self.created_ts,
                self.updated_ts,
            )  # fmt: skip
        return view

    @property
    def fill(self) -> FillView:
        view = self._fill
        if view is None:
            view = self._fill = FillView(
                self.fill_id, self.order_id, self.client_order_id, self.user_id, self.sym, self.side, self.fill_price,
                self.fill_qty, self.is_maker, self.trade_id, self.updated_ts, self.fee,
            )  # fmt: skip
        return view

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return order_filled, (self.order, self.fill)


def order_filled(order: OrderView, fill: FillView) -> OrderFilled:
    """An OrderFilled from an order's snapshot and its fill: how the reference engine and unpickling make one."""
    return OrderFilled(
        order.order_id, order.client_order_id, order.user_id, order.sym, order.side, order.type, order.price,
        order.qty, order.filled_qty, order.filled_cost, order.tif, order.post_only, order.status, order.created_ts,
        order.updated_ts,
    ).with_fill(fill.fill_id, fill.price, fill.qty, fill.is_maker, fill.trade_id, fill.fee)  # fmt: skip


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderCanceled(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "order", "reason")

    def __init__(self, user_id: int, order: OrderView, reason: CancelReason) -> None:
        self.user_id = user_id
        self.order = order
        self.reason = reason


@mypyc_attr(acyclic=True)
class OrderExpired(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "order")

    def __init__(self, user_id: int, order: OrderView) -> None:
        self.user_id = user_id
        self.order = order


@mypyc_attr(acyclic=True)
class OrderAmended(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "order")

    def __init__(self, user_id: int, order: OrderView) -> None:
        self.user_id = user_id
        self.order = order


@mypyc_attr(acyclic=True, free_list_len=1)
class AccountUpdate(Record):
    """An account's cash, fees and one position after a fill.

    Held flat like OrderFilled: `position` is built when first read;
    `account_update` makes one from a PositionView.
    """

    FIELDS: ClassVar[tuple[str, ...]] = ("user_id", "cash", "position", "fees")
    FLAT: ClassVar[tuple[str, ...]] = ("user_id", "cash", "sym", "qty", "cost", "realized_pnl", "fees")

    def __init__(self, user_id: int, cash: int, sym: str, qty: int, cost: int, realized_pnl: int, fees: int) -> None:
        self.user_id = user_id
        self.cash = cash
        self.sym = sym
        self.qty = qty
        self.cost = cost
        self.realized_pnl = realized_pnl
        self.fees = fees
        """The account's fees paid so far, in cash units (rebates negative)."""
        self._position: PositionView | None = None

    @property
    def position(self) -> PositionView:
        view = self._position
        if view is None:
            view = self._position = PositionView(self.user_id, self.sym, self.qty, self.cost, self.realized_pnl)
        return view

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return AccountUpdate, tuple([getattr(self, name) for name in self.FLAT])


def account_update(user_id: int, cash: int, position: PositionView, fees: int) -> AccountUpdate:
    """An AccountUpdate from a position's snapshot (the reference engine's way to word one)."""
    return AccountUpdate(user_id, cash, position.sym, position.qty, position.cost, position.realized_pnl, fees)


# Public events --------------------------------------------------------------


@mypyc_attr(acyclic=True, free_list_len=1)
class Trade(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "sym", "seq", "trade_id", "price", "qty", "aggressor", "ts", "buyer_id", "seller_id",
    )  # fmt: skip

    def __init__(
        self,
        sym: str,
        seq: int,
        trade_id: int,
        price: int,
        qty: int,
        aggressor: Side,
        ts: int,
        buyer_id: int,
        seller_id: int,
    ) -> None:
        self.sym = sym
        self.seq = seq
        self.trade_id = trade_id
        self.price = price
        self.qty = qty
        self.aggressor = aggressor
        self.ts = ts
        self.buyer_id = buyer_id
        self.seller_id = seller_id


Levels = tuple[tuple[int, int], ...]
NO_LEVELS: Final[Levels] = ()


@mypyc_attr(acyclic=True, free_list_len=1)
class BookDelta(Record):
    """New total quantity per changed level (0 removes the level), each side best first.

    Most commands change one level of one side (a new resting order, a
    cancel): `level_delta` holds that level flat in `price`, `qty` and
    `is_bid`, with no tuples (compiled, the two ints are machine words in
    the event, where the level as `((price, total),)` was three objects to
    build and to free: two tuples and the boxed total). A delta of several
    levels (a match, an auction, a cancel-all) keeps its tuples. `bids` and
    `asks` read either as tuples of (price, total); `single` tells a flat
    one, for readers that take its level directly.
    """

    FIELDS: ClassVar[tuple[str, ...]] = ("sym", "seq", "bids", "asks")

    def __init__(self, sym: str, seq: int, bids: Levels, asks: Levels) -> None:
        self.sym = sym
        self.seq = seq
        self._bids = bids
        self._asks = asks
        self.single = False
        """True when the delta is one level, held in `price`, `qty` and `is_bid`."""
        self.is_bid = False
        self.price = 0
        self.qty = 0

    def at_level(self, is_bid: bool, price: int, qty: int) -> BookDelta:
        self.single = True
        self.is_bid = is_bid
        self.price = price
        self.qty = qty
        return self

    @property
    def bids(self) -> Levels:
        if self.single:
            return ((self.price, self.qty),) if self.is_bid else NO_LEVELS
        return self._bids

    @property
    def asks(self) -> Levels:
        if self.single:
            return NO_LEVELS if self.is_bid else ((self.price, self.qty),)
        return self._asks


def level_delta(sym: str, seq: int, is_bid: bool, price: int, qty: int) -> BookDelta:
    """The delta of a command that changed one level: its new total `qty` at `price` on one side."""
    return BookDelta(sym, seq, NO_LEVELS, NO_LEVELS).at_level(is_bid, price, qty)


@mypyc_attr(acyclic=True)
class StatusChanged(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("sym", "seq", "status")

    def __init__(self, sym: str, seq: int, status: SymbolStatus) -> None:
        self.sym = sym
        self.seq = seq
        self.status = status


PrivateEvent = OrderAccepted | Rejected | OrderFilled | OrderCanceled | OrderExpired | OrderAmended | AccountUpdate
PublicEvent = Trade | BookDelta | StatusChanged
Event = PrivateEvent | PublicEvent


@mypyc_attr(acyclic=True, free_list_len=1)
class Result(Record):
    """What one command did: the events in order, plus what its response needs."""

    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "events", "order", "rejection", "canceled")

    def __init__(
        self,
        seq: int,
        events: list[Event] | None = None,
        order: OrderView | None = None,
        rejection: Rejected | None = None,
        canceled: Sequence[int] = (),
    ) -> None:
        self.seq = seq
        """Global command sequence number."""
        self.events: list[Event] = [] if events is None else events
        self.order = order
        """For place, cancel and amend: the order's state after the command."""
        self.rejection = rejection
        self.canceled = canceled
        """For cancel-all: the ids of the orders canceled (a shared empty tuple for every other command)."""
