"""The informed trader: knows the fair value and trades the market towards it.

It works parent orders, never one big order: a parent has a side and a
Pareto-sized total (tail index 1.5), and is cut into child orders sent at
random intervals. A value parent starts when the market price strays from
the fair value by more than the order flow moves it in half a minute
(`TOLERANCE_SIGMAS`: within that, the flow sets the price; or, now and
then, on its own) and
its children only trade while the price is still on the right side of the
fair value: this is how the market discovers the value, through trading.
Some parents are liquidity-driven (a fund rebalancing) and trade at the
touch whatever the value, until done or the price has run away. Split
parents give order signs their long memory; position limits are respected
by biasing new parents to reduce inventory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..symbol import SymbolState
from .base import Agent, Orders, exponential_ms, latency_ms, pareto, taker_units

PARENT_TAIL = 1.5
PARENT_MIN = 3.0
"""Smallest parent, in order sizes."""
PARENT_CAP = 60.0
CHILD_EVERY_S = 1.5
PARENT_TIMEOUT_S = 180.0
LIQUIDITY_SHARE = 0.3
"""Share of self-started parents that are liquidity-driven."""
MISPRICED_START_S = 1.0
"""Mean wait before a parent starts once the price strays more than twice the edge from the value."""
REACTION_MEDIAN_MS = 2.0
"""It watches the quotes against the value it knows, and sees a mispricing within milliseconds."""
TOLERANCE_SIGMAS = 1.0
TOLERANCE_HORIZON_S = 30.0
"""It trades on a mispricing once it exceeds this many sigmas of the price's moves over this horizon: the
flow moves the price that far unopposed, and only larger strays are pulled back towards the value."""
RUNAWAY_TICKS_PER_SIGMA = 6.0
"""A liquidity parent stops once the price ran this many one-second sigmas against it."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
@dataclass
class Parent:
    side: Side
    remaining: int
    informed: bool
    started_ms: float
    start_price: float
    next_child_ms: float


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class InformedTrader(Agent):
    kind = "informed"

    def __init__(self, name: str, seed: int, count: int) -> None:
        super().__init__(name, seed)
        self.share = 1.0 / count
        self._parents: dict[str, Parent] = {}
        self._start_ms: dict[str, float] = {}
        """sym -> when it looks for a new parent."""

    reacts = True

    def reaction_ms(self, state: SymbolState) -> float:
        return latency_ms(self.rng(state), REACTION_MEDIAN_MS)

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        """The next child of a parent; else a start, sooner (within a second) while the price strays far."""
        parent = self._parents.get(state.sym)
        if parent is not None:
            return parent.next_child_ms
        rate = state.params.informed_rate * self.share
        if abs(state.fair.value - state.mid) > self._edge(state) * 2:
            rate += 1.0 / MISPRICED_START_S
        start = now_ms + exponential_ms(self.rng(state), 1.0 / rate) if rate > 0 else math.inf
        self._start_ms[state.sym] = start
        return start

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        parent = self._parents.get(state.sym)
        if parent is not None:
            return now_ms >= parent.next_child_ms
        return now_ms >= self._start_ms.get(state.sym, math.inf)

    def _edge(self, state: SymbolState) -> float:
        """Mispricing (ticks) worth trading on: about a spread, more when liquidity is stressed."""
        tolerance = TOLERANCE_SIGMAS * state.sigma_1s_ticks * math.sqrt(TOLERANCE_HORIZON_S)
        return max(1.5, 1.5 * state.half_spread, tolerance) * (1.0 + state.stress)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        parent = self._parents.get(state.sym)
        if parent is None:
            parent = self._start(now_ms, state, orders)
            if parent is None:
                return
            self._parents[state.sym] = parent
        self._child(now_ms, state, orders, parent)

    def _start(self, now_ms: float, state: SymbolState, orders: Orders) -> Parent | None:
        rng = self.rng(state)
        fair = state.fair.value
        gap = fair - state.mid
        inventory = orders.position / state.max_position
        informed = abs(gap) > self._edge(state)
        if informed:
            side = Side.BUY if gap > 0 else Side.SELL
        elif rng.random() < LIQUIDITY_SHARE:
            side = Side.BUY if rng.random() < 0.5 - 0.5 * inventory else Side.SELL
        else:
            return None
        total = state.qty(PARENT_MIN * pareto(rng, PARENT_TAIL, PARENT_CAP / PARENT_MIN))
        total = min(total, orders.room(side))
        if total < state.order_size:
            return None
        return Parent(side, total, informed, now_ms, state.mid, now_ms)

    def _child(self, now_ms: float, state: SymbolState, orders: Orders, parent: Parent) -> None:
        rng = self.rng(state)
        parent.next_child_ms = now_ms + 1000 * CHILD_EVERY_S * -math.log(1.0 - rng.random())
        view = orders.view
        buying = parent.side is Side.BUY
        touch = view.best_ask if buying else view.best_bid
        done = parent.remaining < state.min_qty or now_ms - parent.started_ms > PARENT_TIMEOUT_S * 1000
        if touch is None or done:
            if done:
                del self._parents[state.sym]
            return
        fair = state.fair.value
        if parent.informed:
            # Trade only while the price is still good against the value; stop when it is not.
            room = (fair - touch) if buying else (touch - fair)
            if room < 0.5:
                if room < -self._edge(state):
                    del self._parents[state.sym]
                return
            limit = math.floor(fair - 0.5) if buying else math.ceil(fair + 0.5)
        else:
            moved = (state.mid - parent.start_price) * (1 if buying else -1)
            if moved > RUNAWAY_TICKS_PER_SIGMA * state.sigma_1s_ticks:
                del self._parents[state.sym]
                return
            limit = touch
        child = min(parent.remaining, state.qty(taker_units(rng)))
        sent = orders.take(parent.side, child, limit)
        parent.remaining -= sent
        if not sent:
            del self._parents[state.sym]
