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
    """One side's `order.filled` of a `Fill` (`Fill.filled`); `order.status` tells partially filled from filled.

    Held flat: the event is the order's snapshot as the fill left it (its
    `updated_ts` is the fill's time) plus the fill's own fields. The `order`
    and `fill` views are built the first time they are read (then kept), so
    a reader of the flat fields costs one object instead of three;
    `order_filled` makes one from views.
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
    """An OrderFilled from an order's snapshot and its fill: how unpickling makes one."""
    return OrderFilled(
        order.order_id, order.client_order_id, order.user_id, order.sym, order.side, order.type, order.price,
        order.qty, order.filled_qty, order.filled_cost, order.tif, order.post_only, order.status, order.created_ts,
        order.updated_ts,
    ).with_fill(fill.fill_id, fill.price, fill.qty, fill.is_maker, fill.trade_id, fill.fee)  # fmt: skip


@mypyc_attr(acyclic=True, free_list_len=1)
class OrderCanceled(OrderView):
    """An order canceled: the event is the order's snapshot as the cancel left it, and `order` is the event.

    One object where a wrapper and its view were two, as with OrderAccepted:
    a cancel is about a third of the commands, and each built and freed
    both. `reason` is set after the order's fields (`with_reason`), as
    OrderFilled sets its fill's. Printed and pickled as the order's fields
    and the reason; equal to another OrderCanceled of the same fields and
    reason, and to a plain view of the same fields (a cancel's result hands
    the event back as its `order`, which a query's view may be compared with).
    `order_canceled` makes one from a view.
    """

    FIELDS: ClassVar[tuple[str, ...]] = (*OrderView.FIELDS, "reason")

    reason: CancelReason

    def with_reason(self, reason: CancelReason) -> OrderCanceled:
        self.reason = reason
        return self

    @property
    def order(self) -> OrderView:
        return self

    def __eq__(self, other: object) -> bool:
        if type(other) is OrderCanceled:
            return isinstance(other, OrderCanceled) and other.values() == self.values()
        return type(other) is OrderView and isinstance(other, OrderView) and other.values() == self.view_values()

    def view_values(self) -> tuple[object, ...]:
        """The order's fields alone, as a plain view's `values()`."""
        return tuple([getattr(self, name) for name in OrderView.FIELDS])

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return order_canceled, (OrderView(*self.view_values()), self.reason)  # type: ignore[arg-type]


def order_canceled(order: OrderView, reason: CancelReason) -> OrderCanceled:
    """An OrderCanceled from an order's snapshot: how the reference engine and unpickling make one."""
    return OrderCanceled(
        order.order_id, order.client_order_id, order.user_id, order.sym, order.side, order.type, order.price,
        order.qty, order.filled_qty, order.filled_cost, order.tif, order.post_only, order.status, order.created_ts,
        order.updated_ts,
    ).with_reason(reason)  # fmt: skip


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
    """An account's cash, fees and one position after a fill: one side's `account.update` of a `Fill`.

    Held flat like OrderFilled: `position` is built when first read.
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


SELL: Final = Side.SELL
BUY: Final = Side.BUY


@mypyc_attr(acyclic=True, free_list_len=1)
class Fill(Trade):
    """One fill as the engine books it: the public trade, and both sides' orders and accounts as it left them.

    One record where the fill was five events to build and to free (two
    OrderFilled, two AccountUpdate and the Trade): matching books about a
    tenth of the commands, and its events were a third of their cost. The
    wire still tells a fill as those five events, and numbers them (`gidx`)
    in this order: the maker's `order.filled`, the taker's, the maker's
    `account.update`, the taker's, and `md.trade` (`PLACES` of them, each
    at its constant below). `Result.wire_events` gives a result's events
    with each fill as those five; `filled`, `account` and `trade` give one.

    It is the trade itself (the trade's fields, `aggressor` the taker's
    side), so a reader of trades reads it as one; `trade` makes a plain
    Trade for a reader that keeps it. A side's fields are prefixed `maker_`
    or `taker_`: its order's as the fill left it (the order's `updated_ts`
    is the fill's `ts`; its user and side follow from the trade's), the
    fee it paid, and its account's cash, fees and position in `sym`. The
    maker's fill id is the taker's `fill_id` less one.
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        *Trade.FIELDS, "fill_id",
        "maker_order_id", "maker_client_order_id", "maker_type", "maker_price", "maker_qty", "maker_filled_qty",
        "maker_filled_cost", "maker_tif", "maker_post_only", "maker_status", "maker_created_ts", "maker_fee",
        "maker_cash", "maker_fees", "maker_position_qty", "maker_position_cost", "maker_realized_pnl",
        "taker_order_id", "taker_client_order_id", "taker_type", "taker_price", "taker_qty", "taker_filled_qty",
        "taker_filled_cost", "taker_tif", "taker_post_only", "taker_status", "taker_created_ts", "taker_fee",
        "taker_cash", "taker_fees", "taker_position_qty", "taker_position_cost", "taker_realized_pnl",
    )  # fmt: skip
    MAKER_FILLED: ClassVar[int] = 0
    TAKER_FILLED: ClassVar[int] = 1
    MAKER_ACCOUNT: ClassVar[int] = 2
    TAKER_ACCOUNT: ClassVar[int] = 3
    TRADE_PLACE: ClassVar[int] = 4
    PLACES: ClassVar[int] = 5
    """Where each of the five wire events sits among them, and how many places the fill takes."""

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
        fill_id: int,
        maker_order_id: int,
        maker_client_order_id: str | None,
        maker_type: OrderType,
        maker_price: int | None,
        maker_qty: int,
        maker_filled_qty: int,
        maker_filled_cost: int,
        maker_tif: Tif,
        maker_post_only: bool,
        maker_status: OrderStatus,
        maker_created_ts: int,
        maker_fee: int,
        maker_cash: int,
        maker_fees: int,
        maker_position_qty: int,
        maker_position_cost: int,
        maker_realized_pnl: int,
        taker_order_id: int,
        taker_client_order_id: str | None,
        taker_type: OrderType,
        taker_price: int | None,
        taker_qty: int,
        taker_filled_qty: int,
        taker_filled_cost: int,
        taker_tif: Tif,
        taker_post_only: bool,
        taker_status: OrderStatus,
        taker_created_ts: int,
        taker_fee: int,
        taker_cash: int,
        taker_fees: int,
        taker_position_qty: int,
        taker_position_cost: int,
        taker_realized_pnl: int,
    ) -> None:
        super().__init__(sym, seq, trade_id, price, qty, aggressor, ts, buyer_id, seller_id)
        self.fill_id = fill_id
        """The taker's fill's id; the maker's is one less."""
        self.maker_order_id = maker_order_id
        self.maker_client_order_id = maker_client_order_id
        self.maker_type = maker_type
        self.maker_price = maker_price
        self.maker_qty = maker_qty
        self.maker_filled_qty = maker_filled_qty
        self.maker_filled_cost = maker_filled_cost
        self.maker_tif = maker_tif
        self.maker_post_only = maker_post_only
        self.maker_status = maker_status
        self.maker_created_ts = maker_created_ts
        self.maker_fee = maker_fee
        self.maker_cash = maker_cash
        self.maker_fees = maker_fees
        self.maker_position_qty = maker_position_qty
        self.maker_position_cost = maker_position_cost
        self.maker_realized_pnl = maker_realized_pnl
        self.taker_order_id = taker_order_id
        self.taker_client_order_id = taker_client_order_id
        self.taker_type = taker_type
        self.taker_price = taker_price
        self.taker_qty = taker_qty
        self.taker_filled_qty = taker_filled_qty
        self.taker_filled_cost = taker_filled_cost
        self.taker_tif = taker_tif
        self.taker_post_only = taker_post_only
        self.taker_status = taker_status
        self.taker_created_ts = taker_created_ts
        self.taker_fee = taker_fee
        self.taker_cash = taker_cash
        self.taker_fees = taker_fees
        self.taker_position_qty = taker_position_qty
        self.taker_position_cost = taker_position_cost
        self.taker_realized_pnl = taker_realized_pnl

    @property
    def maker_id(self) -> int:
        return self.seller_id if self.aggressor is BUY else self.buyer_id

    @property
    def taker_id(self) -> int:
        return self.buyer_id if self.aggressor is BUY else self.seller_id

    def filled(self, maker: bool) -> OrderFilled:
        """One side's `order.filled` event."""
        if maker:
            return OrderFilled(
                self.maker_order_id, self.maker_client_order_id, self.maker_id, self.sym,
                SELL if self.aggressor is BUY else BUY, self.maker_type, self.maker_price, self.maker_qty,
                self.maker_filled_qty, self.maker_filled_cost, self.maker_tif, self.maker_post_only,
                self.maker_status, self.maker_created_ts, self.ts,
            ).with_fill(self.fill_id - 1, self.price, self.qty, True, self.trade_id, self.maker_fee)  # fmt: skip
        return OrderFilled(
            self.taker_order_id, self.taker_client_order_id, self.taker_id, self.sym, self.aggressor, self.taker_type,
            self.taker_price, self.taker_qty, self.taker_filled_qty, self.taker_filled_cost, self.taker_tif,
            self.taker_post_only, self.taker_status, self.taker_created_ts, self.ts,
        ).with_fill(self.fill_id, self.price, self.qty, False, self.trade_id, self.taker_fee)  # fmt: skip

    def fill(self, maker: bool) -> FillView:
        """One side's fill, as a user's fill history keeps it."""
        if maker:
            return FillView(
                self.fill_id - 1, self.maker_order_id, self.maker_client_order_id, self.maker_id, self.sym,
                SELL if self.aggressor is BUY else BUY, self.price, self.qty, True, self.trade_id, self.ts,
                self.maker_fee,
            )  # fmt: skip
        return FillView(
            self.fill_id, self.taker_order_id, self.taker_client_order_id, self.taker_id, self.sym, self.aggressor,
            self.price, self.qty, False, self.trade_id, self.ts, self.taker_fee,
        )  # fmt: skip

    def account(self, maker: bool) -> AccountUpdate:
        """One side's `account.update` event."""
        if maker:
            return AccountUpdate(
                self.maker_id,
                self.maker_cash,
                self.sym,
                self.maker_position_qty,
                self.maker_position_cost,
                self.maker_realized_pnl,
                self.maker_fees,
            )
        return AccountUpdate(
            self.taker_id,
            self.taker_cash,
            self.sym,
            self.taker_position_qty,
            self.taker_position_cost,
            self.taker_realized_pnl,
            self.taker_fees,
        )

    def trade(self) -> Trade:
        """The public trade alone, for a reader that keeps it."""
        return Trade(
            self.sym,
            self.seq,
            self.trade_id,
            self.price,
            self.qty,
            self.aggressor,
            self.ts,
            self.buyer_id,
            self.seller_id,
        )

    def wire(self) -> list[Event]:
        """The five events the wire tells the fill as, in their order (see the class's docstring)."""
        return [self.filled(True), self.filled(False), self.account(True), self.account(False), self.trade()]


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

    def wire_events(self) -> list[Event]:
        """The events as the wire tells them, each fill as its five (`Fill`): an event's index is its `gidx`.

        For a reader that takes the events one by one as the wire does; the
        hot readers read a fill's record whole instead.
        """
        events = self.events
        for ev in events:
            if type(ev) is Fill:
                break
        else:
            return events
        told: list[Event] = []
        for ev in events:
            if type(ev) is Fill:
                told.extend(ev.wire())
            else:
                told.append(ev)
        return told
