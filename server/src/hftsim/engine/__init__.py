"""The matching engine: pure, synchronous, deterministic.

`Engine.apply(command, ts) -> Result` is the only way state changes; the
engine's other methods are queries (books, orders, accounts, and
`queue_position`, the quantity ahead of a user's resting order). Prices
are integer ticks, quantities integer units, cash integer cash units; the
gateway converts at the edge (see `instruments`).

Layout: `commands`, `status`, `errors`, `instruments` and `limits` are plain
data shared by every build; `core/` holds the engine itself (events, books,
accounts and the stages checks → matching → settlement), compiled with
mypyc with the gateway's order path when built and plain Python otherwise
(`hftsim.compiled` says which runs; `build.pure()` loads the plain twin);
`reference` is a deliberately simple second engine that the core is tested
against. Import everything from here.
"""

from . import build
from .commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreditCash,
    DebitCash,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from .core.checks import field_refusal
from .core.engine import RULES, Engine
from .core.events import (
    AccountUpdate,
    BookDelta,
    Event,
    Fill,
    FillView,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderView,
    PositionView,
    PrivateEvent,
    PublicEvent,
    Rejected,
    Result,
    StatusChanged,
    Trade,
    level_delta,
)
from .errors import Code
from .instruments import Fees, Instrument, PriceError, cash_decimals, format_cash, tick_value
from .limits import Limits
from .status import CancelReason, OrderStatus

__all__ = [
    "RULES",
    "AccountUpdate",
    "AmendOrder",
    "BookDelta",
    "CancelAll",
    "CancelOrder",
    "CancelReason",
    "Code",
    "Command",
    "CreditCash",
    "DebitCash",
    "Engine",
    "Event",
    "Fees",
    "Fill",
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
    "build",
    "cash_decimals",
    "field_refusal",
    "format_cash",
    "level_delta",
    "tick_value",
]
