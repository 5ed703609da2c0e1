"""Per-symbol state the agents share: scales, the fair value, and what was observed.

Scales are derived once from the instrument and the settings (typical order
size, agents' position cap, one second of volatility in ticks). Observations
are updated whenever an agent wakes on the symbol, over the simulated time
since the last wake-up, from the market (mid, last price, their moving
averages, a running volatility estimate) and from the trades the simulation
saw in results (signed aggressive flow).

Aggressive flow moves the consensus (`flow_offset`): only its surprise (flow
that keeps coming is anticipated, as far as it went on lately: a regression
the market keeps learning, `anticipation`), concave in size (square root
beyond one order size). The flow carries most of the price's variance
(`flow_share`; the fair value only the rest), and how much flow there is
follows the noise traders' crowd (`crowd`): would-be traders join on their
own or by copying active ones, and leave likewise (Kirman's recruitment
model), so the active share wanders far and slowly, and a market that moved
lately (`heat`) recruits faster. Busy spells of minutes are volatile
spells: volatility clusters, and volume goes with it, on a fair value of
constant volatility. A move of the consensus far beyond the volatility the
market is used to starts a spell of liquidity stress (`stress`): the makers
quote wider and thinner, so flow moves the price more, and noise traders
flock in; the spell lasts about twenty seconds (longer if new shocks come)
and then fades as quotes refill. Flow also moves the consensus more while
the book near the touch is thinner than usual (makers withdraw after
losses).
"""

from __future__ import annotations

import math
import random
from typing import Final

from mypy_extensions import mypyc_attr

from ..engine import Limits, Trade
from ..engine.commands import Side
from ..engine.instruments import Instrument
from .anticipation import FlowForecast
from .config import TRADING_SECONDS_PER_YEAR, SymbolSimSettings
from .day import DayProfile
from .fairvalue import FairValue, Normals
from .market import StepView

FAST_HALF_LIFE_S = 10.0
SLOW_HALF_LIFE_S = 60.0
VOL_HALF_LIFE_S = 20.0
HEAT_HALF_LIFE_S = 180.0
"""Memory of the market's heat (`SymbolState.heat`): minutes, like traders' attention."""
CONSENSUS_ERROR_HALF_LIFE_S = 60.0
REQUOTE_TICKS = 0.6
REQUOTE_SHARE = 0.5
"""A quote centre moves once the value moved this share of the half-spread (at least REQUOTE_TICKS):
on a symbol whose value moves many ticks a second, not on every tick."""
UPDATE_EVERY_US = 10_000
"""The fair value, the consensus error and the slow estimates (half-lives of seconds) move on a fixed grid of
this step. A fixed grid, not the agents' wake-ups, so the fair value's path depends on the seed alone: a run with
one more trader in it (a metaorder, `hftsim.realism.slow`) sees the same fair value as the run without."""
UPDATE_EVERY_S = UPDATE_EVERY_US / 1e6
STRESS_WINDOW_S = 1.0
"""Moves of the consensus are judged over windows of this length."""
STRESS_THRESHOLD = 2.9
"""A move larger than this many sigmas of its window (at the volatility the market is used to) is a shock."""
STRESS_EPISODE_S = 20.0
"""Mean length of the stressed spell a shock starts (exponential; a new shock can prolong it)."""
STRESS_REFILL_HALF_LIFE_S = 15.0
"""After the spell, stress fades with this half-life: the makers refill their quotes gradually."""
TOUCH_LEVELS = 3
USUAL_DEPTH_HALF_LIFE_S = 300.0
CROWD_HALF_LIFE_S = 300.0
"""How long the crowd's mood lasts (relaxation of the active share, `SymbolState.crowd`)."""
CROWD_SHAPE = (0.4, 2.0)
"""Beta shape (a, b) of the active share's stationary distribution (mean a / (a + b)): a below 1, herding stronger
than joining on one's own, gives long quiet spells with hardly anybody trading and busy ones of several times the
mean, as a volatility that clusters needs (a spread of the variance comparable to its mean)."""
CROWD_HEAT = 1.0
"""Recruitment grows by this share per unit of heat above the usual: moving markets draw traders in."""
STRESS_IMPACT = 0.8
"""Extra impact of flow at full stress, in units of the calm impact (thin books move more)."""


LN2: Final = math.log(2)
"""ln 2, computed once (compiled, `math.log(2)` would be a call at every use)."""


def stream(seed: int, *names: str) -> random.Random:
    """The random generator named `names` in the run of `seed`. Each draws for one purpose on one symbol, so
    that a symbol's tape depends on the seed and its own settings only. Seeded from the text (hashed by
    SHA-512, not by Python's salted `hash`): the same draws in every process."""
    return random.Random(":".join((str(seed), *names)))


def _decay(dt_s: float, half_life_s: float) -> float:
    return math.exp(-LN2 * dt_s / half_life_s)


def concave(x: float) -> float:
    """Linear up to one unit, square root beyond: large orders move prices less than in proportion."""
    if -1.0 <= x <= 1.0:
        return x
    return math.copysign(math.sqrt(abs(x)), x)


def round_qty(qty: float, lot: int, min_qty: int) -> int:
    """Nearest lot multiple, at least min_qty (rounded up to a lot)."""
    units = max(round(qty / lot), 1) * lot
    floor = -(-min_qty // lot) * lot
    return max(units, floor)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class SymbolState:
    def __init__(self, instrument: Instrument, params: SymbolSimSettings, limits: Limits | None, seed: int) -> None:
        self.inst = instrument
        self.sym = instrument.sym
        self.params = params
        self.lot = instrument.lot
        self.min_qty = instrument.min_qty
        self.band_low = instrument.band_low
        self.band_high = instrument.band_high
        ref = float(instrument.ref_price)
        margin = (self.band_high - self.band_low) * 0.1
        fair_rng = stream(seed, "fair", self.sym)
        self.fair = FairValue(params, ref, self.band_low + margin, self.band_high - margin, fair_rng)
        self.day = DayProfile(params)
        """How busy the agents are at each moment of the trading day (flat unless a session is configured)."""
        self._normals = Normals(stream(seed, "consensus", self.sym))
        self._stress_rng = stream(seed, "stress", self.sym)
        self._crowd_normals = Normals(stream(seed, "crowd", self.sym))
        a, b = CROWD_SHAPE
        self._crowd_mean = a / (a + b)
        self.crowd = self._crowd_mean
        """Share of the symbol's potential noise traders active now (Kirman's recruitment model: each joins
        on its own, or copies an active one; each leaves on its own, or copies an idle one). Herding makes
        the share wander far and slowly: busy and quiet spells lasting minutes, made by the traders."""
        self.sigma_1s = ref * params.volatility / math.sqrt(TRADING_SECONDS_PER_YEAR)
        """Configured one-second volatility in ticks (at the reference price)."""
        self.sigma_1s_ticks = max(self.sigma_1s, 0.05)

        max_order = limits.max_order_qty if limits is not None else None
        server_cap = limits.max_position if limits is not None else None
        size = params.order_size if params.order_size is not None else max(10 * self.lot, self.min_qty)
        if server_cap is not None:
            size = min(size, server_cap // 60)
        if max_order is not None:
            size = min(size, max_order // 4)
        self.order_size = round_qty(size, self.lot, self.min_qty)
        self.max_order = max_order if max_order is not None else 1_000 * self.order_size
        self._position_ceiling = int(server_cap * 0.8) if server_cap is not None else None
        """No agent's cap goes past this share of the server's position limit."""
        self.max_position = self.position_cap(
            params.max_position if params.max_position is not None else 100 * self.order_size
        )
        """Every agent keeps |position| plus open orders on the growing side within this (see `Agent.cap_multiple`)."""

        self.impact_ticks = params.impact * self.sigma_1s_ticks
        """Consensus move per order size of surprising aggressive flow."""
        self.half_spread = params.mm_half_spread_ticks or max(0.1, 0.6 * self.sigma_1s_ticks)
        """Base half-spread of the makers (ticks): about a second of volatility; tiny for large-tick symbols."""
        self.requote_ticks = max(REQUOTE_TICKS, REQUOTE_SHARE * self.half_spread)
        """A move of the value worth requoting for: the makers' hysteresis, and news for every reactive agent."""
        self.level_step = max(1, round(0.5 * self.sigma_1s_ticks))
        self.depth_scale = max(3.0, 1.5 * self.sigma_1s_ticks)

        # The market's shared view of value: the fair value seen through a slowly wandering common
        # error, plus a transient offset pushed by aggressive flow (how trading moves prices).
        self.common_error = 0.0
        """Log error of the consensus on the fair value (an OU process)."""
        self._error_keep = _decay(UPDATE_EVERY_S, CONSENSUS_ERROR_HALF_LIFE_S)
        self._error_shock = params.consensus_error_bps * 1e-4 * math.sqrt(1 - self._error_keep**2)
        self.flow_offset = 0.0
        """Ticks added to the consensus by recent aggressive flow, decaying with impact_half_life_s."""
        self.stress = 0.0
        """Liquidity stress in [0, 1]: 0 in calm markets, 1 for a spell after a large move of the
        consensus, then fading as the makers refill. Makers quote wider and thinner under stress,
        so the same flow moves the price more, and noise traders trade more: volatility clusters."""
        self._stress_value = 0.0
        self._stress_elapsed_s = 0.0
        self._clock_s = 0.0
        self._stressed_until_s = -1.0

        # Observations.
        self.paused_until_ms = 0.0
        self.initialized = False
        self.mid: float = ref
        self.last: float = ref
        self.ema_fast: float = ref
        self.ema_slow: float = ref
        self.var_1s: float = self.sigma_1s_ticks**2
        self._seen_value = ref
        """Running estimate of the variance of mid changes per second (ticks^2)."""
        self.heat = 1.0
        """Variance of the consensus over the last minutes, in units of the configured variance: how hot the
        market has been lately. Traders are drawn to a market that moves (`NoiseTrader`), and their flow
        moves it: a feedback loop with minutes-long memory, so volatility clusters."""
        self.flow = 0.0
        """Signed aggressive volume (buy +) seen since the previous observation."""
        self.forecast = FlowForecast()
        """The flow the market expects to go on (`anticipation`), in order sizes."""
        self.view: StepView | None = None
        """The market as the agent waking now sees it."""
        self.observed_us = 0
        """Simulated time (µs) of the last observation."""
        self.touch: tuple[int | None, int | None] = (None, None)
        """Best bid and ask when the reactive agents last heard of them."""
        self.prints = 0
        """Trades seen so far."""
        self.usual_depth = 0.0
        """Quantity near the touch the market is used to (a slow average)."""
        self.announced_value = 0.0
        """The consensus value when the reactive agents were last woken by a move of it."""

    # ------------------------------------------------------------------

    @property
    def vol_ratio(self) -> float:
        """Recent volatility over the configured one (1 = normal)."""
        return math.sqrt(self.var_1s) / self.sigma_1s_ticks

    @property
    def consensus(self) -> float:
        """What the market makers and liquidity providers think the value is (ticks)."""
        return self.fair.value * math.exp(self.common_error) + self.flow_offset

    @property
    def bid_levels(self) -> int:
        """Price levels on the bid side (of the first `market.BOOK_DEPTH`)."""
        return len(self.view.bids) if self.view is not None else 0

    @property
    def ask_levels(self) -> int:
        return len(self.view.asks) if self.view is not None else 0

    def record_trade(self, trade: Trade) -> None:
        self.prints += 1
        self.flow += trade.qty if trade.aggressor is Side.BUY else -trade.qty

    def observe(self, view: StepView, now_us: int) -> None:
        """Update the observations from the market at `now_us` (simulated µs).

        The slow estimates, the fair value and the consensus error move on
        the grid of `UPDATE_EVERY_US`, by every step of it passed since the
        last observation.
        """
        self.view = view
        steps = (now_us - self.observed_us) // UPDATE_EVERY_US
        dt_s = 0.0
        if steps > 0:
            self.observed_us += steps * UPDATE_EVERY_US
            dt_s = steps * UPDATE_EVERY_S
            self._advance_values(steps)
        mid = view.mid
        last = view.last
        if not self.initialized:
            start = mid if mid is not None else last
            if start is not None:
                self.fair.reset(float(start))
            value = self.fair.value
            self.mid = self.last = self.ema_fast = self.ema_slow = value if start is None else float(start)
            self._seen_value = self._stress_value = self.consensus
            self.initialized = True
        if mid is None:
            mid = float(last) if last is not None else self.fair.value
        if dt_s > 0:
            price = float(last) if last is not None else mid
            self.ema_fast += (1 - _decay(dt_s, FAST_HALF_LIFE_S)) * (price - self.ema_fast)
            self.ema_slow += (1 - _decay(dt_s, SLOW_HALF_LIFE_S)) * (price - self.ema_slow)
            params = self.params
            # Only the surprise in the flow moves the value: orders that keep coming are anticipated as
            # far as the recent flow has gone on lately (`anticipation`), so persistent order signs leave
            # returns uncorrelated, and flow that was expected and does not come takes back no more
            # than its anticipation added.
            push = concave(self.flow / self.order_size)
            surprise = push - self.forecast.expected(dt_s)
            self.forecast.update(push, dt_s)
            keep = _decay(dt_s, params.impact_half_life_s)
            # Impact is smaller in calm spells (it scales with the volatility, never above the
            # configured one) and larger when the book is stressed (thin quotes after a shock).
            calm = min(1.0, self.fair.vol_multiplier)
            impact = self.impact_ticks * calm * (1.0 + STRESS_IMPACT * self.stress) * self._thinness(view, dt_s)
            # The makers quote thinner at the busy ends of a trading day (`day`), so flow moves prices more.
            impact *= math.sqrt(self.day.activity(now_us / 1000))
            self.flow_offset = self.flow_offset * keep + impact * surprise
            self.flow = 0.0
            # Volatility as the makers see it: of the value estimate, not of the quoted mid (whose
            # tick-sized jumps would feed back into wider quotes and bigger jumps).
            value = self.consensus
            change = value - self._seen_value
            self._seen_value = value
            keep = _decay(dt_s, VOL_HALF_LIFE_S)
            self.var_1s = keep * self.var_1s + (1 - keep) * change * change / dt_s
            keep = _decay(dt_s, HEAT_HALF_LIFE_S)
            self.heat = keep * self.heat + (1 - keep) * change * change / dt_s / self.sigma_1s_ticks**2
            self._update_stress(value, dt_s)
            self._update_crowd(dt_s)
        self.mid = mid
        if last is not None:
            self.last = float(last)

    def _advance_values(self, steps: int) -> None:
        """The fair value and the consensus error over `steps` grid steps, each from its own generator."""
        self.fair.advance_steps(steps, UPDATE_EVERY_S)
        normals = self._normals
        keep = self._error_keep
        shock = self._error_shock
        error = self.common_error
        for _ in range(steps):
            error = error * keep + shock * normals.gauss(0.0, 1.0)
        self.common_error = error

    def _thinness(self, view: StepView, dt_s: float) -> float:
        """How much thinner than usual the book near the touch is (its usual depth over its depth now,
        square-rooted, within 0.5-2): flow moves prices more when the makers have withdrawn."""
        depth = float(view.near_quantity(TOUCH_LEVELS))
        if self.usual_depth <= 0:
            self.usual_depth = depth
        keep = _decay(dt_s, USUAL_DEPTH_HALF_LIFE_S)
        self.usual_depth = keep * self.usual_depth + (1 - keep) * depth
        return min(2.0, max(0.5, math.sqrt(self.usual_depth / max(depth, 1.0))))

    @property
    def activity(self) -> float:
        """The noise traders' activity: the active share of the crowd over its stationary mean (about 1 on average)."""
        return self.crowd / self._crowd_mean

    def _update_crowd(self, dt_s: float) -> None:
        """One Euler step of the crowd's share x (Alfarano, Lux & Wagner 2005, the diffusion limit of
        Kirman 1993): dx = (e1 (1 - x) - e2 x) dt + sqrt(2 e1 / a x (1 - x)) dW, stationary Beta(a, b),
        relaxing with CROWD_HALF_LIFE_S; recruitment e1 grows with the market's heat."""
        a, b = CROWD_SHAPE
        rate = LN2 / CROWD_HALF_LIFE_S
        join = rate * a / (a + b)
        leave = rate - join
        herd = 2.0 * join / a
        join *= 1.0 + CROWD_HEAT * max(0.0, self.heat - 1.0)
        x = self.crowd
        noise = math.sqrt(herd * x * (1.0 - x) * dt_s) * self._crowd_normals.gauss(0.0, 1.0)
        x += (join * (1.0 - x) - leave * x) * dt_s + noise
        self.crowd = min(max(x, 0.005), 0.995)

    def _update_stress(self, value: float, dt_s: float) -> None:
        self._clock_s += dt_s
        if self._clock_s < self._stressed_until_s:
            self.stress = 1.0
        else:
            self.stress *= _decay(dt_s, STRESS_REFILL_HALF_LIFE_S)
        self._stress_elapsed_s += dt_s
        if self._stress_elapsed_s >= STRESS_WINDOW_S:
            # Judged against the volatility the market has got used to, so a spell feeds on new
            # surprises only and ends in a lasting storm instead of locking in.
            expected = self.sigma_1s_ticks * max(1.0, self.vol_ratio) * math.sqrt(self._stress_elapsed_s)
            if abs(value - self._stress_value) > STRESS_THRESHOLD * expected:
                length = -STRESS_EPISODE_S * math.log(1.0 - self._stress_rng.random())
                self._stressed_until_s = max(self._stressed_until_s, self._clock_s + length)
                self.stress = 1.0
            self._stress_value = value
            self._stress_elapsed_s = 0.0

    # Price helpers ----------------------------------------------------------

    def clamp_price(self, price: int) -> int | None:
        """The price if inside the band, else None (never place outside the band)."""
        if self.band_low <= price <= self.band_high:
            return price
        return None

    def position_cap(self, cap: float) -> int:
        """A position cap within the server's limit, at least one order size."""
        capped = int(cap) if self._position_ceiling is None else min(int(cap), self._position_ceiling)
        return max(capped, self.order_size)

    def qty(self, units: float) -> int:
        """A size in order-size units, as a valid quantity within the per-order maximum."""
        return min(round_qty(units * self.order_size, self.lot, self.min_qty), self.max_order_lots)

    @property
    def max_order_lots(self) -> int:
        return (self.max_order // self.lot) * self.lot
