"""Mutable orders inside the engine, and the registry that numbers them.

Events carry `OrderView` snapshots; inside, an order is a small mutable
object that the book, the matcher and the account index all point at, so a
fill or a cancel touches it in one place. It keeps references to its account
and position so the matching loop never looks a user up.
"""

from __future__ import annotations

from typing import Any, Final

from ..commands import OrderType, Side, Tif
from ..status import OrderStatus
from .accounts import Account, Position
from .events import OrderView

SPARE_ORDERS: Final = 64
"""Forgotten orders the registry keeps for reuse (see Registry.new_order)."""

BUY: Final = Side.BUY
NEW: Final = OrderStatus.NEW
PARTIAL: Final = OrderStatus.PARTIALLY_FILLED


class Order:
    """A live order, or a finished one its owner's memory still holds."""

    boxed_id: Any
    """The order id as one Python int, the key of every index that holds the order.

    Compiled, an `int` field is a machine integer that becomes a new Python
    int each time it is used as a dict key; this one object is created once,
    and removing the very object a dict stores matches by identity, without
    reading the stored key (often out of cache, in the large order index).
    """

    __slots__ = (
        "account",
        "boxed_id",
        "client_order_id",
        "created_ts",
        "filled",
        "filled_cost",
        "is_buy",
        "newer",
        "next",
        "older",
        "order_id",
        "position",
        "post_only",
        "prev",
        "price",
        "qty",
        "side",
        "status",
        "sym",
        "tif",
        "type",
        "updated_ts",
        "user_id",
    )

    def start(
        self,
        order_id: int,
        client_order_id: str | None,
        sym: str,
        side: Side,
        order_type: OrderType,
        price: int | None,
        qty: int,
        tif: Tif,
        post_only: bool,
        ts: int,
        account: Account,
        position: Position,
    ) -> None:
        """Set every field of a new order (see `Registry.new_order`), or of one loaded from a snapshot.

        The only place the fields are listed: an order is made empty (`Order()`) and started.
        """
        self.boxed_id = order_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = account.user_id
        self.sym = sym
        self.side = side
        self.is_buy = side is BUY
        self.type = order_type
        self.price = price
        self.qty = qty
        self.filled = 0
        self.filled_cost = 0
        self.tif = tif
        self.post_only = post_only
        self.status = NEW
        self.created_ts = ts
        self.updated_ts = ts
        self.account = account
        self.position = position
        self.prev: Order | None = None
        self.next: Order | None = None
        """Neighbours in the price level's queue while the order rests (see book.Level)."""
        self.older: Order | None = None
        self.newer: Order | None = None
        """Neighbours in the account's chain of live orders (see accounts.Account)."""

    def view(self) -> OrderView:
        return OrderView(
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.sym,
            self.side,
            self.type,
            self.price,
            self.qty,
            self.filled,
            self.filled_cost,
            self.tif,
            self.post_only,
            self.status,
            self.created_ts,
            self.updated_ts,
        )

    def key(self) -> tuple[object, ...]:
        """Every field that makes up the order's state, as plain values (see `Engine.state`)."""
        return (
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.sym,
            self.side.value,
            self.type.value,
            self.price,
            self.qty,
            self.filled,
            self.filled_cost,
            self.tif.value,
            self.post_only,
            self.status.value,
            self.created_ts,
            self.updated_ts,
        )


def is_live(order: Order) -> bool:
    """Whether the order still rests or may still trade (new or partially filled), as opposed to finished."""
    status = order.status
    return status is NEW or status is PARTIAL


class Registry:
    """Every live order and a bounded memory of finished ones, in one index by id, and the id counters.

    Order, fill and trade ids are global and increase by one; only accepted
    orders take an id, so a rejection leaves the numbering untouched.
    A finished order stays findable until it falls out of its owner's
    most recent finished orders (`Account.finished`); a client order id is
    remembered for its owner's last `coid_memory` orders (see COID_MEMORY).

    One index rather than a live one and a finished one: an order that
    finishes stays where it is, so finishing costs no move between two large
    dicts, only the removal of the order it pushes out of its owner's memory
    (`is_live` tells the two kinds apart).
    """

    __slots__ = ("coid_memory", "last_fill_id", "last_order_id", "last_trade_id", "orders", "spare")

    def __init__(self, coid_memory: int) -> None:
        self.orders: dict[int, Order] = {}
        """Live orders and the remembered finished ones, by id."""
        self.coid_memory = coid_memory
        self.last_order_id = 0
        self.last_fill_id = 0
        self.last_trade_id = 0
        self.spare: list[Order] = []
        """Orders forgotten by `finish`, for `new_order` to reuse: nothing else refers to them any more."""

    def new_order(self) -> Order:
        """An order object for the next new order, for the caller to `start` (with `next_order_id()`) and `add`.

        It reuses an order object that `finish` forgot when there is one: a
        forgotten order is long out of the cache, so freeing it and
        allocating another costs two trips to memory where reusing it costs one.
        """
        spare = self.spare
        return spare.pop() if spare else Order()

    def next_order_id(self) -> int:
        self.last_order_id += 1
        return self.last_order_id

    def add(self, order: Order) -> None:
        key = order.boxed_id
        self.orders[key] = order
        account = order.account
        account.link(order)
        coid = order.client_order_id
        if coid is not None:
            account.by_coid[coid] = order
            coids = account.coids
            coids[coid] = key
            if len(coids) > self.coid_memory:  # the oldest first: dicts keep insertion order
                del coids[next(iter(coids))]

    def finish(self, order: Order) -> None:
        """Take an order whose status is already final off its account's live orders; it joins the recent ones."""
        account = order.account
        account.unlink(order)
        if order.client_order_id is not None:
            del account.by_coid[order.client_order_id]
        forgotten = account.finished.push(order)
        if forgotten is not None:
            del self.orders[forgotten.boxed_id]
            if len(self.spare) < SPARE_ORDERS:
                self.spare.append(forgotten)

    def live(self, order_id: int) -> Order | None:
        """The live order with this id, or None."""
        order = self.orders.get(order_id)
        return order if order is not None and is_live(order) else None

    def get(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)
