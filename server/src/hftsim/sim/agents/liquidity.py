"""Liquidity providers: limit orders at random depths with random lifetimes.

Orders arrive as a Poisson stream in continuous time (faster at the busy
ends of a trading day, `SymbolState.day`); providers also look
at the market tens of milliseconds after it prints or its value moves. Each is placed at a depth below the best
price on its own side drawn from a power law (most near the touch, a tail
deep in the book: P(depth > d) ~ d^-1.5 as in real books, with no cap but
the price band), with a log-normal size of about a round lot (spikes at
whole round lots) and a lifetime from a mixture
of fleeting (about a second) and patient (tens of seconds to minutes)
orders; expired orders are canceled. Arrivals favour the thinner side, and
when a side has fewer than `mm_levels` levels the providers refill it:
liquidity replenishes after it is taken.

They are the market's deep, patient side, the latent liquidity of a real
book that refills behind a large trader (Donier, Bonart, Mastromatteo &
Bouchaud 2015): each holds far more than a trader would (`CAP_MULTIPLE`)
while leaning against its inventory as a trader does. With a trader's cap
they were full after a few thousand lots of a metaorder, and one side of
the book stayed empty for minutes.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from ...engine.commands import Side
from ..symbol import SymbolState
from .base import Agent, Orders, exponential_ms, latency_ms

FLEETING_SHARE = 0.5
FLEETING_MEAN_S = 1.5
PATIENT_MEDIAN_S = 25.0
PATIENT_SIGMA = 1.0
INSIDE_SHARE = 0.15
"""Share of arrivals that improve the best price when the spread allows."""
DEPTH_TAIL = 1.5
"""Tail index of the placement depth's CCDF (Zovko & Farmer 2002)."""
REFILL_PER_WAKE = 2
REACTION_MEDIAN_MS = 20.0
"""Providers are slower than makers: they check their orders against the market within tens of ms of news."""
ROUND_SHARE = 0.4
"""Share of limit orders at whole round lots."""
CAP_MULTIPLE = 10.0
"""Its position cap in units of a trader's: a provider holds what many traders together would."""
GUARD_SHARE = 0.5
"""Providers keep bids below (asks above) the consensus value by this share of the makers' half-spread."""


def lifetime_s(rng_random: float, rng_gauss: float, fleeting: bool) -> float:
    if fleeting:
        return -FLEETING_MEAN_S * math.log(1.0 - rng_random)
    return PATIENT_MEDIAN_S * math.exp(PATIENT_SIGMA * rng_gauss)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class LiquidityProvider(Agent):
    kind = "lp"
    cap_multiple = CAP_MULTIPLE
    reacts = True
    reacts_to_quotes = False

    def __init__(self, name: str, seed: int, index: int, count: int) -> None:
        super().__init__(name, seed)
        self.share = 1.0 / count
        self.refiller = index == 0
        self._expiry: dict[str, dict[str, float]] = {}
        """sym -> client order id -> simulated expiry time (ms)."""
        self._arrivals: dict[str, int] = {}
        self._arrival_ms: dict[str, float] = {}
        """sym -> time of its next new order."""
        self._next_check: dict[str, float] = {}
        self._guarded: dict[str, float] = {}
        """sym -> consensus value at the last check of the orders against it."""

    def reaction_ms(self, state: SymbolState) -> float:
        return latency_ms(self.rng(state), REACTION_MEDIAN_MS)

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        """Its next arrival (a Poisson stream), or sooner the next expiry of one of its orders."""
        sym = state.sym
        arrival = self._arrival_ms.get(sym)
        if arrival is None:
            rate = state.params.liquidity_rate * self.share * state.day.activity(now_ms)
            wait = exponential_ms(self.rng(state), 1.0 / rate) if rate > 0 else math.inf
            arrival = self._arrival_ms[sym] = now_ms + wait
        return min(arrival, self._next_check.get(sym, now_ms))

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        arrivals = 0
        if now_ms >= self._arrival_ms.get(state.sym, math.inf):
            arrivals = 1
            del self._arrival_ms[state.sym]
        need_refill = self.refiller and min(state.bid_levels, state.ask_levels) < state.params.mm_levels + 2
        self._arrivals[state.sym] = arrivals
        due = now_ms >= self._next_check.get(state.sym, 0.0)
        moved = abs(state.consensus - self._guarded.get(state.sym, -1e18)) >= 0.5
        return arrivals > 0 or need_refill or due or moved

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        sym = state.sym
        rng = self.rng(state)
        expiry = self._expiry.setdefault(sym, {})
        live = {o.client_order_id: o for o in orders.open}
        # Forget orders that are gone; adopt unknown live ones (e.g. after a restart) with a fresh lifetime.
        for gone in [c for c in expiry if c not in live]:
            del expiry[gone]
        next_due = math.inf
        value = state.consensus
        self._guarded[sym] = value
        guard = GUARD_SHARE * state.half_spread
        max_bid, min_ask = math.floor(value - guard), math.ceil(value + guard)
        for coid, order in live.items():
            assert order.price is not None
            if order.price > max_bid if order.side is Side.BUY else order.price < min_ask:
                orders.cancel(order)  # the value moved onto it: reprice rather than be picked off
                expiry.pop(coid or "", None)
                continue
            if coid is None:
                continue
            due = expiry.get(coid)
            if due is None:
                due = expiry[coid] = now_ms + 1000 * lifetime_s(rng.random(), rng.gauss(0, 1), False)
            if due <= now_ms:
                orders.cancel(order)
                del expiry[coid]
            else:
                next_due = min(next_due, due)
        self._next_check[sym] = next_due

        view = orders.view
        best_bid, best_ask = view.best_bid, view.best_ask
        reference = state.mid
        for _ in range(self._arrivals.get(sym, 0)):
            side = self._pick_side(state, orders)
            self._place(now_ms, state, orders, side, best_bid, best_ask, reference, expiry)
        if self.refiller:
            self._refill(now_ms, state, orders, reference, expiry)

    def _pick_side(self, state: SymbolState, orders: Orders) -> Side:
        bids, asks = orders.view.levels
        bid_depth = sum(q for _, q in bids[:10])
        ask_depth = sum(q for _, q in asks[:10])
        total = bid_depth + ask_depth
        p_buy = 0.5 + (0.3 * (ask_depth - bid_depth) / total if total else 0.0)
        p_buy -= 0.4 * orders.position / state.max_position
        return Side.BUY if self.rng(state).random() < p_buy else Side.SELL

    def _depth(self, state: SymbolState) -> int:
        """Ticks behind the best price: P(depth > d) ~ (d / depth_scale)^-DEPTH_TAIL, no cap (the band is the limit)."""
        u = self.rng(state).random()
        return int(state.depth_scale * ((1.0 - u) ** (-1.0 / DEPTH_TAIL) - 1.0))

    def _size(self, state: SymbolState) -> int:
        """Mostly one round lot or less (log-normal), a third rounded to whole round lots."""
        rng = self.rng(state)
        units = math.exp(rng.gauss(-0.3, 0.8))
        if rng.random() < ROUND_SHARE:
            units = max(1.0, round(units))
        return state.qty(units)

    def _place(
        self,
        now_ms: float,
        state: SymbolState,
        orders: Orders,
        side: Side,
        best_bid: int | None,
        best_ask: int | None,
        reference: float,
        expiry: dict[str, float],
    ) -> None:
        rng = self.rng(state)
        same = best_bid if side is Side.BUY else best_ask
        if same is None:  # empty side: start just off the reference (or the other side)
            if side is Side.BUY:
                same = math.floor(reference - state.half_spread)
                same = min(same, best_ask - 1) if best_ask is not None else same
            else:
                same = math.ceil(reference + state.half_spread)
                same = max(same, best_bid + 1) if best_bid is not None else same
        spread = (best_ask - best_bid) if best_bid is not None and best_ask is not None else 0
        if spread > 1 and rng.random() < INSIDE_SHARE:
            improve = rng.randint(1, spread - 1)
            price = same + improve if side is Side.BUY else same - improve
        else:
            depth = self._depth(state)
            price = same - depth if side is Side.BUY else same + depth
        # Never cross (a provider only rests), and never quote through the value.
        guard = GUARD_SHARE * state.half_spread
        if side is Side.BUY:
            price = min(price, math.floor(state.consensus - guard))
            if best_ask is not None:
                price = min(price, best_ask - 1)
        else:
            price = max(price, math.ceil(state.consensus + guard))
            if best_bid is not None:
                price = max(price, best_bid + 1)
        coid = orders.limit(side, price, self._size(state))
        if coid is not None:
            fleeting = rng.random() < FLEETING_SHARE
            expiry[coid] = now_ms + 1000 * lifetime_s(rng.random(), rng.gauss(0, 1), fleeting)

    def _refill(
        self, now_ms: float, state: SymbolState, orders: Orders, reference: float, expiry: dict[str, float]
    ) -> None:
        """Put orders on missing levels near the touch of a thin side."""
        target = state.params.mm_levels + 2
        bids, asks = orders.view.levels
        step = state.level_step
        rng = self.rng(state)
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            if len(levels) >= target:
                continue
            present = {p for p, _ in levels}
            if levels:
                start = levels[0][0]
            elif side is Side.BUY:
                start = asks[0][0] - 1 if asks else math.floor(reference - state.half_spread)
            else:
                start = bids[0][0] + 1 if bids else math.ceil(reference + state.half_spread)
            sign = -1 if side is Side.BUY else 1
            placed = 0
            for k in range(1, 4 * target):
                if placed >= REFILL_PER_WAKE:
                    break
                # Anywhere within the step when it spans several ticks: no piles at fixed depths.
                price = start + sign * (k * step + (rng.randrange(step) if step > 1 else 0))
                if price in present:
                    continue
                coid = orders.limit(side, price, self._size(state))
                if coid is None:
                    break
                expiry[coid] = now_ms + 1000 * lifetime_s(rng.random(), rng.gauss(0, 1), False)
                placed += 1
