"""What the agents sample: heavy-tailed taker sizes on round lots, placement depths with a power-law tail."""

from __future__ import annotations

import math
import random

from sim_data import ACME, LIMITS

from hftsim.sim import SimSettings
from hftsim.sim.agents.base import TAKER_CAP, TAKER_ODD_SHARE, TAKER_TAIL, taker_units
from hftsim.sim.agents.liquidity import DEPTH_TAIL, LiquidityProvider
from hftsim.sim.symbol import SymbolState


def test_taker_sizes_are_mostly_a_round_lot_or_less_with_a_power_law_tail() -> None:
    rng = random.Random(1)
    sizes = [taker_units(rng) for _ in range(100_000)]
    assert max(sizes) <= TAKER_CAP
    small = sum(1 for s in sizes if s <= 1.0) / len(sizes)
    assert small > TAKER_ODD_SHARE, "odd lots and single round lots make most orders"
    whole = sum(1 for s in sizes if s >= 1 and s == int(s)) / len(sizes)
    assert whole > 0.4, "sizes cluster on whole round lots"
    # P(size > x) ~ x^-TAKER_TAIL between 2 and 20 round lots.
    above = {x: sum(1 for s in sizes if s >= x) for x in (2, 20)}
    slope = math.log(above[2] / above[20]) / math.log(10)
    assert abs(slope - TAKER_TAIL) < 0.2


def test_placement_depth_has_a_power_law_tail_and_no_cap() -> None:
    state = SymbolState(ACME, SimSettings().for_symbol("ACME"), LIMITS, 1)
    lp = LiquidityProvider("lp", 1, 0, 1)
    depths = [lp._depth(state) for _ in range(200_000)]
    scale = state.depth_scale
    # P(depth >= d) = (d / scale + 1)^-DEPTH_TAIL
    for d in (10, 100):
        share = sum(1 for x in depths if x >= d) / len(depths)
        assert math.isclose(share, (d / scale + 1) ** -DEPTH_TAIL, rel_tol=0.15)
    assert max(depths) > 60 * scale, "no cap piles orders at one depth"
