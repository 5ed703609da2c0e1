"""Commands: everything that can change the engine's state.

A command is plain data. The sequencer stamps it with a time and feeds it to
`Engine.apply`; the journal stores exactly these objects, so replaying them
rebuilds the same state. Prices are integer ticks, quantities integer units.

The classes are compiled with the engine core (`hftsim/compiled.py`): the
engine reads a command's fields as struct fields (a generic attribute read
of a dataclass cost about 190 instructions a field, 14% of a command), and
the gateway builds one through a native constructor. Compiled, a field is
checked against its declared type when the command is built: a float
quantity is a `TypeError` there, not a rejection later. So whatever builds
commands from values it has not typed checks them first, with the engine's
own rules and their stable codes and messages: the wire payloads
(`protocol/payloads.py`), the journal's decode (`store/codec.py`, by the
types in `FIELDS`), and a backtest's broker (`core/checks.field_refusal`).
From source the classes check nothing, and the engine's rules refuse a
wrong type with INVALID_FIELD as before.

`Fields` gives them what the dataclasses did: equality, a readable repr and
pickling by their `FIELDS`, in constructor order.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Final

from mypy_extensions import mypyc_attr

NONE: Final = type(None)


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


@mypyc_attr(acyclic=True)
class Fields:
    """Equality, repr and pickling by the field names of `FIELDS`, in constructor order.

    `FIELDS` names each field with the types its value may have (None as
    `NONE`): the journal's decode checks a record against them. They repeat
    the annotations, which a compiled class does not keep at run time
    (tests/engine/test_commands.py holds the two equal).
    """

    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = ()

    def values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name, _ in self.FIELDS])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, Fields) and other.values() == self.values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclasses these replace

    def __repr__(self) -> str:
        fields = ", ".join([f"{name}={getattr(self, name)!r}" for name, _ in self.FIELDS])
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return type(self), self.values()


@mypyc_attr(acyclic=True, free_list_len=1)
class PlaceOrder(Fields):
    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (
        ("user_id", (int,)), ("sym", (str,)), ("side", (Side,)), ("qty", (int,)), ("price", (int, NONE)),
        ("type", (OrderType,)), ("tif", (Tif,)), ("post_only", (bool,)), ("client_order_id", (str, NONE)),
    )  # fmt: skip

    def __init__(
        self,
        user_id: int,
        sym: str,
        side: Side,
        qty: int,
        price: int | None = None,
        type: OrderType = OrderType.LIMIT,
        tif: Tif = Tif.GTC,
        post_only: bool = False,
        client_order_id: str | None = None,
    ) -> None:
        self.user_id = user_id
        self.sym = sym
        self.side = side
        self.qty = qty
        self.price = price
        """Limit price in ticks; None for market orders."""
        self.type = type
        self.tif = tif
        self.post_only = post_only
        self.client_order_id = client_order_id


@mypyc_attr(acyclic=True, free_list_len=1)
class CancelOrder(Fields):
    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (
        ("user_id", (int,)), ("order_id", (int, NONE)), ("client_order_id", (str, NONE)),
    )  # fmt: skip

    def __init__(self, user_id: int, order_id: int | None = None, client_order_id: str | None = None) -> None:
        self.user_id = user_id
        self.order_id = order_id
        self.client_order_id = client_order_id


@mypyc_attr(acyclic=True)
class CancelAll(Fields):
    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (("user_id", (int,)), ("sym", (str, NONE)))

    def __init__(self, user_id: int, sym: str | None = None) -> None:
        self.user_id = user_id
        self.sym = sym


@mypyc_attr(acyclic=True)
class AmendOrder(Fields):
    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (
        ("user_id", (int,)), ("order_id", (int, NONE)), ("client_order_id", (str, NONE)), ("price", (int, NONE)),
        ("qty", (int, NONE)),
    )  # fmt: skip

    def __init__(
        self,
        user_id: int,
        order_id: int | None = None,
        client_order_id: str | None = None,
        price: int | None = None,
        qty: int | None = None,
    ) -> None:
        self.user_id = user_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.price = price
        self.qty = qty
        """New total quantity (filled + leaves)."""


@mypyc_attr(acyclic=True)
class SetSymbolStatus(Fields):
    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (("sym", (str,)), ("status", (SymbolStatus,)))

    def __init__(self, sym: str, status: SymbolStatus) -> None:
        self.sym = sym
        self.status = status


@mypyc_attr(acyclic=True)
class OpenAccount(Fields):
    """Open `user_id`'s account with `cash` (integer cash units) instead of the initial cash.

    For accounts the venue itself runs (the simulated agents), which need more
    buying power than a client. An account that already exists keeps its
    cash: reopening it would create money, and a restart sends the command again.
    """

    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (("user_id", (int,)), ("cash", (int,)))

    def __init__(self, user_id: int, cash: int) -> None:
        self.user_id = user_id
        self.cash = cash


@mypyc_attr(acyclic=True)
class DebitCash(Fields):
    """Take `amount` of the user's free cash out of this engine, for the account named `to` elsewhere.

    Half of a transfer between the engines of a cluster's shards (each holds
    its own part of a user's cash): refused unless the cash not committed to
    open buy orders covers it, so what stays still backs every open order.
    """

    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (
        ("user_id", (int,)), ("amount", (int,)), ("to", (str,)),
    )  # fmt: skip

    def __init__(self, user_id: int, amount: int, to: str) -> None:
        self.user_id = user_id
        self.amount = amount
        self.to = to


@mypyc_attr(acyclic=True)
class CreditCash(Fields):
    """Add `amount` to the user's cash: the other half of a transfer, whose debit was number `ref` at `source`.

    One source sends its credits in the order of its debits, so a credit whose
    `ref` is not above the last one taken from that source is a copy (a
    retry, a restarted sender) and is refused: each transfer is credited once.
    """

    FIELDS: ClassVar[tuple[tuple[str, tuple[type, ...]], ...]] = (
        ("user_id", (int,)), ("amount", (int,)), ("source", (str,)), ("ref", (int,)),
    )  # fmt: skip

    def __init__(self, user_id: int, amount: int, source: str, ref: int) -> None:
        self.user_id = user_id
        self.amount = amount
        self.source = source
        self.ref = ref


Command = PlaceOrder | CancelOrder | CancelAll | AmendOrder | SetSymbolStatus | OpenAccount | DebitCash | CreditCash


def _checks_types() -> bool:
    """Whether a command refuses a value of the wrong type when it is built: so the compiled classes do."""
    try:
        CancelAll("not a user id")  # type: ignore[arg-type]  # the wrong type is the question
    except TypeError:
        return True
    return False


TYPED: Final = _checks_types()
"""The commands in use hold their fields' declared types (an `int` field holds an int): the engine's rules then
check values only, reading such a field as a machine integer instead of a Python object to test."""
