"""Mean-reversion traders: lean against stretched prices with resting orders.

Each looks now and then at how far the last trade price sits from its slow
moving average (in units of the volatility expected over that window). When
the stretch passes its threshold it rests a limit order at the touch
against the move (selling after a rise), which absorbs persistent flow and
keeps returns uncorrelated; when the price is back near the average it
unwinds its position passively. Orders it no longer wants are canceled.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..symbol import SLOW_HALF_LIFE_S, SymbolState, stream
from .base import Agent, Orders, exponential_ms

LOOK_EVERY_S = 3.0
ORDER_LIFETIME_S = 15.0


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class MeanReversionTrader(Agent):
    kind = "meanrev"

    def __init__(self, name: str, seed: int, index: int) -> None:
        super().__init__(name, seed)
        self.threshold = 1.0 + 0.3 * index + 0.2 * stream(seed, name).random()
        self._placed: dict[str, float] = {}

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        """A look now and then (Poisson, every LOOK_EVERY_S on average): it watches averages, not ticks."""
        return now_ms + exponential_ms(self.rng(state), LOOK_EVERY_S)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        scale = state.sigma_1s_ticks * math.sqrt(SLOW_HALF_LIFE_S)
        stretch = (state.last - state.ema_slow) / scale
        position = orders.position
        cap = state.max_position
        view = orders.view
        side: Side | None = None
        qty = 0
        if abs(stretch) >= self.threshold:
            side = Side.SELL if stretch > 0 else Side.BUY
            target = -math.copysign(min(abs(stretch) / 3.0, 1.0) * 0.5 * cap, stretch)
            want = target - position
            if (want > 0) == (side is Side.BUY) and abs(want) >= state.order_size:
                qty = min(int(abs(want)), state.qty(self.rng(state).uniform(1.0, 4.0)))
        elif abs(stretch) < self.threshold / 2 and position:
            side = Side.SELL if position > 0 else Side.BUY
            qty = min(abs(position), state.qty(self.rng(state).uniform(1.0, 3.0)))

        # Cancel what no longer fits: wrong side, or older than its lifetime.
        placed_at = self._placed.get(state.sym, -math.inf)
        stale = now_ms - placed_at > ORDER_LIFETIME_S * 1000
        for order in orders.open:
            if order.side is not side or stale:
                orders.cancel(order)
        if side is None or not qty:
            return
        if any(o.side is side for o in orders.open) and not stale:
            return
        bid, ask = view.best_bid, view.best_ask
        if bid is None or ask is None:
            return
        if side is Side.BUY:
            price = bid + 1 if ask - bid > 1 else bid
        else:
            price = ask - 1 if ask - bid > 1 else ask
        if orders.limit(side, price, qty) is not None:
            self._placed[state.sym] = now_ms
