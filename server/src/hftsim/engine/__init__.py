"""The matching engine: pure, synchronous, deterministic.

`Engine.apply(command, ts) -> Result` is the only way state changes; the
engine's other methods are queries (books, orders, accounts, and
`queue_position`, the quantity ahead of a user's resting order). Prices
are integer ticks, quantities integer units, cash integer cash units; the
gateway converts at the edge (see `instruments`).

Layout: `commands`, `status`, `errors`, `instruments` and `limits` are plain
data shared by every build; `core/` holds the engine itself (events, books,
accounts and the stages checks → matching → settlement), compiled with
mypyc when built and plain Python otherwise (`build` says which runs);
`reference` is a deliberately simple second engine that the core is tested
against. Import everything from here.
"""

from . import build

build.select()

from .commands import (  # noqa: E402  (after the build is selected)
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
from .core.engine import RULES, Engine  # noqa: E402
from .core.events import (  # noqa: E402
    AccountUpdate,
    BookDelta,
    Event,
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
)
from .errors import Code  # noqa: E402
from .instruments import Fees, Instrument, PriceError, cash_decimals, format_cash, tick_value  # noqa: E402
from .limits import Limits  # noqa: E402
from .status import CancelReason, OrderStatus  # noqa: E402

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
    "format_cash",
    "tick_value",
]
