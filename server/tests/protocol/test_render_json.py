"""An order's JSON written out (`Renderer.order_json`) is byte for byte what orjson writes for its mapping."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hftsim.config import load
from hftsim.engine import Engine, Limits, OrderStatus, OrderType, OrderView, Side, Tif
from hftsim.protocol.render import Renderer

INSTRUMENTS = load().instruments()
SYMS = [i.sym for i in INSTRUMENTS]
RENDER = Renderer(Engine(INSTRUMENTS, Limits(max_order_qty=1000, max_position=10_000), initial_cash=10**9))
INT64 = st.integers(-(2**63), 2**63 - 1)
INTS = st.one_of(st.integers(0, 1000), INT64)
# Client order ids that need escaping (quotes, backslashes, control characters) and any other text.
COIDS = st.one_of(st.none(), st.sampled_from(['q"uo\\te', "tab\there\n", "\x00\x1f\x7f", "ünï ☃ 😀"]), st.text())


@st.composite
def orders(draw: st.DrawFn) -> OrderView:
    """Any order: prices and fills on every instrument's tick (averages on and off it), or a symbol the renderer
    does not list with no price and no fill (its JSON string is written by orjson then)."""
    known = draw(st.booleans())
    sym = draw(st.sampled_from(SYMS)) if known else draw(st.text(max_size=12))
    filled_qty = draw(st.integers(0, 10**6)) if known else 0
    return OrderView(
        order_id=draw(INTS),
        client_order_id=draw(COIDS),
        user_id=draw(INTS),
        sym=sym,
        side=draw(st.sampled_from(Side)),
        type=draw(st.sampled_from(OrderType)),
        price=draw(st.one_of(st.none(), st.integers(-(10**12), 10**12))) if known else None,
        qty=draw(INTS),
        filled_qty=filled_qty,
        filled_cost=draw(st.integers(1, 10**15)) if filled_qty else 0,
        tif=draw(st.sampled_from(Tif)),
        post_only=draw(st.booleans()),
        status=draw(st.sampled_from(OrderStatus)),
        created_ts=draw(INTS),
        updated_ts=draw(INTS),
    )


@settings(max_examples=500)
@given(orders())
def test_order_json_is_what_orjson_writes_for_the_order_mapping(order: OrderView) -> None:
    assert RENDER.order_json(order) == orjson.dumps(RENDER.order(order)).decode()


def test_an_order_json_sits_in_a_payload_as_its_own_bytes() -> None:
    """The answer's payload holds the text as an `orjson.Fragment`: the same bytes as the mapping would give."""
    order = OrderView(7, 'a"b', 3, SYMS[0], Side.BUY, OrderType.LIMIT, 10_025, 5, 2, 20_050, Tif.GTC, False,
                      OrderStatus.PARTIALLY_FILLED, 1, 2)  # fmt: skip
    fragment = orjson.dumps({"order": orjson.Fragment(RENDER.order_json(order)), "gseq": 9})
    assert fragment == orjson.dumps({"order": RENDER.order(order), "gseq": 9})
