"""Prices on the way out: exact decimals only.

The wire carries prices as decimal strings. Callers may hand us a str, an
int or a Decimal; a float is refused because it cannot hold most decimal
prices exactly, and silently rounding someone's order price is worse than
an error.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ._exceptions import InvalidPrice

PriceLike = str | int | Decimal

_KNOWN: dict[str, str] = {}
"""Wire strings of prices given as str before: a bot quotes few distinct prices, and Decimal parsing is the
dearest step of an order's way out. Emptied when it reaches `_KNOWN_MAX`, so it stays small."""
_KNOWN_MAX = 4096


def to_wire_price(price: PriceLike) -> str:
    """Return `price` as the wire's decimal string, or raise InvalidPrice."""
    if type(price) is str:
        known = _KNOWN.get(price)
        if known is None:
            known = _wire_of(price)
            if len(_KNOWN) >= _KNOWN_MAX:
                _KNOWN.clear()
            _KNOWN[price] = known
        return known
    return _wire_of(price)


def _wire_of(price: PriceLike) -> str:
    if isinstance(price, bool) or not isinstance(price, (str, int, Decimal)):
        hint = " (floats are inexact: pass '100.25' or Decimal('100.25'))" if isinstance(price, float) else ""
        raise InvalidPrice(f"price must be str, int or Decimal, not {type(price).__name__}{hint}")
    if isinstance(price, int):
        return str(price)
    try:
        value = price if isinstance(price, Decimal) else Decimal(price.strip())
    except InvalidOperation:
        raise InvalidPrice(f"price {price!r} is not a decimal number") from None
    if not value.is_finite():
        raise InvalidPrice(f"price {price!r} is not a finite number")
    return format(value, "f")
