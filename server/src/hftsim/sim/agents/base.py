"""What every agent shares: identity, its random streams, and an order sink.

An agent is an ordinary account. It says when it next wants to look at a
symbol (`next_wake_ms`: its own arrivals and timers, in continuous time)
and, if it `reacts`, how long it takes to react to a print or a moved touch
there (`reaction_ms`). At each wake-up the simulation gives it an `Orders`
sink bound to that symbol's `StepView`; the agent reads
its position and open orders from there and emits commands through it. The
sink enforces the rules an agent must never break on its own side: prices on
the band, quantities on the lot, and the worst-case position (position plus
open orders on the growing side, exactly as the engine's risk check counts
it) within the agent's cap, so agents never pile up POSITION_LIMIT
rejections.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import ClassVar

from mypy_extensions import mypyc_attr

from ...engine import OrderView
from ...engine.commands import AmendOrder, CancelOrder, Command, OrderType, PlaceOrder, Side, Tif
from ..market import StepView
from ..symbol import SymbolState, stream


class Orders:
    """Commands of one agent for one symbol at one wake-up, with its exposure kept up to date.

    It reads the market only when asked: most wake-ups need the position and
    the room on a side (one read of the engine's running totals), and only
    some the list of open orders (a view built per order).
    """

    __slots__ = ("_open_buy", "_open_sell", "_out", "agent", "state", "user_id", "view")

    def __init__(self, agent: Agent, state: SymbolState, view: StepView, out: list[Command]) -> None:
        assert agent.user_id is not None
        self.agent = agent
        self.user_id = agent.user_id
        self.state = state
        self.view = view
        self._out = out
        self._open_buy: int | None = None
        """Leaves of its open buy orders, commands of this wake-up included (None: not read yet)."""
        self._open_sell = 0

    @property
    def position(self) -> int:
        return self.view.exposure(self.user_id)[0]

    @property
    def open(self) -> list[OrderView]:
        """Its open orders on the symbol, oldest first, as they were when the wake-up began."""
        return self.view.open_orders(self.user_id)

    @property
    def cap(self) -> int:
        return self.agent.position_cap(self.state)

    def _open_qty(self) -> tuple[int, int]:
        """Leaves of its open buy and sell orders (read once, then kept up to date by the commands)."""
        if self._open_buy is None:
            _, self._open_buy, self._open_sell = self.view.exposure(self.user_id)
        return self._open_buy, self._open_sell

    def _add_open(self, side: Side, qty: int) -> None:
        open_buy, open_sell = self._open_qty()
        if side is Side.BUY:
            self._open_buy = open_buy + qty
        else:
            self._open_sell = open_sell + qty

    # Room ----------------------------------------------------------------------

    def room(self, side: Side) -> int:
        """Largest quantity the agent may still add on `side` (counting its open orders)."""
        open_buy, open_sell = self._open_qty()
        if side is Side.BUY:
            worst = self.position + open_buy
        else:
            worst = open_sell - self.position
        return max(0, self.cap - worst)

    def _fit(self, side: Side, qty: int) -> int:
        state = self.state
        lot = state.lot
        qty = min(qty, self.room(side), state.max_order_lots)
        qty = (qty // lot) * lot
        return qty if qty >= state.min_qty else 0

    # Commands ------------------------------------------------------------------

    def limit(self, side: Side, price: int, qty: int, *, post_only: bool = False) -> str | None:
        """A resting (GTC) limit order, trimmed to the room; returns its client order id, or None if not sent."""
        if self.state.clamp_price(price) is None:
            return None
        qty = self._fit(side, qty)
        if not qty:
            return None
        coid = self.agent.next_coid()
        self._out.append(
            PlaceOrder(self.user_id, self.state.sym, side, qty, price, OrderType.LIMIT, Tif.GTC, post_only, coid)
        )
        self._add_open(side, qty)
        return coid

    def take(self, side: Side, qty: int, limit_price: int | None = None) -> int:
        """A marketable order: IOC at `limit_price` (clamped into the band), or a market order; returns the qty sent."""
        qty = self._fit(side, qty)
        if not qty:
            return 0
        state = self.state
        if limit_price is None:
            command = PlaceOrder(
                self.user_id, state.sym, side, qty, None, OrderType.MARKET, Tif.IOC, False, self.agent.next_coid()
            )
        else:
            price = min(max(limit_price, state.band_low), state.band_high)
            command = PlaceOrder(
                self.user_id, state.sym, side, qty, price, OrderType.LIMIT, Tif.IOC, False, self.agent.next_coid()
            )
        self._out.append(command)
        return qty

    def cancel(self, order: OrderView) -> None:
        self._out.append(CancelOrder(self.user_id, order.order_id))
        self._add_open(order.side, -order.leaves_qty)

    def cancel_all(self, orders: Iterable[OrderView]) -> None:
        for order in orders:
            self.cancel(order)

    def move(self, order: OrderView, price: int) -> bool:
        """Move a resting order to a new price (it loses its queue place; its size stays).

        Only the price is amended: a quantity computed from this wake-up's view could
        fall below what fills of earlier commands left, and be refused.
        """
        if self.state.clamp_price(price) is None:
            return False
        if price != order.price:
            self._out.append(AmendOrder(self.user_id, order.order_id, None, price, None))
        return True


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Agent:
    """Base of every agent: one account trading every symbol it is given."""

    kind: ClassVar[str] = "agent"
    reacts: ClassVar[bool] = False
    """Whether it wakes (after `reaction_ms`) when a symbol it trades prints."""
    reacts_to_quotes: ClassVar[bool] = True
    """If it reacts: also when the touch moves without a print."""
    shares_clock: ClassVar[bool] = False
    """Whether its arrivals excite the rate of its peers (same kind, same symbol): they then redraw their next wake."""
    cap_multiple: ClassVar[float] = 1.0
    """Its position cap in units of the agents' cap (`SymbolState.max_position`), within the server's limit."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.seed = seed
        self.user_id: int | None = None
        self._rngs: dict[str, random.Random] = {}
        """sym -> its random stream there (`rng`)."""
        self.run_id = ""
        """Names this run of the agent in its client order ids, which the engine never lets a user reuse."""
        self._coid = 0

    def rng(self, state: SymbolState) -> random.Random:
        """Its random stream on the symbol: one per symbol, so what it draws on one symbol (how often it
        wakes there, what it trades) never shifts what it draws on another, and each symbol's tape depends
        on the seed and that symbol's settings only."""
        rng = self._rngs.get(state.sym)
        if rng is None:
            rng = self._rngs[state.sym] = stream(self.seed, self.name, state.sym)
        return rng

    def next_coid(self) -> str:
        self._coid += 1
        return f"{self.name}-{self.run_id}-{self._coid}"

    def position_cap(self, state: SymbolState) -> int:
        """The cap its worst-case position keeps within on the symbol."""
        return state.position_cap(self.cap_multiple * state.max_position)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        """Decide this wake-up's commands for one symbol (now_ms: simulated time; dt_s: since its last wake-up)."""
        raise NotImplementedError

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        """Cheap check before the sink (which reads position and orders) is built; default: always."""
        return True

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        """When it next wants to look at the symbol of its own accord (simulated ms; inf: not until it reacts).

        Asked after every wake-up, reactions included, so a timer the agent
        keeps must stay where it is, and a random look is drawn afresh
        (exponential waits are memoryless: redrawing them changes nothing).
        """
        raise NotImplementedError

    def reaction_ms(self, state: SymbolState) -> float:
        """A sampled latency (ms) from seeing a print or a moved touch on the symbol to acting on it (agents that
        react)."""
        raise NotImplementedError


def exponential_ms(rng: random.Random, mean_s: float) -> float:
    """An exponential wait in ms with mean `mean_s` seconds (the gap of a Poisson stream)."""
    return -1000.0 * mean_s * math.log(1.0 - rng.random())


def latency_ms(rng: random.Random, median_ms: float, sigma: float = 0.8) -> float:
    """A log-normal latency: computers react within a tight range, with the occasional slow one."""
    return median_ms * math.exp(sigma * rng.gauss(0.0, 1.0))


def pareto(rng: random.Random, alpha: float, cap: float) -> float:
    """Pareto sample >= 1 with tail index `alpha`, truncated at `cap`."""
    return min(float((1.0 - rng.random()) ** (-1.0 / alpha)), cap)


TAKER_TAIL = 1.4
"""Tail index of aggressive order sizes above one round lot: P(size > x) ~ x^-1.4 (Maslov & Mills 2001)."""
TAKER_CAP = 40.0
TAKER_ODD_SHARE = 0.5
"""Share of aggressive orders below one round lot (odd lots)."""
ROUND_SHARE = 0.85
"""Share of the larger orders rounded down to whole round lots: sizes cluster on round numbers."""


def taker_units(rng: random.Random, cap: float = TAKER_CAP) -> float:
    """Size of one aggressive order in round lots (the symbol's order size), for every kind of taker.

    Real market orders are mostly one round lot or less, with a power-law
    tail and spikes at whole round lots; a taker that wants less (the rest
    of a parent, its room) takes the smaller of the two.
    """
    if rng.random() < TAKER_ODD_SHARE:
        return rng.uniform(0.1, 1.0)
    units = pareto(rng, TAKER_TAIL, cap)
    return float(math.floor(units)) if rng.random() < ROUND_SHARE else units
