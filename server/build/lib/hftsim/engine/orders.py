"""Mutable orders inside the engine, and the registry that numbers them.

Events carry immutable `OrderView` snapshots; inside, an order is a small
mutable object with `__slots__` that the book, the matcher and the account
index all point at, so a fill or a cancel touches it in one place. It keeps
references to its account and position so the matching loop never looks a
user up.
"""

from __future__ import annotations

from . import accounts
from .accounts import Account, Position
from .commands import OrderType, Side, Tif
from .events import OrderStatus, OrderView

_BUY = Side.BUY
_NEW = OrderStatus.NEW
"""Enum members bound once: `Side.BUY` is a descriptor lookup on the enum class, several times dearer than a global."""


class Order:
    __slots__ = (
        "account",
        "client_order_id",
        "created_ts",
        "filled",
        "filled_cost",
        "is_buy",
        "next",
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

    def __init__(
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
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.user_id = account.user_id
        self.sym = sym
        self.side = side
        self.is_buy = side is _BUY
        self.type = order_type
        self.price = price
        self.qty = qty
        self.filled = 0
        self.filled_cost = 0
        self.tif = tif
        self.post_only = post_only
        self.status = _NEW
        self.created_ts = ts
        self.updated_ts = ts
        self.account = account
        self.position = position
        self.prev: Order | None = None
        self.next: Order | None = None
        """Neighbours in the price level's queue while the order rests (see book.Level)."""

    def __getstate__(self) -> tuple[object, ...]:
        """Pickle without the queue links: a long queue would otherwise recurse once per order.

        `book.Level` pickles its queue as a list and relinks it; no order
        refers to a level, so every order is restored before its level is.
        """
        return tuple(getattr(self, name) for name in _STATE)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(_STATE, state, strict=True):
            setattr(self, name, value)
        self.prev = self.next = None

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
        """Every field that makes up the order's state, for `Engine.state_hash`."""
        return (
            self.order_id,
            self.client_order_id,
            self.user_id,
            self.sym,
            str(self.side),
            str(self.type),
            self.price,
            self.qty,
            self.filled,
            self.filled_cost,
            str(self.tif),
            self.post_only,
            str(self.status),
            self.created_ts,
            self.updated_ts,
        )


_STATE = tuple(name for name in Order.__slots__ if name not in ("prev", "next"))


class Registry:
    """Live orders by id, a bounded memory of finished ones, and the id counters.

    Order, fill and trade ids are global and increase by one; only accepted
    orders take an id, so a rejection leaves the numbering untouched.
    A finished order stays findable until it falls out of its owner's
    `recent_limit` most recent finished orders.
    """

    __slots__ = ("finished", "last_fill_id", "last_order_id", "last_trade_id", "live", "recent_limit")

    def __init__(self, recent_limit: int) -> None:
        self.live: dict[int, Order] = {}
        self.finished: dict[int, Order] = {}
        self.recent_limit = recent_limit
        self.last_order_id = 0
        self.last_fill_id = 0
        self.last_trade_id = 0

    def add(self, order: Order) -> None:
        self.live[order.order_id] = order
        account = order.account
        account.orders[order.order_id] = order
        if order.client_order_id is not None:
            account.by_coid[order.client_order_id] = order
            account.coids[order.client_order_id] = order.order_id
            if len(account.coids) > accounts.COID_MEMORY:  # the oldest first: dicts keep insertion order
                del account.coids[next(iter(account.coids))]

    def finish(self, order: Order) -> None:
        """Move an order whose status is already final from the live index to the recent ones."""
        order_id = order.order_id
        del self.live[order_id]
        account = order.account
        del account.orders[order_id]
        if order.client_order_id is not None:
            del account.by_coid[order.client_order_id]
        recent = account.finished
        if len(recent) == self.recent_limit:
            del self.finished[recent[0].order_id]
        recent.append(order)
        self.finished[order_id] = order

    def get(self, order_id: int) -> Order | None:
        return self.live.get(order_id) or self.finished.get(order_id)
