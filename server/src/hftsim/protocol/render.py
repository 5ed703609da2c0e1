"""Engine views → wire dictionaries.

Prices leave the engine as integer ticks and become decimal strings here,
with one cached string per (symbol, tick count): the same few hundred
prices are rendered over and over on the market-data path. An enum field
is read as its `_value_` (a plain attribute, a fraction of the cost of the
`value` property): the order path renders several per order.

The order in the response to every place, cancel and amend, and in the
`order.accepted` event, is written out as its JSON text (`order_data`),
byte for byte what orjson writes for the mapping `order` builds: building
that mapping for orjson to walk cost twice the text (hftsim/protocol/jsontext.py).
`order` stays for the places that read the mapping (the list of orders, the
SDK's in-process venues' answers).

Averages and cash amounts, rendered for every fill (the order's average fill
price, the fee, the account's cash and position), are written from integers
(`_decimal_data`, `cash_data`): through Decimal they cost about a fifth of a
filled order's instructions. They are written as bytes, for the private
events' bytes `%` (protocol/events.py); the mappings' text is those bytes
decoded, so each is written by one rule. The Decimal formulas stay as the
definition, for what the integer text cannot write (`Decimal.__str__`'s
exponent form), and tests/protocol/test_render_json.py holds the two equal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from ..engine import FillView, Instrument, OrderView, PositionView, Trade
from ..engine.instruments import format_cash, tick_value
from ..engine.queries import MarketQueries
from .jsontext import APPLIED, ENUM_DATA, SYMBOLS, optional_data

Level = list[Any]

EXTRA_AVG_DECIMALS: Final = 4
"""Averages are not on the tick: render them with this many more decimals."""


_ENUM_DATA: Final = ENUM_DATA
_APPLIED: Final = APPLIED
_SYMBOLS: Final = SYMBOLS
FRACTION_DECIMALS: Final = 4
"""Cash of at most this many decimals (the shipped symbols' cash has 2) is written with its fraction's digits read
from a table of `10**decimals` entries, made once per renderer."""
_ZEROS: Final = tuple(b"0" * n for n in range(6))
"""The zeros after `0.` of an amount below one that `str(Decimal)` writes without an exponent: at most five (its
first digit at most six places after the point), read from here rather than made by a repetition per amount."""


def _half_even(num: int, den: int) -> tuple[int, bool]:
    """`num / den` rounded to an integer, halves to even (Decimal's default), as its size and whether it is below
    zero (a quotient that rounds to zero keeps its sign, as a Decimal does)."""
    negative = (num < 0) != (den < 0)
    quotient, remainder = divmod(abs(num), abs(den))
    twice = 2 * remainder
    if twice > abs(den) or (twice == abs(den) and quotient & 1):
        quotient += 1
    return quotient, negative


def _decimal_data(size: int, negative: bool, decimals: int) -> bytes | None:
    """`size * 10**-decimals` written as `str(Decimal)` writes it, as bytes, or None where that takes the exponent
    form (a value whose first digit lies more than six places after the point). Bytes, for the private events' bytes
    `%`: compiled, `b"%d"` writes the integer straight into bytes, where a str was made, joined, then encoded."""
    digits = b"%d" % size
    if len(digits) - 1 - decimals < -6:
        return None
    sign = b"-" if negative else b""
    if not decimals:
        return b"%b%b" % (sign, digits)
    below_one = decimals - len(digits)
    if below_one >= 0:  # a fee, mostly
        return b"%b0.%b%b" % (sign, _ZEROS[below_one], digits)
    return b"%b%b.%b" % (sign, digits[:-decimals], digits[-decimals:])


def _tick_terms(tick: Decimal) -> tuple[int, int] | None:
    """A tick as (units, decimals), `units * 10**-decimals`; None for a tick written with a positive exponent."""
    exponent = int(tick.as_tuple().exponent)
    return (int(tick.scaleb(-exponent)), -exponent) if exponent <= 0 else None


class Renderer:
    def __init__(self, engine: MarketQueries) -> None:
        self._engine = engine
        self._instruments: dict[str, Instrument] = {i.sym: i for i in engine.instruments}
        self._ticks: dict[str, tuple[int, int] | None] = {
            sym: _tick_terms(i.tick) for sym, i in self._instruments.items()
        }
        """Per symbol, its tick as (units, decimals) for the averages written from integers."""
        self._prices: dict[str, dict[int, str]] = {sym: {} for sym in self._instruments}
        self._price_data: dict[str, dict[int, bytes]] = {sym: {} for sym in self._instruments}
        self._last_sym: str | None = None
        self._last_ticks = 0
        self._last_price = b""
        """The price asked for last (`price_data`), its symbol known by identity: a fill writes one price several
        times (the order's, the fill's, the averages on the tick), and the two lookups and the boxed tick of the
        remembered prices cost about 0.5k instructions a price."""
        self._cash_decimals = decimals = engine.cash_decimals
        self._cash_scale: int = 10**decimals
        self._fractions: tuple[bytes, ...] | None = (
            tuple(b"%0*d" % (decimals, n) for n in range(self._cash_scale)) if decimals <= FRACTION_DECIMALS else None
        )
        """A cash amount's digits after the point, by value: the amounts of every fill (its fee, the account's cash,
        fees and realized PnL) are written with two divisions and one build, where `_decimal_data` writes the digits
        then cuts them in two (about 0.6k instructions an amount less, compiled)."""
        self._tick_cash: dict[str, int] = {
            sym: tick_value(i, self._cash_decimals) for sym, i in self._instruments.items()
        }
        """Per symbol, the cash units of one tick on one unit."""

    def price(self, sym: str, ticks: int) -> str:
        cache = self._prices[sym]
        text = cache.get(ticks)
        if text is None:
            text = cache[ticks] = self._instruments[sym].to_price(ticks)
        return text

    def opt_price(self, sym: str, ticks: int | None) -> str | None:
        return None if ticks is None else self.price(sym, ticks)

    def cash(self, units: int) -> str:
        """`format_cash`'s text (`cash_data` decoded: the mappings' amounts, off the order path)."""
        return self.cash_data(units).decode()

    def cash_data(self, units: int) -> bytes:
        """`format_cash`'s text as bytes, written from the integer (see the module's docstring)."""
        fractions = self._fractions
        if fractions is not None:  # never the exponent form: that needs more than six decimals
            scale = self._cash_scale
            if units < 0:
                return b"-%d.%b" % (-units // scale, fractions[-units % scale])
            return b"%d.%b" % (units // scale, fractions[units % scale])
        data = _decimal_data(abs(units), units < 0, self._cash_decimals)
        return data if data is not None else format_cash(units, self._cash_decimals).encode()

    def levels(self, sym: str, levels: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> list[Level]:
        price = self.price
        return [[price(sym, p), q] for p, q in levels]

    def _average(self, sym: str, total: Decimal, qty: int) -> str:
        """An average price: on the tick when it is, else with a few more decimals."""
        tick = self._instruments[sym].tick
        value = (total / qty).quantize(tick.scaleb(-EXTRA_AVG_DECIMALS)).normalize()
        if int(value.as_tuple().exponent) > int(tick.as_tuple().exponent):
            value = value.quantize(tick)  # never fewer decimals than the tick
        return str(value)

    def _int_average(self, sym: str, total: int, total_decimals: int, qty: int) -> bytes:
        """`_average` of `total * 10**-total_decimals` over `qty`, written from integers (the module's docstring).

        Its callers first take an average that falls on the tick (every fill at one price, the most common) as
        that price's text, remembered (`price`): `_average` writes a multiple of the tick with the tick's decimals,
        as the price is written (tests/protocol/test_render_json.py), except a zero, which may keep a sign.
        """
        terms = self._ticks[sym]
        if terms is not None:
            decimals = terms[1] + EXTRA_AVG_DECIMALS
            if decimals >= total_decimals:
                size, negative = _half_even(total * 10 ** (decimals - total_decimals), qty)
            else:
                size, negative = _half_even(total, qty * 10 ** (total_decimals - decimals))
            stripped = 0
            while stripped < EXTRA_AVG_DECIMALS and size and not size % 10:  # as normalize(), down to the tick
                size //= 10
                stripped += 1
            data = _decimal_data(size, negative, decimals - (stripped if size else EXTRA_AVG_DECIMALS))
            if data is not None:
                return data
        return self._average(sym, Decimal(total).scaleb(-total_decimals), qty).encode()

    def avg_fill_price(self, o: OrderView) -> str:
        """The average price of a filled order's fills (call it for an order with fills): `average_fill_data`'s
        text, for the order's mapping."""
        return self.average_fill_data(o.sym, o.filled_cost, o.filled_qty)[1:-1].decode()

    def average_fill_data(self, sym: str, cost: int, qty: int) -> bytes:
        """The average price of fills of `qty` (not zero) in all that cost `cost` (ticks times quantity), as a JSON
        string's bytes, quotes and all."""
        if cost and not cost % qty:
            return self.price_data(sym, cost // qty)  # on the tick (see `_int_average`)
        terms = self._ticks[sym]
        if terms is None:
            return b'"%b"' % self._average(sym, self._instruments[sym].tick * cost, qty).encode()
        units, decimals = terms
        return b'"%b"' % self._int_average(sym, units * cost, decimals, qty)

    def order(self, o: OrderView) -> dict[str, Any]:
        sym, price = o.sym, o.price
        return {
            "order_id": o.order_id,
            "client_order_id": o.client_order_id,
            "user_id": o.user_id,
            "sym": sym,
            "side": o.side._value_,
            "type": o.type._value_,
            "price": None if price is None else self.price(sym, price),
            "qty": o.qty,
            "filled_qty": o.filled_qty,
            "leaves_qty": o.leaves_qty,
            "avg_fill_price": self.avg_fill_price(o) if o.filled_qty else None,
            "tif": o.tif._value_,
            "post_only": o.post_only,
            "status": o.status._value_,
            "created_ts": o.created_ts,
            "updated_ts": o.updated_ts,
        }

    def order_data(self, o: OrderView) -> bytes:
        """`order(o)` as the JSON orjson writes for it, as bytes (see the module's docstring; pinned by
        tests/protocol/test_render_json.py). Its prices are decimal strings and its enums plain words, written
        inside quotes as they are; its client order id, any string, is escaped by orjson. Compiled, a bytes `%`
        of a literal is one copy of its pieces with the integers written straight into bytes, where an f-string
        checked each piece's kind and made each integer a str first, and the answer's orjson then encoded it
        (7.8k -> 5.7k instructions an order)."""
        sym, price, enums = o.sym, o.price, _ENUM_DATA
        return (
            b'{"order_id":%d,"client_order_id":%b,"user_id":%d,"sym":%b,"side":%b,"type":%b,"price":%b,'
            b'"qty":%d,"filled_qty":%d,"leaves_qty":%d,"avg_fill_price":%b,"tif":%b,"post_only":%b,"status":%b,'
            b'"created_ts":%b,"updated_ts":%b}'
            % (
                o.order_id,
                optional_data(o.client_order_id),
                o.user_id,
                _SYMBOLS.data(sym),
                enums[o.side],
                enums[o.type],
                self.opt_price_data(sym, price),
                o.qty,
                o.filled_qty,
                o.leaves_qty,
                self.avg_fill_data(o),
                enums[o.tif],
                b"true" if o.post_only else b"false",
                enums[o.status],
                _APPLIED.data(o.created_ts),
                _APPLIED.data(o.updated_ts),
            )
        )

    def order_answer(self, o: OrderView, seq: int) -> bytes:
        """The payload answering a place, cancel or amend, `{"order": order(o), "gseq": seq}`, as orjson writes it:
        the response's envelope takes these bytes as they are (`envelope.Payload`)."""
        return b'{"order":%b,"gseq":%d}' % (self.order_data(o), seq)

    def price_data(self, sym: str, ticks: int) -> bytes:
        """`price` as a JSON string's bytes, quotes and all, remembered as the text is."""
        if sym is self._last_sym and ticks == self._last_ticks:
            return self._last_price
        cache = self._price_data[sym]
        data = cache.get(ticks)
        if data is None:
            data = cache[ticks] = b'"%b"' % self.price(sym, ticks).encode()
        self._last_sym, self._last_ticks, self._last_price = sym, ticks, data
        return data

    def opt_price_data(self, sym: str, ticks: int | None) -> bytes:
        """`opt_price` as JSON's bytes: a quoted decimal, or null."""
        return b"null" if ticks is None else self.price_data(sym, ticks)

    def avg_fill_data(self, o: OrderView) -> bytes:
        """An order's average fill price as a JSON string's bytes: null before its first fill."""
        qty = o.filled_qty
        return self.average_fill_data(o.sym, o.filled_cost, qty) if qty else b"null"

    def fill(self, f: FillView) -> dict[str, Any]:
        return {
            "fill_id": f.fill_id,
            "order_id": f.order_id,
            "client_order_id": f.client_order_id,
            "sym": f.sym,
            "side": f.side._value_,
            "price": self.price(f.sym, f.price),
            "qty": f.qty,
            "liquidity": "maker" if f.is_maker else "taker",
            "fee": self.cash(f.fee),
            "trade_id": f.trade_id,
            "ts": f.ts,
        }

    def trade(self, t: Trade) -> dict[str, Any]:
        return {
            "trade_id": t.trade_id,
            "sym": t.sym,
            "price": self.price(t.sym, t.price),
            "qty": t.qty,
            "side": t.aggressor._value_,
            "ts": t.ts,
            "seq": t.seq,
        }

    def position_change(self, p: PositionView) -> dict[str, Any]:
        """What a fill changes of a position (`account.update`'s): its size, average price and realized PnL."""
        qty = p.qty
        return {
            "sym": p.sym,
            "qty": qty,
            "avg_price": self.position_avg_price(p.sym, qty, p.cost) if qty else None,
            "realized_pnl": self.cash(p.realized_pnl),
        }

    def position_avg_price(self, sym: str, qty: int, cost: int) -> str:
        """`position_avg_data`'s text, for the position's mapping."""
        return self.position_avg_data(sym, qty, cost)[1:-1].decode()

    def position_avg_data(self, sym: str, qty: int, cost: int) -> bytes:
        """The average price of a position of `qty` (not zero) that cost `cost` cash units, as a JSON string's
        bytes, quotes and all."""
        per_tick = self._tick_cash[sym] * qty
        if cost and not cost % per_tick:
            return self.price_data(sym, cost // per_tick)  # on the tick (see `_int_average`)
        return b'"%b"' % self._int_average(sym, cost, self._cash_decimals, qty)

    def position(self, p: PositionView) -> dict[str, Any]:
        """A position marked to the symbol's last trade price."""
        last = self._engine.last_price(p.sym)
        position = self.position_change(p)
        position["unrealized_pnl"] = self.cash(self.unrealized(p, last))
        position["last"] = self.opt_price(p.sym, last)
        return position

    def unrealized(self, p: PositionView, last: int | None) -> int:
        if not p.qty or last is None:
            return 0
        value = p.qty * last * int(self._instruments[p.sym].tick.scaleb(self._cash_decimals))
        return value - p.cost

    def symbol(self, instrument: Instrument, first_price: int | None) -> dict[str, Any]:
        sym = instrument.sym
        return {
            "sym": sym,
            "tick": str(instrument.tick),
            "lot": instrument.lot,
            "min_qty": instrument.min_qty,
            "status": self._engine.status(sym).value,
            "ref_price": self.price(sym, instrument.ref_price),
            "band_pct": str(instrument.band_pct),
            "last": self.opt_price(sym, self._engine.last_price(sym)),
            "open": self.opt_price(sym, first_price),
        }
