"""Request payloads → engine commands, with field-level error messages.

Everything a client can get wrong about the shape of a request is caught
here, with INVALID_FIELD naming the field; rules about prices and
quantities that depend on the instrument stay in the engine.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from ..engine import AmendOrder, CancelAll, CancelOrder, Code, OrderType, PlaceOrder, Side, Tif
from ..engine.instruments import Instrument, PriceError
from ..engine.queries import MarketQueries
from ..store.users import check_username
from .errors import ErrorCode, ProtocolError

E = TypeVar("E", Side, OrderType, Tif)
MAX_CLIENT_ORDER_ID: Final = 64
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
GTC: Final = Tif.GTC
"""Looked up once: reading a member off its enum class costs a tenth of a microsecond, on every order."""


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_FIELD, message)


def int_field(payload: dict[str, Any], name: str, default: int | None = None, *, lo: int = 0, hi: int = 2**62) -> int:
    value = payload.get(name, default)
    if value is None:
        raise _invalid(f"field '{name}' is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"field '{name}' must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise _invalid(f"field '{name}' must be between {lo} and {hi}, got {value}")
    return value


def opt_int(payload: dict[str, Any], name: str, *, lo: int = 0) -> int | None:
    return None if payload.get(name) is None else int_field(payload, name, lo=lo)


def str_field(payload: dict[str, Any], name: str, default: str | None = None, *, max_len: int = 64) -> str:
    value = payload.get(name, default)
    if value is None:
        raise _invalid(f"field '{name}' is required")
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise _invalid(f"field '{name}' must be a non-empty string of at most {max_len} chars")
    return value


def opt_str(payload: dict[str, Any], name: str, *, max_len: int = 64) -> str | None:
    return None if payload.get(name) is None else str_field(payload, name, max_len=max_len)


def name_list_field(payload: dict[str, Any], name: str, *, max_items: int) -> list[str]:
    """A non-empty list of distinct account names (the rule of `check_username`)."""
    value = payload.get(name)
    if not isinstance(value, list) or not 1 <= len(value) <= max_items:
        raise _invalid(f"field '{name}' must be a list of 1 to {max_items} names")
    for item in value:
        try:
            check_username(item if isinstance(item, str) else "")
        except ValueError as exc:
            raise _invalid(f"field '{name}': {item!r}: {exc}") from None
    if len(set(value)) != len(value):
        raise _invalid(f"field '{name}' names an account twice")
    return list(value)


def bool_field(payload: dict[str, Any], name: str, default: bool = False) -> bool:
    value = payload.get(name, default)
    if not isinstance(value, bool):
        raise _invalid(f"field '{name}' must be true or false")
    return value


def _members(kind: type[E]) -> dict[str, E]:
    return {m._value_: m for m in kind}


SIDES: Final = _members(Side)
ORDER_TYPES: Final = _members(OrderType)
TIFS: Final = _members(Tif)
"""Each field enum's members by wire value, each a constant: a dict lookup per field, where calling the enum costs a
microsecond (three per order)."""


def enum_field(payload: dict[str, Any], name: str, members: dict[str, E], default: E | None = None) -> E:
    """The member of `members` (one enum's, by wire value) that the field names."""
    value = payload.get(name, default)
    if value is None:
        raise _invalid(f"field '{name}' is required")
    member = members.get(value) if isinstance(value, str) else None
    if member is None:
        choices = ", ".join(repr(v) for v in members)
        raise _invalid(f"field '{name}' must be one of {choices}, got {value!r}")
    return member


def instrument_field(payload: dict[str, Any], engine: MarketQueries) -> Instrument:
    """The instrument the field `sym` names (looked up once per order: through the `MarketQueries` protocol a
    lookup is a generic call, about 0.5k instructions)."""
    sym = str_field(payload, "sym", max_len=16)
    instrument = engine.instrument(sym)
    if instrument is None:
        known = ", ".join(i.sym for i in engine.instruments)
        raise ProtocolError(Code.UNKNOWN_SYMBOL, f"unknown symbol {sym!r}; symbols are {known}")
    return instrument


def sym_field(payload: dict[str, Any], engine: MarketQueries) -> str:
    return instrument_field(payload, engine).sym


def price_field(payload: dict[str, Any], name: str, instrument: Instrument) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, float):
        raise _invalid(f"field '{name}' must be a decimal string such as \"100.25\", not a JSON number with a fraction")
    if not isinstance(value, (str, int)) or isinstance(value, bool) or len(str(value)) > 32:
        raise _invalid(f"field '{name}' must be a decimal string of at most 32 chars")
    try:
        return _ticks(instrument, value)
    except PriceError as exc:
        raise ProtocolError(exc.code, exc.message.replace("price", name, 1)) from None


PRICES_KEPT: Final = 4096
"""Wire prices remembered per instrument; past that the memory starts again."""
_known_prices: Final[dict[int, tuple[Instrument, dict[str | int, int]]]] = {}
"""Per instrument (by identity: an Instrument hashes every field, Decimals included; the entry holds it, so its
id is not reused), the ticks of the wire prices parsed before. The same few hundred prices recur, and parsing
one through Decimal costs half a microsecond on every order. Only valid prices are kept."""


def _ticks(instrument: Instrument, value: str | int) -> int:
    entry = _known_prices.get(id(instrument))
    if entry is None or entry[0] is not instrument:
        entry = _known_prices[id(instrument)] = (instrument, {})
    known = entry[1]
    ticks = known.get(value)
    if ticks is None:
        ticks = instrument.to_ticks(value)
        if len(known) >= PRICES_KEPT:
            known.clear()
        known[value] = ticks
    return ticks


def order_ref(payload: dict[str, Any]) -> tuple[int | None, str | None]:
    order_id = opt_int(payload, "order_id", lo=1)
    client_order_id = opt_str(payload, "client_order_id", max_len=MAX_CLIENT_ORDER_ID)
    if (order_id is None) == (client_order_id is None):
        raise _invalid("give exactly one of 'order_id' or 'client_order_id'")
    return order_id, client_order_id


def place_order(payload: dict[str, Any], user_id: int, engine: MarketQueries) -> PlaceOrder:
    instrument = instrument_field(payload, engine)
    order_type = enum_field(payload, "type", ORDER_TYPES, LIMIT)
    price = price_field(payload, "price", instrument)
    if order_type is LIMIT and price is None:
        raise _invalid("field 'price' is required for a limit order")
    if order_type is MARKET and price is not None:
        raise _invalid("a market order takes no 'price'")
    return PlaceOrder(
        user_id=user_id,
        sym=instrument.sym,
        side=enum_field(payload, "side", SIDES),
        qty=int_field(payload, "qty", lo=1),
        price=price,
        type=order_type,
        tif=enum_field(payload, "tif", TIFS, GTC),
        post_only=bool_field(payload, "post_only"),
        client_order_id=opt_str(payload, "client_order_id", max_len=MAX_CLIENT_ORDER_ID),
    )


def cancel_order(payload: dict[str, Any], user_id: int) -> CancelOrder:
    order_id, client_order_id = order_ref(payload)
    return CancelOrder(user_id=user_id, order_id=order_id, client_order_id=client_order_id)


def cancel_all(payload: dict[str, Any], user_id: int, engine: MarketQueries) -> CancelAll:
    return CancelAll(user_id=user_id, sym=sym_field(payload, engine) if payload.get("sym") is not None else None)


def amend_order(payload: dict[str, Any], user_id: int, engine: MarketQueries) -> AmendOrder:
    order_id, client_order_id = order_ref(payload)
    price: int | None = None
    if payload.get("price") is not None:
        order = engine.order(order_id) if order_id is not None else None
        sym = order.sym if order is not None else None
        if sym is None and client_order_id is not None:
            sym = next((o.sym for o in engine.open_orders(user_id) if o.client_order_id == client_order_id), None)
        instrument = engine.instrument(sym) if sym is not None else None
        if instrument is not None:
            price = price_field(payload, "price", instrument)
    qty = opt_int(payload, "qty", lo=1)
    if payload.get("price") is None and qty is None:
        raise _invalid("give 'price', 'qty' or both to amend an order")
    return AmendOrder(user_id=user_id, order_id=order_id, client_order_id=client_order_id, price=price, qty=qty)
