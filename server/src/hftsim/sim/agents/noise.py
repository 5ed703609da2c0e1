"""Noise takers: marketable orders with bursty arrivals and heavy-tailed sizes.

Arrivals are a self-exciting (Hawkes) process in continuous time, shared by
all noise accounts of a symbol: every arrival raises the intensity by `hawkes_branching` expected
follow-up arrivals, split between a fast component (`FAST_SHARE` of them,
fading within a fraction of a second: traders and algorithms reacting to a
print) and a slow one (fading with `hawkes_half_life_s`). A stressed market
(a spell after a large move, see
`SymbolState.stress`) draws in more orders: the rate of new (immigrant)
arrivals grows by `STRESS_ACTIVITY` times the stress, and follows the
crowd's mood (`SymbolState.activity`: how many would-be traders are
active, which herding makes wander far for minutes, and which moving
markets raise), as it does the open and the close of a trading day
(`SymbolState.day`); the branching ratio stays as set, so the process stays
stable. Their flow is what moves the price most (`SymbolState.observe`), so
busy and quiet spells of minutes make volatility cluster and volume go with
volatility, made by the traders rather than by the fair value. Sizes are the takers' shared
heavy-tailed, round-lot-clustered sizes (`base.taker_units`); sides are
random, leaning gently against the account's inventory. Some arrivals are
small metaorders: a Pareto-distributed number of same-side children sent
over the next seconds, which gives order signs long memory.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..config import SymbolSimSettings
from ..symbol import LN2, SymbolState
from .base import Agent, Orders, exponential_ms, pareto, taker_units

FAST_SHARE = 0.75
"""Share of the branching ratio in the fast component of the excitation."""
FAST_HALF_LIFE_S = 0.2
MARKET_SHARE = 0.1
"""Share of plain market orders; the rest are IOC limits a few ticks through the touch."""
MAX_RATE_MULTIPLE = 15.0
STRESS_ACTIVITY = 3.0
"""Extra activity per unit of liquidity stress (turbulent markets draw traders in)."""
MAX_ACTIVITY = 6.0
"""Cap of the crowd's activity (`SymbolState.activity`), for the thinning's bound."""
SPLIT_SHARE = 0.7
"""Share of arrivals that are split into a run of same-side child orders (a small metaorder)."""
SPLIT_TAIL = 1.4
"""Tail index of the number of children: a few long runs give order signs their long memory."""
SPLIT_CAP = 40.0
CHILD_EVERY_S = 1.0
CHILD_MAX = 1.0
"""A run's children are at most one round lot: a metaorder is fed in small bites."""
DAY_BOUND_MS = 60_000.0
"""Arrivals are drawn against the time of day's highest activity over at most this long ahead."""
_RUN_MEAN = SPLIT_TAIL / (SPLIT_TAIL - 1) * (1 - float(SPLIT_CAP ** (1 - SPLIT_TAIL)))
ORDERS_PER_ARRIVAL = (1 - SPLIT_SHARE) + SPLIT_SHARE * _RUN_MEAN
"""Mean orders an arrival brings (runs included), so the configured rate counts orders."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class HawkesState:
    """The shared excitation of one symbol's noise flow (orders per second above the base rate)."""

    __slots__ = ("fast", "slow", "updated_ms")

    def __init__(self, level: float, now_ms: float) -> None:
        self.fast = FAST_SHARE * level
        self.slow = (1 - FAST_SHARE) * level
        self.updated_ms = now_ms

    @property
    def excitation(self) -> float:
        return self.fast + self.slow

    def decay_to(self, now_ms: float, slow_half_life_s: float) -> None:
        dt_s = (now_ms - self.updated_ms) / 1000.0
        if dt_s > 0:
            self.fast *= math.exp(-LN2 / FAST_HALF_LIFE_S * dt_s)
            self.slow *= math.exp(-LN2 / slow_half_life_s * dt_s)
            self.updated_ms = now_ms


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class NoiseTrader(Agent):
    """One account's share of the symbol's noise flow, drawn by thinning (Ogata) in continuous time.

    Between arrivals the intensity only falls (the excitation decays; stress
    and volatility raise the base by at most their caps), so a candidate
    drawn at the highest rate it can reach and kept with probability
    rate / highest is an exact arrival of the process. An arrival raises the
    rate of every noise account on the symbol, so they redraw
    (`shares_clock`).
    """

    kind = "noise"
    shares_clock = True

    def __init__(self, name: str, seed: int, count: int, hawkes: dict[str, HawkesState]) -> None:
        super().__init__(name, seed)
        self.share = 1.0 / count
        self._hawkes = hawkes
        self._arrivals = 0
        self._candidate: dict[str, tuple[float, float]] = {}
        """sym -> (time of the next candidate arrival, the rate it was drawn at)."""
        self._runs: dict[str, tuple[Side, int, float]] = {}
        """sym -> (side, children left, next child time in ms)."""

    def _state(self, now_ms: float, state: SymbolState) -> HawkesState:
        """The symbol's Hawkes state, decayed to now."""
        params = state.params
        hawkes = self._hawkes.get(state.sym)
        if hawkes is None:
            # Start at the stationary level, so the market is busy from the first second.
            n = params.hawkes_branching
            hawkes = self._hawkes[state.sym] = HawkesState(self._base_rate(params) * n / (1 - n), now_ms)
        hawkes.decay_to(now_ms, params.hawkes_half_life_s)
        return hawkes

    @staticmethod
    def _base_rate(params: SymbolSimSettings) -> float:
        """Arrivals per second without excitation (single orders or the start of a run), so that
        orders average `taker_rate`."""
        return params.taker_rate * (1.0 - params.hawkes_branching) / ORDERS_PER_ARRIVAL

    def _rate(
        self, params: SymbolSimSettings, hawkes: HawkesState, stress: float, activity: float, day: float
    ) -> float:
        """This account's share of the arrival rate; stress, a moving market and the time of day raise the
        immigrant rate only, so the branching ratio (and stability) stays as set."""
        base = self._base_rate(params) * (1.0 + STRESS_ACTIVITY * stress) * activity * day
        return min(base + hawkes.excitation, MAX_RATE_MULTIPLE * params.taker_rate) * self.share

    @staticmethod
    def _activity(state: SymbolState) -> float:
        """How many of the symbol's would-be traders are active now (the crowd's mood, `SymbolState.activity`)."""
        return min(MAX_ACTIVITY, state.activity)

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        hawkes = self._state(now_ms, state)
        # The bound holds until `until`; a candidate beyond it is only a look at `until`, where
        # the next one is drawn (exponential waits are memoryless).
        day = state.day
        until = math.inf if day.flat else min(now_ms + DAY_BOUND_MS, day.day_end_ms(now_ms))
        highest = self._rate(state.params, hawkes, 1.0, MAX_ACTIVITY, day.highest(now_ms, until))
        candidate = now_ms + exponential_ms(self.rng(state), 1.0 / highest) if highest > 0 else math.inf
        if candidate > until:
            candidate, highest = until, math.inf
        self._candidate[state.sym] = (candidate, highest)
        run = self._runs.get(state.sym)
        return min(candidate, run[2]) if run is not None else candidate

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        self._arrivals = 0
        candidate, highest = self._candidate.get(state.sym, (math.inf, 0.0))
        if now_ms >= candidate:
            hawkes = self._state(now_ms, state)
            rate = self._rate(state.params, hawkes, state.stress, self._activity(state), state.day.activity(now_ms))
            self._arrivals = int(self.rng(state).random() * highest < rate)
        run = self._runs.get(state.sym)
        return self._arrivals > 0 or (run is not None and now_ms >= run[2])

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        rng = self.rng(state)
        run = self._runs.get(state.sym)
        if run is not None and now_ms >= run[2]:
            side, left, _ = run
            self._send(state, orders, side, min(CHILD_MAX, taker_units(rng)))
            if left > 1:
                self._runs[state.sym] = (side, left - 1, now_ms + exponential_ms(rng, CHILD_EVERY_S))
            else:
                del self._runs[state.sym]
        params = state.params
        hawkes = self._hawkes[state.sym]
        fast = LN2 / FAST_HALF_LIFE_S
        slow = LN2 / params.hawkes_half_life_s
        for _ in range(self._arrivals):
            hawkes.fast += FAST_SHARE * params.hawkes_branching * fast
            hawkes.slow += (1 - FAST_SHARE) * params.hawkes_branching * slow
            p_buy = 0.5 - 0.5 * orders.position / state.max_position
            side = Side.BUY if rng.random() < p_buy else Side.SELL
            units = taker_units(rng)
            if state.sym not in self._runs and rng.random() < SPLIT_SHARE:
                children = int(pareto(rng, SPLIT_TAIL, SPLIT_CAP))
                if children > 1:
                    self._runs[state.sym] = (side, children - 1, now_ms + exponential_ms(rng, CHILD_EVERY_S))
            self._send(state, orders, side, units)

    def _send(self, state: SymbolState, orders: Orders, side: Side, units: float) -> None:
        rng = self.rng(state)
        qty = state.qty(units)
        if rng.random() < MARKET_SHARE:
            orders.take(side, qty)
        else:
            view = orders.view
            touch = view.best_ask if side is Side.BUY else view.best_bid
            if touch is None:
                return
            slip = int(-math.log(1.0 - rng.random()) * 1.0) * state.level_step
            price = touch + slip if side is Side.BUY else touch - slip
            orders.take(side, qty, price)
