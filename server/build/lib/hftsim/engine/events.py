"""Events: what the engine says happened.

Private events name the user they belong to; public ones carry the symbol's
market-data sequence number. Order and position states are snapshots taken
when the event was emitted, so a consumer may keep them. They are read-only
by convention rather than `frozen`: a frozen dataclass costs several times
more to build, and the engine builds several per command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .commands import OrderType, Side, SymbolStatus, Tif
from .errors import Code


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


class CancelReason(StrEnum):
    USER = "user"
    CANCEL_ALL = "cancel_all"
    SELF_TRADE = "self_trade"


@dataclass(slots=True)
class OrderView:
    order_id: int
    client_order_id: str | None
    user_id: int
    sym: str
    side: Side
    type: OrderType
    price: int | None
    qty: int
    filled_qty: int
    filled_cost: int
    """Sum of fill price (ticks) times fill qty: avg fill price = filled_cost / filled_qty."""
    tif: Tif
    post_only: bool
    status: OrderStatus
    created_ts: int
    updated_ts: int

    @property
    def leaves_qty(self) -> int:
        return self.qty - self.filled_qty if self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) else 0


@dataclass(slots=True)
class FillView:
    fill_id: int
    order_id: int
    client_order_id: str | None
    user_id: int
    sym: str
    side: Side
    price: int
    qty: int
    is_maker: bool
    trade_id: int
    ts: int


@dataclass(slots=True)
class PositionView:
    user_id: int
    sym: str
    qty: int
    """Signed: negative is short."""
    cost: int
    """Cash units paid for the open position (negative when short): avg price = cost / qty."""
    realized_pnl: int
    """Cash units."""


# Private events -------------------------------------------------------------


@dataclass(slots=True)
class OrderAccepted:
    user_id: int
    order: OrderView


@dataclass(slots=True)
class Rejected:
    """A command refused by validation or risk; nothing changed."""

    user_id: int | None
    code: Code
    message: str
    sym: str | None = None
    client_order_id: str | None = None
    is_place: bool = False
    """True when the refused command was a new order (→ order.rejected event)."""


@dataclass(slots=True)
class OrderFilled:
    """A fill; `order.status` tells partially filled from filled."""

    user_id: int
    order: OrderView
    fill: FillView


@dataclass(slots=True)
class OrderCanceled:
    user_id: int
    order: OrderView
    reason: CancelReason


@dataclass(slots=True)
class OrderExpired:
    user_id: int
    order: OrderView


@dataclass(slots=True)
class OrderAmended:
    user_id: int
    order: OrderView


@dataclass(slots=True)
class AccountUpdate:
    user_id: int
    cash: int
    position: PositionView


# Public events --------------------------------------------------------------


@dataclass(slots=True)
class Trade:
    sym: str
    seq: int
    trade_id: int
    price: int
    qty: int
    aggressor: Side
    ts: int
    buyer_id: int
    seller_id: int


@dataclass(slots=True)
class BookDelta:
    """New total quantity per changed level (0 removes the level)."""

    sym: str
    seq: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class StatusChanged:
    sym: str
    seq: int
    status: SymbolStatus


PrivateEvent = OrderAccepted | Rejected | OrderFilled | OrderCanceled | OrderExpired | OrderAmended | AccountUpdate
PublicEvent = Trade | BookDelta | StatusChanged
Event = PrivateEvent | PublicEvent


@dataclass(slots=True)
class Result:
    """What one command did: the events in order, plus what its response needs."""

    seq: int
    """Global command sequence number."""
    events: list[Event] = field(default_factory=list)
    order: OrderView | None = None
    """For place, cancel and amend: the order's state after the command."""
    rejection: Rejected | None = None
    canceled: list[int] = field(default_factory=list)
    """For cancel-all: the ids of the orders canceled."""
