"""Noise takers: marketable orders with bursty arrivals and heavy-tailed sizes.

Arrivals are a self-exciting (Hawkes) process shared by all noise accounts of
a symbol: every order raises the intensity by `hawkes_branching` expected
follow-up orders fading with `hawkes_half_life_s`, and large price moves
attract more orders. That gives clustered activity, and with it clustered
volatility and volume-volatility correlation, made by the traders rather
than by the fair value. Sizes are Pareto (tail index 1.6) with round-lot
spikes; sides are random, leaning gently against the account's inventory.
"""

from __future__ import annotations

import math

from ...engine.commands import Side
from ..symbol import SymbolState
from .base import Agent, Orders, pareto, poisson

SIZE_TAIL = 1.6
SIZE_SCALE = 0.5
"""Smallest size, in order sizes (mean about 1.3 order sizes)."""
SIZE_CAP = 25.0
MARKET_SHARE = 0.1
"""Share of plain market orders; the rest are IOC limits a few ticks through the touch."""
MOVE_FEEDBACK = 0.3
"""Extra excitation per standard deviation of a large mid move."""
MAX_RATE_MULTIPLE = 15.0


class HawkesState:
    """The shared excitation of one symbol's noise flow (orders per second above the base rate)."""

    __slots__ = ("excitation", "last_mid", "updated_ms")

    def __init__(self) -> None:
        self.excitation = 0.0
        self.last_mid: float | None = None
        self.updated_ms = -1.0


class NoiseTrader(Agent):
    kind = "noise"

    def __init__(self, name: str, seed: int, count: int, hawkes: dict[str, HawkesState]) -> None:
        super().__init__(name, seed)
        self.share = 1.0 / count
        self._hawkes = hawkes
        self._arrivals = 0

    def _state(self, now_ms: float, dt_s: float, state: SymbolState) -> HawkesState:
        """The symbol's Hawkes state, decayed and fed with the mid move once per step."""
        hawkes = self._hawkes.setdefault(state.sym, HawkesState())
        if hawkes.updated_ms != now_ms:
            params = state.params
            beta = math.log(2) / params.hawkes_half_life_s
            hawkes.excitation *= math.exp(-beta * dt_s)
            mid = state.mid
            if hawkes.last_mid is not None and dt_s > 0:
                z = abs(mid - hawkes.last_mid) / (state.sigma_1s_ticks * math.sqrt(dt_s))
                if z > 2.0:
                    hawkes.excitation += MOVE_FEEDBACK * (z - 2.0) * params.taker_rate
            hawkes.last_mid = mid
            hawkes.updated_ms = now_ms
        return hawkes

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        params = state.params
        hawkes = self._state(now_ms, dt_s, state)
        base = params.taker_rate * (1.0 - params.hawkes_branching)
        rate = min(base + hawkes.excitation, MAX_RATE_MULTIPLE * params.taker_rate)
        self._arrivals = poisson(self.rng, rate * self.share * dt_s)
        return self._arrivals > 0

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        params = state.params
        hawkes = self._hawkes[state.sym]
        beta = math.log(2) / params.hawkes_half_life_s
        rng = self.rng
        view = orders.view
        for _ in range(self._arrivals):
            hawkes.excitation += params.hawkes_branching * beta
            p_buy = 0.5 - 0.5 * orders.position / state.max_position
            side = Side.BUY if rng.random() < p_buy else Side.SELL
            units = SIZE_SCALE * pareto(rng, SIZE_TAIL, SIZE_CAP / SIZE_SCALE)
            if rng.random() < 0.3:
                units = max(0.5, round(units * 2) / 2)  # round lots
            qty = state.qty(units)
            if rng.random() < MARKET_SHARE:
                orders.take(side, qty)
                continue
            touch = view.best_ask if side is Side.BUY else view.best_bid
            if touch is None:
                continue
            slip = int(-math.log(1.0 - rng.random()) * 1.0) * state.level_step
            price = touch + slip if side is Side.BUY else touch - slip
            orders.take(side, qty, price)
