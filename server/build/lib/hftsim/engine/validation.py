"""Field and instrument rules for new and amended orders.

The gateway already parses wire input, but the engine is also driven by the
in-process agents and by journal replay, so it never trusts a command: a
malformed one is rejected with INVALID_FIELD like any other rule, never an
exception. Each check returns a human message naming the allowed value, or
None when the rule holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from .book import Book
from .commands import AmendOrder, OrderType, PlaceOrder, Side, SymbolStatus, Tif
from .errors import Code

MAX_CLIENT_ORDER_ID = 64

SIDES: dict[str, Side] = {s.value: s for s in Side}
ORDER_TYPES: dict[str, OrderType] = {t.value: t for t in OrderType}
TIFS: dict[str, Tif] = {t.value: t for t in Tif}
STATUSES: dict[str, SymbolStatus] = {s.value: s for s in SymbolStatus}
KINDS: dict[tuple[str, str, str], tuple[Side, OrderType, Tif]] = {
    (side, order_type, tif): (SIDES[side], ORDER_TYPES[order_type], TIFS[tif])
    for side in SIDES
    for order_type in ORDER_TYPES
    for tif in TIFS
}
"""(side, type, tif) of a new order, as given -> as enums: one lookup validates all three."""
_MARKET = OrderType.MARKET
_GTC = Tif.GTC


def _enum_error(name: str, value: object, allowed: Mapping[str, object]) -> str | None:
    if isinstance(value, str) and value in allowed:
        return None
    return f"{name} must be one of {', '.join(allowed)}, got {value!r}"


def place_kind(cmd: PlaceOrder) -> tuple[Side, OrderType, Tif] | str:
    """A new order's side, type and tif as enums when all its fields are valid, else the INVALID_FIELD message.

    Runs for every order, so the common valid case is one dict lookup (all
    three enums at once) and a chain of cheap tests; the message is worked
    out only on failure.
    """
    try:
        kind = KINDS.get((cmd.side, cmd.type, cmd.tif))
    except TypeError:  # an unhashable value where an enum belongs
        kind = None
    if kind is None:
        error = (
            _enum_error("side", cmd.side, SIDES)
            or _enum_error("type", cmd.type, ORDER_TYPES)
            or _enum_error("tif", cmd.tif, TIFS)
        )
        assert error is not None
        return error
    if type(cmd.user_id) is not int:
        return f"user_id must be an integer, got {cmd.user_id!r}"
    if type(cmd.qty) is not int or cmd.qty <= 0:
        return f"qty must be a positive integer, got {cmd.qty!r}"
    if type(cmd.post_only) is not bool:
        return f"post_only must be true or false, got {cmd.post_only!r}"
    coid = cmd.client_order_id
    if coid is not None and (type(coid) is not str or not 0 < len(coid) <= MAX_CLIENT_ORDER_ID):
        return f"client_order_id must be a string of 1 to {MAX_CLIENT_ORDER_ID} characters, got {coid!r}"
    price = cmd.price
    if kind[1] is _MARKET:
        if price is not None:
            return "a market order takes no price"
        if cmd.post_only:
            return "a market order cannot be post_only"
    elif price is None:
        return "a limit order needs a price"
    elif type(price) is not int or price <= 0:
        return f"price must be a positive number of ticks, got {price!r}"
    elif cmd.post_only and kind[2] is not _GTC:
        return f"a post_only order must be GTC, got {cmd.tif}"
    return kind


def amend_fields_error(cmd: AmendOrder, filled: int) -> str | None:
    """Types of an amend's new values; the new total qty must exceed what already filled."""
    if cmd.price is None and cmd.qty is None:
        return "an amend needs a new price or a new qty"
    if cmd.price is not None and (type(cmd.price) is not int or cmd.price <= 0):
        return f"price must be a positive number of ticks, got {cmd.price!r}"
    if cmd.qty is not None and (type(cmd.qty) is not int or cmd.qty <= filled):
        return f"qty is the new total quantity and must be an integer above the filled {filled}, got {cmd.qty!r}"
    return None


def qty_rule(book: Book, qty: int) -> tuple[Code, str] | None:
    """Lot and minimum quantity of the instrument."""
    instrument = book.instrument
    if qty % instrument.lot:
        return Code.QTY_NOT_LOT_MULTIPLE, f"qty {qty} is not a multiple of the lot {instrument.lot} for {book.sym}"
    if qty < instrument.min_qty:
        return Code.QTY_BELOW_MIN, f"qty {qty} is below the minimum {instrument.min_qty} for {book.sym}"
    return None


def band_error(book: Book, price: int) -> str | None:
    """PRICE_OUT_OF_BAND message when a limit price lies outside the band around the reference price."""
    if book.band_low <= price <= book.band_high:
        return None
    to_price = book.instrument.to_price
    return (
        f"price {to_price(price)} is outside the band {to_price(book.band_low)} to "
        f"{to_price(book.band_high)} for {book.sym}"
    )
