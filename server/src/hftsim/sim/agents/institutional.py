"""Institutional traders: work large, uninformed parent orders over minutes.

A fund rebalancing does not send its order at once: it cuts a parent order
into child orders and feeds them to the market over minutes. Parent sizes
are Pareto (tail index `PARENT_TAIL` = 1.5, Lillo-Mike-Farmer), so a few
parents are very long; the children are small marketable orders sent at
random intervals. The side of a new parent is random, leaning against the
account's inventory so its position stays well inside its cap.

Interleaved with everybody else's orders, these runs of same-side children
are what gives the trade signs their long memory (autocorrelation decaying
like a power law of the lag, still clearly positive ten trades later). The
price does not trend with them: the market anticipates flow that keeps
coming (see `SymbolState.observe`), and the informed and mean-reversion
traders lean against the price once it strays from the value. A parent is
abandoned when the price ran far against it (the fund stops chasing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...engine.commands import Side
from ..symbol import SymbolState
from .base import Agent, Orders, pareto, taker_units

PARENT_TAIL = 1.5
"""Tail index of parent sizes: P(size > x) ~ x^-1.5."""
PARENT_MIN = 5.0
"""Smallest parent, in order sizes."""
PARENT_CAP = 60.0
"""Largest parent, in order sizes (inside the agents' position cap)."""
CHILD_EVERY_S = 1.0
"""Mean time between children: a mixture of bursts and pauses with this mean."""
BURST_SHARE = 0.6
BURST_GAP_S = 0.15
"""Mean gap inside a burst of children (exponential): they follow each other within milliseconds."""
PAUSE_GAP_S = (CHILD_EVERY_S - BURST_SHARE * BURST_GAP_S) / (1 - BURST_SHARE)
CHILD_MAX = 1.0
"""Children are the takers' sizes (`base.taker_units`) up to one round lot: a fund feeds its parent in bites."""
PAUSE_MEAN_S = 5.0
"""Mean pause between the end of a parent and the start of the next."""
PARENT_TIMEOUT_S = 600.0
RUNAWAY_SIGMAS = 12.0
"""A parent is abandoned once the mid ran this many one-second sigmas against it."""
INVENTORY_LEAN = 1.0
"""How strongly the side of a new parent leans against inventory (share of cap -> probability)."""


@dataclass
class _Parent:
    side: Side
    remaining: int
    started_ms: float
    start_price: float


class InstitutionalTrader(Agent):
    kind = "inst"

    def __init__(self, name: str, seed: int) -> None:
        super().__init__(name, seed)
        self._parents: dict[str, _Parent] = {}
        self._next_ms: dict[str, float] = {}
        """sym -> simulated time of the next child (or of the next parent's start)."""

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        due = self._next_ms.get(state.sym)
        if due is None:
            # Start staggered, so several accounts do not begin together.
            due = self._next_ms[state.sym] = now_ms + 1000 * PAUSE_MEAN_S * self.rng.random()
        return due

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        return now_ms >= self._next_ms.get(state.sym, math.inf)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        rng = self.rng
        sym = state.sym
        parent = self._parents.get(sym)
        if parent is None:
            parent = self._start(now_ms, state, orders)
            if parent is None:
                self._next_ms[sym] = now_ms + 1000 * PAUSE_MEAN_S * -math.log(1.0 - rng.random())
                return
            self._parents[sym] = parent
        self._next_ms[sym] = now_ms + 1000 * self._child_gap_s()
        buying = parent.side is Side.BUY
        moved = (state.mid - parent.start_price) * (1 if buying else -1)
        view = orders.view
        touch = view.best_ask if buying else view.best_bid
        if (
            parent.remaining < state.min_qty
            or now_ms - parent.started_ms > PARENT_TIMEOUT_S * 1000
            or moved > RUNAWAY_SIGMAS * state.sigma_1s_ticks
        ):
            del self._parents[sym]
            self._next_ms[sym] = now_ms + 1000 * PAUSE_MEAN_S * -math.log(1.0 - rng.random())
            return
        if touch is None:
            return
        child = min(parent.remaining, state.qty(min(CHILD_MAX, taker_units(rng))))
        sent = orders.take(parent.side, child, touch)
        parent.remaining -= sent
        if not sent:  # no room left on this side: the parent is done
            del self._parents[sym]

    def _child_gap_s(self) -> float:
        """Time to the next child: often a quick burst (an execution algorithm slicing), else a pause."""
        rng = self.rng
        if rng.random() < BURST_SHARE:
            return BURST_GAP_S * -math.log(1.0 - rng.random())
        return PAUSE_GAP_S * -math.log(1.0 - rng.random())

    def _start(self, now_ms: float, state: SymbolState, orders: Orders) -> _Parent | None:
        rng = self.rng
        inventory = orders.position / state.max_position
        side = Side.BUY if rng.random() < 0.5 - 0.5 * INVENTORY_LEAN * inventory else Side.SELL
        total = state.qty(PARENT_MIN * pareto(rng, PARENT_TAIL, PARENT_CAP / PARENT_MIN))
        total = min(total, orders.room(side))
        if total < state.order_size:
            return None
        return _Parent(side, total, now_ms, state.mid)
