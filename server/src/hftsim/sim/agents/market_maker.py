"""Market makers: a ladder of quotes on both sides around their value estimate.

The estimate is the market's consensus value (the fair value seen through
a common error, moved by aggressive flow: see `SymbolState.consensus`) with
a persistent private error on top (`mm_error_bps`). Other participants' quotes that are
stale by more than a spread against the estimate are picked off. Quotes are skewed against inventory (centre
and sizes), widen when recent volatility or one-sided (informed) flow is
high, widen and thin after a shock (liquidity stress, `SymbolState.stress`;
they refill gradually as it fades), quote thinner at the busy ends of a
trading day (`SymbolState.day`), and never cross other participants'
best prices. A maker reacts to every print and moved touch within a
fraction of a millisecond, and also looks now and then on its own. Requoting diffs the
target ladder against the resting orders, so a one-tick move costs one
amend per side, not a full cancel-and-replace; deeper levels may rest
anywhere within a band of prices (`level_band`), so they stay put while
the touch moves less than a band.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

from ...engine import OrderView
from ...engine.commands import Side
from ..market import others_best
from ..symbol import LN2, SymbolState
from .base import Agent, Orders, exponential_ms, latency_ms

ERROR_HALF_LIFE_S = 30.0
"""Persistence of a maker's private error about the fair value."""
TOXICITY_HALF_LIFE_S = 10.0
TOXICITY_FREE = 3.0
"""Net fills (order sizes) a maker takes as normal before it widens."""
MAX_VOL_WIDENING = 2.0
STRESS_WIDENING = 0.25
"""Half-spread added per unit of liquidity stress (share of the normal half-spread)."""
STRESS_THINNING = 0.5
"""Quote sizes are divided by 1 + this times the stress: thin books after shocks."""
LOSS_THINNING = 0.15
"""And by this much more per net fill (order size) beyond TOXICITY_FREE: makers withdraw after losses."""
PICK_OFF_SIZE = 2.0
"""Order sizes taken at once from stale quotes."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
@dataclass
class _Book:
    """A maker's per-symbol state."""

    error: float = 0.0
    """Private log error on the fair value."""
    centre: float | None = None
    half: float = 0.0
    signed_fills: float = 0.0
    """Recent net fills in order sizes (decaying): one-sided fills mean informed flow."""
    last_position: int | None = None
    last_ms: float = 0.0
    look_ms: float = 0.0
    """When its next periodic look is due."""
    prints: int = 0
    """The symbol's prints when it last acted."""
    quoted: dict[Side, dict[int, int]] = field(default_factory=dict)


def level_band(k: int, step: int, behind: bool) -> tuple[int, int]:
    """Ticks behind the maker's touch price between which its level k may rest (nearest, farthest).

    With a one-tick step every level is one price, k ticks deep. When the step spans several
    ticks (a value that moves many ticks a second), level k >= 1 spreads over k^2 to (k+1)^2
    steps, wider the deeper it is, and the touch level of a maker behind other participants'
    best price spreads over one step: neither has to chase every tick the touch moves, so, as
    in real books, most new orders go to the best price and no depth behind it collects a pile
    of them.
    """
    if step == 1:
        return k, k
    if k == 0:
        return 0, step - 1 if behind else 0
    return step * k * k, step * (k + 1) ** 2 - 1


def within(band: tuple[int, int, float], rng: random.Random) -> int:
    """A price drawn anywhere within the band (its one price when it is one)."""
    low, high, _ = band
    return low if low == high else low + rng.randrange(high - low + 1)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class MarketMaker(Agent):
    kind = "mm"
    reacts = True

    def __init__(self, name: str, seed: int, index: int) -> None:
        super().__init__(name, seed)
        # Makers differ: the first is tight and small, later ones wider and bigger.
        self.width = 1.0 + 0.5 * index
        self.size = 1.5 + 1.0 * index
        self.error_scale = 1.0 + 0.5 * index
        """Its private error in units of the symbol's `mm_error_bps`: later makers see the value less precisely."""
        self.look_s = 0.3 + 0.2 * index
        """Mean time between its periodic looks, between reactions."""
        self.reaction_median_ms = 0.25 * (1 + index)
        """Median latency from a print or a moved touch to its requote: a co-located machine."""
        self._books: dict[str, _Book] = {}

    def _book(self, state: SymbolState) -> _Book:
        book = self._books.get(state.sym)
        if book is None:
            book = self._books[state.sym] = _Book(error=self.rng(state).gauss(0.0, self._error_sd(state)))
        return book

    def _error_sd(self, state: SymbolState) -> float:
        """Standard deviation of its private log error on the symbol."""
        return state.params.mm_error_bps * self.error_scale * 1e-4

    def wants_to_act(self, now_ms: float, dt_s: float, state: SymbolState) -> bool:
        book = self._book(state)
        keep = math.exp(-LN2 * dt_s / ERROR_HALF_LIFE_S)
        sd = self._error_sd(state)
        book.error = book.error * keep + sd * math.sqrt(1 - keep * keep) * self.rng(state).gauss(0.0, 1.0)
        if book.centre is None or book.prints != state.prints:
            return True  # first quotes, or something traded (perhaps against its quotes)
        # Requote when the centre it would quote around moved; otherwise on its periodic look.
        inventory = (book.last_position or 0) / state.max_position
        centre = state.consensus * math.exp(book.error) - inventory * 2.0 * book.half
        return abs(centre - book.centre) >= state.requote_ticks or now_ms >= book.look_ms

    def next_wake_ms(self, now_ms: float, state: SymbolState) -> float:
        book = self._book(state)
        book.look_ms = now_ms + exponential_ms(self.rng(state), self.look_s)
        return book.look_ms

    def reaction_ms(self, state: SymbolState) -> float:
        return latency_ms(self.rng(state), self.reaction_median_ms)

    def act(self, now_ms: float, dt_s: float, state: SymbolState, orders: Orders) -> None:
        book = self._book(state)
        position = orders.position
        cap = state.max_position
        if book.last_position is not None:
            keep = math.exp(-LN2 * (now_ms - book.last_ms) / 1000 / TOXICITY_HALF_LIFE_S)
            book.signed_fills = book.signed_fills * keep + (position - book.last_position) / state.order_size
        book.last_position = position
        book.last_ms = now_ms
        book.prints = state.prints
        toxicity = max(0.0, abs(book.signed_fills) - TOXICITY_FREE)

        estimate = state.consensus * math.exp(book.error)
        inventory = position / cap
        half = state.half_spread * self.width
        half *= (
            1.0
            + min(0.8 * max(0.0, state.vol_ratio - 1.0), MAX_VOL_WIDENING)
            + 0.1 * min(toxicity, 10.0)
            + STRESS_WIDENING * state.stress
        )
        centre = estimate - inventory * 2.0 * half
        if book.centre is not None and abs(centre - book.centre) < state.requote_ticks and abs(half - book.half) < 0.5:
            if book.quoted and self._intact(book, orders.open):
                return
            centre, half = book.centre, book.half
        book.centre, book.half = centre, half

        own_bids: dict[int, int] = {}
        own_asks: dict[int, int] = {}
        for order in orders.open:
            target = own_bids if order.side is Side.BUY else own_asks
            assert order.price is not None
            target[order.price] = target.get(order.price, 0) + order.leaves_qty
        view = orders.view
        best_ask = others_best(view.asks, own_asks)
        best_bid = others_best(view.bids, own_bids)
        self._pick_off(state, orders, estimate, half, best_bid, best_ask)
        if half < 0.5:
            # A spread under a tick: quote the one-tick market around the centre (a large-tick book).
            bid0 = math.floor(centre)
            ask0 = bid0 + 1
        else:
            bid0 = math.floor(centre - half)
            ask0 = math.ceil(centre + half)
        if best_ask is not None:
            bid0 = min(bid0, best_ask - 1)
        if best_bid is not None:
            ask0 = max(ask0, best_bid + 1)

        step = state.level_step
        levels = state.params.mm_levels
        # After losing to one-sided (informed) flow a maker withdraws: thinner quotes until it recovers.
        withdrawn = 1.0 + STRESS_THINNING * state.stress + LOSS_THINNING * min(toxicity, 10.0)
        # Thinner still while the day is busy (the open and the close): depth builds up towards midday.
        base = self.size * state.order_size / withdrawn / math.sqrt(state.day.activity(now_ms))
        buy_scale = max(0.0, min(1.0, 1.0 - inventory))
        sell_scale = max(0.0, min(1.0, 1.0 + inventory))
        scales = {Side.BUY: buy_scale, Side.SELL: sell_scale}
        quoted: dict[Side, dict[int, int]] = {}
        for side, best, others in ((Side.BUY, bid0, best_bid), (Side.SELL, ask0, best_ask)):
            sign = -1 if side is Side.BUY else 1
            behind = others is not None and (others > best if side is Side.BUY else others < best)
            bands = []
            for k in range(levels):
                qty = base * (1 + 0.5 * k) * scales[side]
                if qty >= state.min_qty:
                    nearest, farthest = level_band(k, step, behind)
                    near, far = best + sign * nearest, best + sign * farthest
                    bands.append((min(near, far), max(near, far), qty))
            quoted[side] = self._requote(orders, side, bands, [o for o in orders.open if o.side is side])
        book.quoted = quoted

    def _pick_off(
        self,
        state: SymbolState,
        orders: Orders,
        estimate: float,
        half: float,
        best_bid: int | None,
        best_ask: int | None,
    ) -> None:
        """Take others' quotes that sit through the estimate by more than a spread."""
        edge = max(1.0, 2 * half)
        if best_ask is not None and best_ask < estimate - edge:
            orders.take(Side.BUY, state.qty(PICK_OFF_SIZE), math.floor(estimate - edge))
        elif best_bid is not None and best_bid > estimate + edge:
            orders.take(Side.SELL, state.qty(PICK_OFF_SIZE), math.ceil(estimate + edge))

    def _intact(self, book: _Book, open_orders: list[OrderView]) -> bool:
        """True when every quoted level still rests with at least half its size."""
        resting: dict[Side, dict[int, int]] = {Side.BUY: {}, Side.SELL: {}}
        for order in open_orders:
            assert order.price is not None
            levels = resting[order.side]
            levels[order.price] = levels.get(order.price, 0) + order.leaves_qty
        for side, quoted in book.quoted.items():
            for price, qty in quoted.items():
                if resting[side].get(price, 0) * 2 < qty:
                    return False
        return True

    def _requote(
        self, orders: Orders, side: Side, bands: list[tuple[int, int, float]], current: list[OrderView]
    ) -> dict[int, int]:
        """Rest one order in each band of prices (best first; see `level_band`: one price at the touch,
        and anywhere within a band deeper in the book, so the ladder has no piles at fixed depths).

        An order already inside its band, or within the band's width of it, stays where it is: a
        move of the best price by less than a band leaves the deeper levels alone instead of moving
        every one of them.
        """
        keep: dict[int, OrderView] = {}
        """Band index -> the resting order that already serves it."""
        stale: list[OrderView] = []
        for order in sorted(current, key=lambda o: o.order_id):
            assert order.price is not None
            price = order.price
            placed = next(
                (
                    i
                    for i, (low, high, _) in enumerate(bands)
                    if 2 * low - high <= price <= 2 * high - low and i not in keep
                ),
                None,
            )
            if placed is None:
                stale.append(order)
            else:
                keep[placed] = order
        # Stale orders move to missing levels (one amend instead of a cancel and a place);
        # leftovers are canceled first, so the room is known.
        missing = [i for i in range(len(bands)) if i not in keep]
        moves = list(zip(missing, stale, strict=False))
        for order in stale[len(moves) :]:
            orders.cancel(order)
        quoted: dict[int, int] = {}
        rng = self.rng(orders.state)
        for i, order in keep.items():
            qty = int(bands[i][2])
            assert order.price is not None
            if order.leaves_qty > 2 * qty or order.leaves_qty * 2 < qty:
                orders.cancel(order)  # resize: replace it
                missing.append(i)
            else:
                quoted[order.price] = qty
        for i, order in moves:
            price = within(bands[i], rng)
            if orders.move(order, price):
                quoted[price] = int(bands[i][2])
        for i in missing[len(moves) :]:
            price = within(bands[i], rng)
            qty = int(bands[i][2])
            if orders.limit(side, price, qty) is not None:
                quoted[price] = qty
        return quoted
