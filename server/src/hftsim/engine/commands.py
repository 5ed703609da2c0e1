"""Commands: everything that can change the engine's state.

A command is plain data. The sequencer stamps it with a time and feeds it to
`Engine.apply`; the journal stores exactly these objects, so replaying them
rebuilds the same state. Prices are integer ticks, quantities integer units.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class Tif(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class SymbolStatus(StrEnum):
    TRADING = "trading"
    HALTED = "halted"
    AUCTION = "auction"
    """Orders collect without trading; back to trading, the book uncrosses at one price (core/auction.py)."""


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    user_id: int
    sym: str
    side: Side
    qty: int
    price: int | None = None
    """Limit price in ticks; None for market orders."""
    type: OrderType = OrderType.LIMIT
    tif: Tif = Tif.GTC
    post_only: bool = False
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    user_id: int
    order_id: int | None = None
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CancelAll:
    user_id: int
    sym: str | None = None


@dataclass(frozen=True, slots=True)
class AmendOrder:
    user_id: int
    order_id: int | None = None
    client_order_id: str | None = None
    price: int | None = None
    qty: int | None = None
    """New total quantity (filled + leaves)."""


@dataclass(frozen=True, slots=True)
class SetSymbolStatus:
    sym: str
    status: SymbolStatus


@dataclass(frozen=True, slots=True)
class OpenAccount:
    """Open `user_id`'s account with `cash` (integer cash units) instead of the initial cash.

    For accounts the venue itself runs (the simulated agents), which need more
    buying power than a client. An account that already exists keeps its
    cash: reopening it would create money, and a restart sends the command again.
    """

    user_id: int
    cash: int


Command = PlaceOrder | CancelOrder | CancelAll | AmendOrder | SetSymbolStatus | OpenAccount
