"""Instruments and the conversion between wire prices and integer ticks.

Inside the engine a price is an integer number of ticks and cash is an
integer number of cash units (10**-cash_decimals). Decimal strings exist
only at the edge; this module is that edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Fees:
    """A symbol's trading fees: a share of the notional in basis points plus a cash amount per lot.

    Maker fees apply to the resting side of a fill, taker fees to the side
    that arrived; a negative fee is a rebate (usually the maker's). Each
    fill's fee, in cash units, is `notional x bps / 10,000` rounded toward
    zero to the cash unit, plus `lots x per_lot`: a charge of 2.7 units is 2,
    a rebate of 2.7 units is 2. Rounding each fill toward zero means a
    trader never pays more than the rate, and an order's fills never cost
    more in fees than the same quantity filled at once, which is what the
    buying-power check reserves.
    """

    maker_bps: Decimal = Decimal(0)
    taker_bps: Decimal = Decimal(0)
    maker_per_lot: Decimal = Decimal(0)
    """Cash (not cash units) per lot filled."""
    taker_per_lot: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("maker_bps", "taker_bps"):
            bps = getattr(self, name)
            if not -1000 <= bps <= 1000 or (bps * 100) % 1:
                raise ValueError(f"{name} must lie within ±1000 with at most 2 decimals, got {bps}")
        for name in ("maker_per_lot", "taker_per_lot"):
            cash = getattr(self, name)
            if cash != cash.quantize(Decimal("0.01")):
                raise ValueError(f"{name} must have at most 2 decimals, got {cash}")

    def ppm(self, maker: bool) -> int:
        """The notional share in millionths (basis points x 100): exact, since bps have at most 2 decimals."""
        return int((self.maker_bps if maker else self.taker_bps) * 100)

    def per_lot_units(self, maker: bool, decimals: int) -> int:
        """The per-lot fee in cash units of `decimals` decimals."""
        return int((self.maker_per_lot if maker else self.taker_per_lot).scaleb(decimals))


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
    fees: Fees = field(default_factory=lambda: Fees())
    """What a fill costs on top of its price (see `Fees`)."""

    def __post_init__(self) -> None:
        lowest_lot = self.tick * self.band_low * self.lot
        for per_lot in (self.fees.maker_per_lot, self.fees.taker_per_lot):
            if per_lot >= lowest_lot:
                raise ValueError(
                    f"{self.sym}: a per-lot fee of {per_lot} must be below the cash value of a lot at the band's "
                    f"lowest price ({lowest_lot}), so a sale always pays for its fee"
                )

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
