"""The matching engine: pure, synchronous, deterministic.

`Engine.apply(command, ts) -> Result` is the only way state changes. Prices
are integer ticks, quantities integer units, cash integer cash units; the
gateway converts at the edge (see `instruments`).
"""

from .commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from .engine import Engine
from .errors import Code
from .events import (
    AccountUpdate,
    BookDelta,
    CancelReason,
    Event,
    FillView,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    OrderView,
    PositionView,
    PrivateEvent,
    PublicEvent,
    Rejected,
    Result,
    StatusChanged,
    Trade,
)
from .instruments import Instrument, PriceError, cash_decimals, format_cash, tick_value
from .risk import Limits

__all__ = [
    "AccountUpdate",
    "AmendOrder",
    "BookDelta",
    "CancelAll",
    "CancelOrder",
    "CancelReason",
    "Code",
    "Command",
    "Engine",
    "Event",
    "FillView",
    "Instrument",
    "Limits",
    "OpenAccount",
    "OrderAccepted",
    "OrderAmended",
    "OrderCanceled",
    "OrderExpired",
    "OrderFilled",
    "OrderStatus",
    "OrderType",
    "OrderView",
    "PlaceOrder",
    "PositionView",
    "PriceError",
    "PrivateEvent",
    "PublicEvent",
    "Rejected",
    "Result",
    "SetSymbolStatus",
    "Side",
    "StatusChanged",
    "SymbolStatus",
    "Tif",
    "Trade",
    "cash_decimals",
    "format_cash",
    "tick_value",
]
