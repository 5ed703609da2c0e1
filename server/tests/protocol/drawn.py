"""What the JSON writers' hypothesis tests draw from: the shipped instruments, a renderer of them, integers up to
64 bits, cash amounts, client order ids that need escaping, and orders."""

from __future__ import annotations

from hypothesis import strategies as st

from hftsim.config import load
from hftsim.engine import Engine, Limits, OrderStatus, OrderType, OrderView, Side, Tif
from hftsim.protocol.render import Renderer

INSTRUMENTS = load().instruments()
SYMS = [i.sym for i in INSTRUMENTS]
RENDER = Renderer(Engine(INSTRUMENTS, Limits(max_order_qty=1000, max_position=10_000), initial_cash=10**9))
INT64 = st.integers(-(2**63), 2**63 - 1)
INTS = st.one_of(st.integers(0, 1000), INT64)
SIZES = st.one_of(st.integers(-(10**6), 10**6), st.integers(-(10**15), 10**15))
"""Cash amounts and positions, in units: everyday ones and ones of 15 digits."""
COIDS = st.one_of(st.none(), st.sampled_from(['q"uo\\te', "tab\there\n", "\x00\x1f\x7f", "ünï ☃ 😀"]), st.text())
"""Client order ids: ones that need escaping (quotes, backslashes, control characters), and any other text."""


@st.composite
def orders(draw: st.DrawFn, listed_only: bool = True) -> OrderView:
    """Any order of a listed symbol: prices and fills on its tick (averages on and off it), none filled too; unless
    `listed_only`, also of a symbol the renderer does not list, with no price and no fill (its JSON string is
    written by orjson then)."""
    listed = listed_only or draw(st.booleans())
    filled_qty = draw(st.integers(0, 10**6)) if listed else 0
    return OrderView(
        order_id=draw(INTS),
        client_order_id=draw(COIDS),
        user_id=draw(INTS),
        sym=draw(st.sampled_from(SYMS)) if listed else draw(st.text(max_size=12)),
        side=draw(st.sampled_from(Side)),
        type=draw(st.sampled_from(OrderType)),
        price=draw(st.one_of(st.none(), st.integers(-(10**12), 10**12))) if listed else None,
        qty=filled_qty + draw(st.integers(0, 2**62)),  # never below what filled: its leaves_qty is a 64-bit int too
        filled_qty=filled_qty,
        filled_cost=draw(st.integers(1, 10**15)) if filled_qty else 0,
        tif=draw(st.sampled_from(Tif)),
        post_only=draw(st.booleans()),
        status=draw(st.sampled_from(OrderStatus)),
        created_ts=draw(INTS),
        updated_ts=draw(INTS),
    )
