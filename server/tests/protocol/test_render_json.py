"""What the renderer writes out for speed is what the plain way writes: an order's JSON (`Renderer.order_data`) byte
for byte what orjson writes for its mapping, and averages and cash amounts written from integers the text their
Decimal formulas give; a delta held flat written as the same delta in tuples."""

from __future__ import annotations

from decimal import Decimal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hftsim.engine import (
    BookDelta,
    Engine,
    Instrument,
    Limits,
    OrderStatus,
    OrderType,
    OrderView,
    PositionView,
    Side,
    Tif,
    level_delta,
)
from hftsim.engine.instruments import format_cash
from hftsim.protocol.events import public
from hftsim.protocol.render import FRACTION_DECIMALS, Renderer

from .drawn import RENDER, SIZES, SYMS, orders


@settings(max_examples=500)
@given(orders(listed_only=False))
def test_order_data_is_what_orjson_writes_for_the_order_mapping(order: OrderView) -> None:
    assert RENDER.order_data(order) == orjson.dumps(RENDER.order(order))


@settings(max_examples=200)
@given(orders(listed_only=False), st.integers(0, 2**63 - 1))
def test_the_answer_to_a_place_is_the_payload_orjson_writes(order: OrderView, seq: int) -> None:
    assert RENDER.order_answer(order, seq) == orjson.dumps({"order": RENDER.order(order), "gseq": seq})


def renderer(ticks: list[str]) -> Renderer:
    """A renderer over symbols of these ticks (cash has the most decimals of them, at least 2)."""
    instruments = [Instrument(f"S{i}", Decimal(tick), 1, 1, 1000, Decimal(50)) for i, tick in enumerate(ticks)]
    return Renderer(Engine(instruments, Limits(max_order_qty=1000, max_position=10_000), initial_cash=10**9))


# Ticks of 0 to 8 decimals, one written with an exponent (its averages take the Decimal way); cash of 2 and 8 decimals.
RENDERERS = [renderer(["0.01", "0.05", "1", "5", "0.5"]), renderer(["0.00000001", "0.25", "1E+1"])]


@settings(max_examples=500)
@given(st.sampled_from(RENDERERS), st.data())
def test_averages_are_their_decimal_formula(render: Renderer, data: st.DataObject) -> None:
    """An order's average fill price and a position's average price, rounded half to even to four more decimals than
    the tick, then trailing zeros dropped down to the tick's own."""
    instrument = data.draw(st.sampled_from(list(render._instruments.values())))
    filled_qty = data.draw(st.integers(1, 10**6))
    filled_cost = data.draw(st.integers(1, 10**15))
    order = OrderView(1, None, 1, instrument.sym, Side.BUY, OrderType.LIMIT, 10, filled_qty + 1, filled_qty,
                      filled_cost, Tif.GTC, False, OrderStatus.PARTIALLY_FILLED, 1, 1)  # fmt: skip
    expected = render._average(instrument.sym, instrument.tick * filled_cost, filled_qty)
    assert render.order(order)["avg_fill_price"] == expected
    qty = data.draw(st.integers(-(10**6), 10**6).filter(bool))
    cost = data.draw(SIZES)
    decimals = render._cash_decimals
    position = render.position(PositionView(1, instrument.sym, qty, cost, 0))
    assert position["avg_price"] == render._average(instrument.sym, Decimal(cost).scaleb(-decimals), qty)


# Cash of the most decimals whose fractions are read from a table, and of one more, written from its digits.
AT_THE_TABLE_BOUND = [
    renderer(["0." + "0" * (FRACTION_DECIMALS - 1) + "1"]),
    renderer(["0." + "0" * FRACTION_DECIMALS + "1"]),
]


@settings(max_examples=300)
@given(st.sampled_from(RENDERERS + AT_THE_TABLE_BOUND), SIZES)
def test_cash_is_format_cash(render: Renderer, units: int) -> None:
    assert render.cash_data(units) == format_cash(units, render._cash_decimals).encode()
    assert render.cash(units) == format_cash(units, render._cash_decimals)


def test_the_table_of_fractions_serves_cash_up_to_its_bound() -> None:
    """Both ways of writing cash are in use (the test above draws from both): the table up to its bound, beyond it
    the digits cut in two."""
    at, beyond = AT_THE_TABLE_BOUND
    assert (at._cash_decimals, beyond._cash_decimals) == (FRACTION_DECIMALS, FRACTION_DECIMALS + 1)
    assert at._fractions is not None and len(at._fractions) == 10**FRACTION_DECIMALS and beyond._fractions is None
    assert RENDERERS[0]._fractions is not None and RENDERERS[1]._fractions is None


def test_the_edges_of_the_integer_texts() -> None:
    """Halves to even, a zero that keeps its sign, and the exponent form Decimal takes far after the point."""
    render = RENDERERS[1]
    assert render._cash_decimals == 8
    for units in (0, 1, -1, 10, 99, 100, -100_000_000, 123_456_789):
        assert render.cash(units) == format_cash(units, 8)
    assert render.cash(1) == "1E-8" and render.cash(0) == "0E-8" and render.cash(-100) == "-0.00000100"
    cases = [("S1", 5, 2), ("S1", 15, 2), ("S1", 1, 3), ("S1", 0, -3), ("S0", 1, 10**9), ("S2", 7, 3)]
    for sym, cost, qty in cases:
        assert render.position(PositionView(1, sym, qty, cost, 0))["avg_price"] == render._average(
            sym, Decimal(cost).scaleb(-8), qty
        )


@settings(max_examples=300)
@given(st.sampled_from(RENDERERS), st.data())
def test_an_average_on_the_tick_is_its_price(render: Renderer, data: st.DataObject) -> None:
    """An average that falls on the tick (every fill at one price: the common case) is written as that price, and
    the Decimal formula agrees, for orders and for long and short positions."""
    instrument = data.draw(st.sampled_from(list(render._instruments.values())))
    sym, ticks = instrument.sym, data.draw(st.integers(-(10**9), 10**9))
    filled_qty = data.draw(st.integers(1, 10**6))
    order = OrderView(1, None, 1, sym, Side.SELL, OrderType.LIMIT, ticks, filled_qty, filled_qty, ticks * filled_qty,
                      Tif.GTC, False, OrderStatus.FILLED, 1, 1)  # fmt: skip
    expected = render._average(sym, instrument.tick * ticks * filled_qty, filled_qty)
    assert render.order(order)["avg_fill_price"] == expected
    assert ticks == 0 or expected == render.price(sym, ticks)
    qty = data.draw(st.integers(-(10**6), 10**6).filter(bool))
    cost = ticks * qty * int(instrument.tick.scaleb(render._cash_decimals))
    position = render.position(PositionView(1, sym, qty, cost, 0))
    assert position["avg_price"] == render._average(sym, Decimal(cost).scaleb(-render._cash_decimals), qty)


@given(st.sampled_from(SYMS), st.integers(0, 2**62), st.booleans(), st.integers(1, 10**9), st.integers(0, 2**62))
def test_a_flat_delta_is_written_as_its_level_in_tuples(sym: str, seq: int, is_bid: bool, price: int, qty: int) -> None:
    """A one-level delta held flat (`level_delta`) renders byte for byte as the same level in tuples."""
    flat = level_delta(sym, seq, is_bid, price, qty)
    level = ((price, qty),)
    tupled = BookDelta(sym, seq, level, ()) if is_bid else BookDelta(sym, seq, (), level)
    at = (seq, 3)
    assert orjson.dumps(public(RENDER, flat, at)) == orjson.dumps(public(RENDER, tupled, at))


@given(st.lists(st.tuples(st.sampled_from(SYMS), st.sampled_from([1, 2, 10_000, 10_001])), max_size=20))
def test_a_price_asked_again_is_its_symbols_own(asked: list[tuple[str, int]]) -> None:
    """The price asked for last is remembered by its symbol's identity: the same ticks of another symbol, or of an
    equal symbol string made anew, are that symbol's price."""
    for sym, ticks in asked:
        expected = f'"{RENDER.price(sym, ticks)}"'.encode()
        assert RENDER.price_data(sym, ticks) == expected
        assert RENDER.price_data("".join(sym), ticks) == expected
