"""Momentum traders: follow recent trade-price trends once they are clear.

Each looks now and then (Poisson, every few seconds) at the gap between a
fast and a slow moving average of trade prices, measured in units of the
volatility expected over the slow window. Past a personal threshold it
buys (or sells) with a marketable order sized by the signal's strength;
when the trend fades it unwinds. Thresholds make the response nonlinear:
calm markets see little momentum trading, moving ones attract it.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..symbol import SLOW_HALF_LIFE_S, SymbolState, stream
from .base import Agent, Orders, exponential_ms, taker_units

LOOK_EVERY_S = 6.0


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class MomentumTrader(Agent):
    kind = "momentum"

    def __init__(self, name: str, seed: int, index: int) -> None:
        super().__init__(name, seed)
        self.threshold = 0.7 + 0.3 * index + 0.2 * stream(seed, name).random()

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        """A look now and then (Poisson, every LOOK_EVERY_S on average): it watches averages, not ticks."""
        return now_ms + exponential_ms(self.rng(state), LOOK_EVERY_S)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        scale = state.sigma_1s_ticks * math.sqrt(SLOW_HALF_LIFE_S)
        signal = (state.ema_fast - state.ema_slow) / scale
        position = orders.position
        cap = state.max_position
        view = orders.view
        if abs(signal) >= self.threshold:
            side = Side.BUY if signal > 0 else Side.SELL
            target = math.copysign(min(abs(signal) / 3.0, 1.0) * 0.6 * cap, signal)
            want = target - position
            if (want > 0) != (side is Side.BUY) or abs(want) < state.order_size:
                return
            qty = min(int(abs(want)), state.qty(taker_units(self.rng(state))))
        elif abs(signal) < self.threshold / 3 and position:
            side = Side.SELL if position > 0 else Side.BUY
            qty = min(abs(position), state.qty(taker_units(self.rng(state))))
        else:
            return
        touch = view.best_ask if side is Side.BUY else view.best_bid
        if touch is None:
            return
        price = touch + state.level_step if side is Side.BUY else touch - state.level_step
        orders.take(side, qty, price)
