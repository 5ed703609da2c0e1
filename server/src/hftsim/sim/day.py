"""The trading day: how busy the agents are at each moment of a session (the intraday U-shape).

Real markets trade most right after the open and before the close, least
at midday (Admati & Pfleiderer 1988; Andersen & Bollerslev 1997): orders
come in faster and the book is thinner, so volume and volatility both follow
a U. A symbol with `session_hours` set runs trading days back to back from
the agents' start; its activity multiplier is

    1 + (open_activity - 1) 2^(-t / h) + (close_activity - 1) 2^(-(T - t) / h)

at t into a day of length T, h the `intraday_half_life_min`: the open's
rush fades, the close's builds up, and midday sits at about 1. With
`session_hours = 0` (the default, and what suits a venue open around the
clock under `hftsim serve`) the multiplier is 1 all the time.

The noise traders' new arrivals and the liquidity providers' orders come in
`activity` times as fast, and the makers quote `1 / sqrt(activity)` of their
usual size, so each order moves the consensus `sqrt(activity)` times as far
(`SymbolState.observe`): busier at both ends of the day, and meant to be more
volatile there too (the realism report's intraday fact says how far it is).
The profile is a fixed function of simulated time, so a seed still gives
the same tape.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from .config import SymbolSimSettings


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class DayProfile:
    """Activity multiplier of one symbol over simulated time (ms since the agents' start)."""

    __slots__ = ("_close", "_day_ms", "_half_life_ms", "_open")

    def __init__(self, params: SymbolSimSettings) -> None:
        self._day_ms = params.session_hours * 3_600_000.0
        self._open = params.open_activity - 1.0
        self._close = params.close_activity - 1.0
        self._half_life_ms = params.intraday_half_life_min * 60_000.0

    @property
    def flat(self) -> bool:
        """No trading day configured: the same activity at every moment."""
        return self._day_ms <= 0 or (self._open == 0 and self._close == 0)

    def activity(self, now_ms: float) -> float:
        if self.flat:
            return 1.0
        t = now_ms % self._day_ms
        h = self._half_life_ms
        return 1.0 + self._open * math.exp2(-t / h) + self._close * math.exp2(-(self._day_ms - t) / h)

    def day_end_ms(self, now_ms: float) -> float:
        """When the day under way ends (the next open); infinite when the activity is flat."""
        if self.flat:
            return math.inf
        return (now_ms // self._day_ms + 1) * self._day_ms

    def highest(self, start_ms: float, end_ms: float) -> float:
        """The largest multiplier over [start_ms, end_ms] within one day: the profile is convex there,
        so it is the larger of the two ends (a bound for drawing arrivals by thinning)."""
        if self.flat:
            return 1.0
        end = min(end_ms, self.day_end_ms(start_ms) - 1e-3)
        return max(self.activity(start_ms), self.activity(end))
