"""Instruments and the conversion between wire prices and integer ticks.

Inside the engine a price is an integer number of ticks and cash is an
integer number of cash units (10**-cash_decimals). Decimal strings exist
only at the edge; this module is that edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .errors import Code

MAX_PRICE_DIGITS = 15
"""A wire price has at most this many digits before the point: far above any band, and its
tick count stays exact in a 64-bit journal field and in Decimal's default precision."""


class PriceError(ValueError):
    """A wire price that cannot become ticks; `code` says why."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Instrument:
    sym: str
    tick: Decimal
    lot: int
    min_qty: int
    ref_price: int
    """Reference price in ticks: the centre of the price band."""
    band_pct: Decimal
    """Limit prices must lie within ref_price * (1 ± band_pct/100)."""

    @property
    def band_low(self) -> int:
        return max(1, int(self.ref_price * (100 - self.band_pct) / 100))

    @property
    def band_high(self) -> int:
        return int(self.ref_price * (100 + self.band_pct) / 100)

    def to_ticks(self, price: str | int | Decimal) -> int:
        """Parse a wire price; raise PriceError when it is not a positive tick multiple."""
        if isinstance(price, bool) or not isinstance(price, (str, int, Decimal)):
            raise PriceError(Code.INVALID_FIELD, f"price must be a decimal string, got {type(price).__name__}")
        try:
            value = Decimal(price) if not isinstance(price, Decimal) else price
        except InvalidOperation:
            raise PriceError(Code.INVALID_FIELD, f"price {price!r} is not a decimal number") from None
        if not value.is_finite() or value <= 0:
            raise PriceError(Code.INVALID_FIELD, f"price {price} must be a positive number")
        if value.adjusted() >= MAX_PRICE_DIGITS:
            raise PriceError(
                Code.INVALID_FIELD, f"price {price} is out of range: prices are below 1e{MAX_PRICE_DIGITS}"
            )
        ticks, remainder = divmod(value, self.tick)
        if remainder:
            raise PriceError(
                Code.PRICE_NOT_ON_TICK, f"price {price} is not a multiple of the tick {self.tick} for {self.sym}"
            )
        return int(ticks)

    def to_price(self, ticks: int) -> str:
        """Render ticks as the wire's decimal string, with the tick's decimals."""
        return str((self.tick * ticks).quantize(self.tick))


def cash_decimals(instruments: list[Instrument] | tuple[Instrument, ...]) -> int:
    """Decimals of the cash unit: enough for every tick, never fewer than 2."""
    return max([2, *(-int(i.tick.as_tuple().exponent) for i in instruments)])


def tick_value(instrument: Instrument, decimals: int) -> int:
    """Cash units per tick per unit of quantity."""
    return int(instrument.tick.scaleb(decimals))


def format_cash(units: int, decimals: int) -> str:
    return str(Decimal(units).scaleb(-decimals))
