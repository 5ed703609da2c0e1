"""What the JSON writers' hypothesis tests draw from: the shipped instruments, a renderer of them, integers up to
64 bits, cash amounts and client order ids that need escaping."""

from __future__ import annotations

from hypothesis import strategies as st

from hftsim.config import load
from hftsim.engine import Engine, Limits
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
