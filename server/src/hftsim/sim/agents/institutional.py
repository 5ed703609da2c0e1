"""Institutional traders: work large, uninformed parent orders over minutes.

A fund rebalancing does not send its order at once: it cuts a parent order
into child orders and feeds them to the market over minutes, as a share of
what the market trades (children per print, `PARTICIPATION`), so it trades
faster when the symbol is busy. Parent sizes are Pareto (tail index
`PARENT_TAIL` = 1.5, Lillo-Mike-Farmer) from 20 to 400 order sizes, so a
few parents run for many hundreds of children; the children are small
marketable orders, often in quick bursts. The side of a new parent is
random, leaning against the account's inventory only once it nears its cap
(a fund's cap, `CAP_MULTIPLE` times a trader's), so successive parents stay
nearly independent.

Interleaved with everybody else's orders, these runs of same-side children
are what gives the trade signs their long memory (autocorrelation decaying
like a power law of the lag, still clearly positive a hundred trades later).
The price does not trend with them: the market anticipates flow that keeps
coming and prices a growing imbalance by its square root (see
`SymbolState.observe`), and the informed and mean-reversion traders lean
against the price once it strays from the value. A parent is abandoned when
the price ran far against it for its age (the fund stops chasing).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..symbol import LN2, SymbolState, stream
from .base import Agent, Orders, pareto, taker_units

PARENT_TAIL = 1.5
"""Tail index of parent sizes: P(size > x) ~ x^-1.5."""
PARENT_MIN = 20.0
"""Smallest parent, in order sizes."""
PARENT_CAP = 400.0
"""Largest parent, in order sizes: far enough out that the power law holds over hundreds of orders."""
PARTICIPATION = 0.35
"""Children per print of the symbol: the parent is worked as a share of the market's activity."""
ACTIVITY_HALF_LIFE_S = 30.0
"""Half-life of its estimate of the symbol's prints per second."""
CHILD_EVERY_S = 1.0
"""Mean time between children before it has seen the symbol trade."""
CHILD_GAP_RANGE_S = (0.25, 10.0)
"""The mean gap between children stays within this range however busy or quiet the symbol is."""
BURST_SHARE = 0.6
BURST_GAP = 0.15
"""Mean gap inside a burst of children, in mean gaps: they follow each other quickly, then pause."""
PAUSE_GAP = (1 - BURST_SHARE * BURST_GAP) / (1 - BURST_SHARE)
CHILD_MAX = 1.0
"""Children are the takers' sizes (`base.taker_units`) up to one round lot: a fund feeds its parent in bites."""
PAUSE_MEAN_S = 5.0
"""Mean pause between the end of a parent and the start of the next."""
PARENT_TIMEOUT_S = 1800.0
RUNAWAY_SIGMAS = 4.0
RUNAWAY_FLOOR_S = 10.0
"""A parent is abandoned once the mid ran this many sigmas of its age (at least RUNAWAY_FLOOR_S) against it."""
CAP_MULTIPLE = 4.0
"""A fund holds far more than a trader: its position cap in units of the agents' cap."""
INVENTORY_LEAN = 1.0
"""How strongly the side of a new parent leans against inventory: by the cube of its share of the cap, so
only a position near the cap makes the next parent's side predictable."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
@dataclass
class _Parent:
    side: Side
    remaining: int
    started_ms: float
    start_price: float


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
@dataclass
class _Activity:
    """Its estimate of how busy a symbol is: prints per second, from the prints seen between wake-ups."""

    prints: int
    at_ms: float
    rate: float = 0.0

    def update(self, prints: int, now_ms: float) -> None:
        dt_s = (now_ms - self.at_ms) / 1000
        if dt_s <= 0:
            return
        weight = -math.expm1(-LN2 * dt_s / ACTIVITY_HALF_LIFE_S)
        self.rate += weight * ((prints - self.prints) / dt_s - self.rate)
        self.prints, self.at_ms = prints, now_ms


def child_gap_s(prints_per_s: float, rng: random.Random) -> float:
    """Time to the next child: a share of the symbol's activity, often in a quick burst, else after a pause."""
    low, high = CHILD_GAP_RANGE_S
    mean = min(high, max(low, 1 / (PARTICIPATION * prints_per_s))) if prints_per_s > 0 else CHILD_EVERY_S
    spell = BURST_GAP if rng.random() < BURST_SHARE else PAUSE_GAP
    return mean * spell * -math.log(1.0 - rng.random())


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class InstitutionalTrader(Agent):
    kind = "inst"
    cap_multiple = CAP_MULTIPLE

    def __init__(self, name: str, seed: int) -> None:
        super().__init__(name, seed)
        self._plans: dict[str, random.Random] = {}
        """sym -> the sides and sizes of its parents there, apart from the children's timing and sizes (`rng`): a
        run with one more trader in it changes when the children go, not which parents the fund works."""
        self._parents: dict[str, _Parent] = {}
        self._next_ms: dict[str, float] = {}
        """sym -> simulated time of the next child (or of the next parent's start)."""
        self._activity: dict[str, _Activity] = {}

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        due = self._next_ms.get(state.sym)
        if due is None:
            # Start staggered, so several accounts do not begin together.
            due = self._next_ms[state.sym] = now_ms + 1000 * PAUSE_MEAN_S * self.rng(state).random()
            self._activity[state.sym] = _Activity(state.prints, now_ms)
        return due

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        return now_ms >= self._next_ms.get(state.sym, math.inf)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        rng = self.rng(state)
        sym = state.sym
        activity = self._activity[sym]
        activity.update(state.prints, now_ms)
        parent = self._parents.get(sym)
        if parent is None:
            parent = self._start(now_ms, state, orders)
            if parent is None:
                self._next_ms[sym] = now_ms + 1000 * PAUSE_MEAN_S * -math.log(1.0 - rng.random())
                return
            self._parents[sym] = parent
        self._next_ms[sym] = now_ms + 1000 * child_gap_s(activity.rate, rng)
        buying = parent.side is Side.BUY
        moved = (state.mid - parent.start_price) * (1 if buying else -1)
        age_s = (now_ms - parent.started_ms) / 1000
        view = orders.view
        touch = view.best_ask if buying else view.best_bid
        if (
            parent.remaining < state.min_qty
            or age_s > PARENT_TIMEOUT_S
            or moved > RUNAWAY_SIGMAS * state.sigma_1s_ticks * math.sqrt(max(age_s, RUNAWAY_FLOOR_S))
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

    def _start(self, now_ms: float, state: SymbolState, orders: Orders) -> _Parent | None:
        rng = self._plans.get(state.sym)
        if rng is None:
            rng = self._plans[state.sym] = stream(self.seed, self.name, "parents", state.sym)
        inventory = orders.position / orders.cap
        side = Side.BUY if rng.random() < 0.5 - 0.5 * INVENTORY_LEAN * inventory**3 else Side.SELL
        total = state.qty(PARENT_MIN * pareto(rng, PARENT_TAIL, PARENT_CAP / PARENT_MIN))
        total = min(total, orders.room(side))
        if total < state.order_size:
            return None
        return _Parent(side, total, now_ms, state.mid)
