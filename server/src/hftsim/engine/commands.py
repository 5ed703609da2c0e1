"""Commands: everything that can change the engine's state.

A command is plain data. The sequencer stamps it with a time and feeds it to
`Engine.apply`; the journal stores exactly these objects, so replaying them
rebuilds the same state. Prices are integer ticks, quantities integer units.

Nothing changes a command once it is built, but the classes are not frozen
dataclasses: a frozen one's `__init__` sets each field through
`object.__setattr__`, and the gateway builds one per order (a PlaceOrder:
18,000 instructions frozen, 7,800 not, under callgrind).
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


@dataclass(slots=True)
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


@dataclass(slots=True)
class CancelOrder:
    user_id: int
    order_id: int | None = None
    client_order_id: str | None = None


@dataclass(slots=True)
class CancelAll:
    user_id: int
    sym: str | None = None


@dataclass(slots=True)
class AmendOrder:
    user_id: int
    order_id: int | None = None
    client_order_id: str | None = None
    price: int | None = None
    qty: int | None = None
    """New total quantity (filled + leaves)."""


@dataclass(slots=True)
class SetSymbolStatus:
    sym: str
    status: SymbolStatus


@dataclass(slots=True)
class OpenAccount:
    """Open `user_id`'s account with `cash` (integer cash units) instead of the initial cash.

    For accounts the venue itself runs (the simulated agents), which need more
    buying power than a client. An account that already exists keeps its
    cash: reopening it would create money, and a restart sends the command again.
    """

    user_id: int
    cash: int


@dataclass(slots=True)
class DebitCash:
    """Take `amount` of the user's free cash out of this engine, for the account named `to` elsewhere.

    Half of a transfer between the engines of a cluster's shards (each holds
    its own part of a user's cash): refused unless the cash not committed to
    open buy orders covers it, so what stays still backs every open order.
    """

    user_id: int
    amount: int
    to: str


@dataclass(slots=True)
class CreditCash:
    """Add `amount` to the user's cash: the other half of a transfer, whose debit was number `ref` at `source`.

    One source sends its credits in the order of its debits, so a credit whose
    `ref` is not above the last one taken from that source is a copy (a
    retry, a restarted sender) and is refused: each transfer is credited once.
    """

    user_id: int
    amount: int
    source: str
    ref: int


Command = PlaceOrder | CancelOrder | CancelAll | AmendOrder | SetSymbolStatus | OpenAccount | DebitCash | CreditCash
