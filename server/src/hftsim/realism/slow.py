"""The slow facts: square-root impact of a metaorder, and the intraday U-shape of activity.

Square-root impact (Tóth et al. 2011): a metaorder of size Q executed over
T moves the price by about Y σ_T √(Q/V_T) (V_T the volume traded over T):
δ in I ∝ Q^δ between 0.4 and 0.7. Measured on paired runs that go on from
one copy of a seed's market at the metaorder's start (`Recording.copy`):
one with a buy metaorder, one with a sell metaorder of the same size
(child market orders of whole lots at a steady pace from an extra account).
Half the gap between their mids at the end of the execution is the
metaorder's impact plus how differently the agents went on trading. The
pair shares every draw that does not depend on what was traded (the fair
value and the consensus error move on a fixed time grid,
`hftsim.sim.symbol`; the institutional fund draws its parents from a
stream of their own), so the gap is not a second fair-value path; and the
opposite metaorders of one state cancel what the agents would have done
anyway, which a gap to a run without a metaorder keeps, so each pair
carries a quarter of that gap's variance. A run without a metaorder gives
V_T; `Impact.fair_gap` says how closely the fair values of the paired runs
agree.

Intraday U-shape (Admati & Pfleiderer 1988; Andersen & Bollerslev 1997):
volume and volatility are higher after the open and before the close than
at midday. Measured in half-hour buckets over simulated trading days, one
per seed, with the symbol's agents on a trading day of that length
(`session_hours`, see `hftsim.sim.day`) unless the configuration sets one
already. The days' profiles (each over its own mean) are averaged, and the
U ratios get a jackknife standard error over the days: one day's
volatility in 30 one-minute returns per bucket is too noisy to judge alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine import Engine, Limits
from ..engine.commands import Command, OpenAccount, OrderType, PlaceOrder, Side, Tif
from ..engine.instruments import Instrument
from ..sim.config import SimSettings, SymbolSimSettings
from .findings import Check, Finding, jackknife, mark
from .parallel import Progress, run_all
from .tape import record, start

START_S = 300
"""The metaorder starts after the market has settled."""
EXECUTION_S = 600
CHILD_EVERY_S = 2
"""Children go at most this often (a smaller metaorder sends fewer children of one lot)."""
END_S = 30
"""The impact is the mean gap between the two runs' mids over the execution's last seconds (not one second's
mid, which jumps by the spread)."""
FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.4)
"""Metaorder sizes as shares of the volume the market trades over the execution without it."""
IMPACT_SEEDS_PER_SEED = 8
"""The impact runs this many seeds for each seed of the report: a pair's impact is known to only about 0.25 σ
at every size (the flow swings the price by about a σ within a run), so the exponent's standard error over the
seeds is large: on ACME 0.23-0.35 from 24 seeds (0.65 ± 0.23; 0.76 ± 0.28 and 0.44 ± 0.35 from two sets of 24
after a change), 0.22 from 48. Each seed runs one symbol for 6,900 simulated seconds (a base run, ten paired ones)."""
DAY_S = int(6.5 * 3600)
BUCKET_S = 1800


def closing_price(mid: Sequence[float], end: int) -> float:
    """The mean mid over the `END_S` seconds before `end`, a second with one side empty counted at the last
    quoted mid before it: a metaorder that empties the book still has a price, which a NaN would have made
    the whole size's mean (and δ) undefined."""
    quoted = np.asarray(mid[:end], dtype=float)
    seen = np.where(np.isnan(quoted), 0, np.arange(len(quoted)))
    filled = quoted[np.maximum.accumulate(seen)]
    return float(np.mean(filled[end - END_S :]))


DELTA_RANGE = (0.4, 0.7)
"""Pass: the exponent δ of I ∝ Q^δ within the range measured on real metaorders (Tóth et al. 2011)."""
DELTA_GRID = np.linspace(-1.0, 2.0, 3001)
"""Exponents the fit tries (a grid: the fit has one nonlinear parameter, and a grid never fails to converge)."""


def power_fit(fractions: Sequence[float], runs: Sequence[Sequence[float]]) -> float:
    """δ of impact = Y (Q/V)^δ, least squares on the mean impact of each size weighted by its precision.

    On the means themselves, not their logarithms: a small metaorder's mean may come out at or below
    zero in noisy runs, and dropping it (as a log-log fit must) would bias δ towards the large sizes.
    NaN when the best fit has no positive Y (no impact to speak of).
    """
    values = np.asarray(runs, dtype=float)
    means = values.mean(axis=0)
    spread = values.var(axis=0, ddof=1) / len(values) if len(values) > 1 else np.zeros(len(fractions))
    weights = 1.0 / np.maximum(spread, 1e-6) if np.all(spread > 0) else np.ones(len(fractions))
    shapes = np.asarray(fractions, dtype=float)[None, :] ** DELTA_GRID[:, None]
    scale = (shapes * weights * means).sum(axis=1) / (shapes * shapes * weights).sum(axis=1)
    residual = (weights * (means - scale[:, None] * shapes) ** 2).sum(axis=1)
    best = int(np.argmin(residual))
    return float(DELTA_GRID[best]) if scale[best] > 0 else math.nan


@dataclass
class Impact:
    fractions: tuple[float, ...]
    runs: list[list[float]]
    """Impact of each seed's pair at each size, in units of the fair value's σ over the execution."""
    fair_gap: float
    """Largest gap between the fair values of paired runs over the execution, in the same σ (0: the same path)."""

    @property
    def seeds(self) -> int:
        return len(self.runs)

    @property
    def impact(self) -> list[float]:
        """Mean impact at the end of the execution, at each size."""
        return [float(v) for v in np.mean(self.runs, axis=0)]

    @property
    def error(self) -> list[float]:
        """Standard error of each mean over the seeds."""
        if self.seeds < 2:
            return [math.nan] * len(self.fractions)
        return [float(v) for v in np.std(self.runs, axis=0, ddof=1) / math.sqrt(self.seeds)]

    @property
    def delta(self) -> float:
        return power_fit(self.fractions, self.runs)

    @property
    def finding(self) -> Finding:
        """δ with its pass range and, over several seeds, its jackknife standard error."""
        found = _delta_finding(self.fractions, self.runs)
        if self.seeds > 2:
            found.se = jackknife(self.runs, found, lambda runs: _delta_finding(self.fractions, runs))
        return found

    @property
    def passed(self) -> bool:
        return bool(self.finding.passed)


def _delta_finding(fractions: Sequence[float], runs: Sequence[Sequence[float]]) -> Finding:
    low, high = DELTA_RANGE
    delta = power_fit(fractions, runs)
    return Finding("δ = {delta:.2f} in I ∝ Q^δ", {"delta": delta}, (Check("delta", low=low, high=high),))


class Metaorder:
    """A metaorder of one account: `total` in child market orders of whole lots, evenly over the execution
    (a `tape.Inject`, so children go at the end of a simulated second)."""

    def __init__(
        self, user_id: int, cash: int, inst: Instrument, side: Side, total: int, start_s: int, execution_s: int
    ) -> None:
        self.user_id, self.cash, self.sym, self.side = user_id, cash, inst.sym, side
        self.lot = inst.lot
        self.lots = max(1, total // inst.lot)
        self.children = min(self.lots, execution_s // CHILD_EVERY_S)
        self.start_s, self.execution_s = start_s, execution_s
        self.sent = 0
        self.opened = False

    def __call__(self, now_ms: float, engine: Engine) -> list[Command]:
        out: list[Command] = []
        if not self.opened:
            out.append(OpenAccount(self.user_id, self.cash))
            self.opened = True
        elapsed = now_ms / 1000 - self.start_s
        if self.sent < self.children and elapsed >= self.sent * self.execution_s / self.children:
            # Child i takes the lots between i/n and (i+1)/n of the total: whole lots that add up.
            i = self.sent
            qty = (self.lots * (i + 1) // self.children - self.lots * i // self.children) * self.lot
            out.append(PlaceOrder(self.user_id, self.sym, self.side, qty, None, OrderType.MARKET, Tif.IOC))
            self.sent += 1
        return out


@dataclass(frozen=True)
class ImpactSeed:
    """One seed of the impact: its runs without a metaorder and with each pair (what a worker process needs)."""

    inst: Instrument
    sim: SimSettings
    limits: Limits
    cash: int
    seed: int
    start_s: int
    execution_s: int
    fractions: tuple[float, ...]


def square_root_impact(
    inst: Instrument,
    sim: SimSettings,
    limits: Limits,
    cash: int,
    seeds: int,
    tick: Progress | None = None,
    *,
    start_s: int = START_S,
    execution_s: int = EXECUTION_S,
    fractions: tuple[float, ...] = FRACTIONS,
    first_seed: int = 1,
    jobs: int = 1,
) -> Impact:
    tasks = [
        ImpactSeed(inst, sim, limits, cash, seed, start_s, execution_s, fractions)
        for seed in range(first_seed, first_seed + seeds)
    ]
    pairs = run_all(impact_seed, tasks, jobs, tick)
    return Impact(fractions, [pair for pair, _ in pairs], max((gap for _, gap in pairs), default=0.0))


def impact_seed(task: ImpactSeed, tick: Progress) -> tuple[list[float], float]:
    """The seed's impact at each size (in σ of the fair value over the execution), and how far apart the paired
    runs' fair values went (in the same σ)."""
    inst, start_s, execution_s, seed = task.inst, task.start_s, task.execution_s, task.seed
    end = start_s + execution_s
    market = start([inst], task.sim, seed, limits=task.limits, initial_cash=task.cash)
    market.run(start_s)
    base = market.copy()
    base.run(end)
    tape = base.tapes[inst.sym]
    volume = sum(tape.volume[start_s:end]) * inst.lot
    sigma = base.sim.state(inst.sym).sigma_1s * math.sqrt(execution_s)
    user_id = len(base.sim.agent_names()) + 1
    tick(end, f"impact, seed {seed}")
    pair: list[float] = []
    fair_gap = 0.0
    for fraction in task.fractions:
        total = round(fraction * volume)
        mids = []
        for side in (Side.BUY, Side.SELL):
            run = market.copy()
            run.run(end, inject=Metaorder(user_id, task.cash * 1000, inst, side, total, start_s, execution_s))
            paired = run.tapes[inst.sym]
            mids.append(closing_price(paired.mid, end))
            fair = np.subtract(paired.fair[start_s:end], tape.fair[start_s:end])
            fair_gap = max(fair_gap, float(np.max(np.abs(fair))) / sigma)
            tick(execution_s, f"impact {fraction:.0%} {side.value.lower()}, seed {seed}")
        pair.append((mids[0] - mids[1]) / 2 / sigma)
    return pair, fair_gap


U_SHAPE = 1.3
"""Pass: the first and last half hours at least this many times as busy, and as volatile, as midday."""


@dataclass
class Intraday:
    volume: list[float]
    """Traded volume per half hour, over the day's mean (averaged over the days)."""
    volatility: list[float]
    """Realised volatility of 1-minute returns per half hour, over the day's mean (averaged over the days)."""
    days: list[Intraday] | None = None
    """The single days pooled here (None: this is one day)."""

    @staticmethod
    def _u(values: list[float]) -> float:
        edges = (values[0] + values[-1]) / 2
        middle = float(np.mean(values[3:-3]))
        return edges / middle if middle > 0 else math.nan

    @property
    def volume_u(self) -> float:
        return self._u(self.volume)

    @property
    def volatility_u(self) -> float:
        return self._u(self.volatility)

    @property
    def finding(self) -> Finding:
        """The U ratios with their pass rule and, over several days, their standard errors."""
        found = Finding(
            "volume at the first and last half hour over midday {volume_u:.2f}, volatility {volatility_u:.2f}",
            {"volume_u": self.volume_u, "volatility_u": self.volatility_u},
            (Check("volume_u", low=U_SHAPE), Check("volatility_u", low=U_SHAPE)),
        )
        if self.days:
            found.se = jackknife(self.days, found, lambda days: pool(days).finding)
        return found

    @property
    def passed(self) -> bool:
        return bool(self.finding.passed)


def pool(days: Sequence[Intraday]) -> Intraday:
    """The days' profiles averaged, half hour by half hour."""
    volume = [float(v) for v in np.mean([d.volume for d in days], axis=0)]
    volatility = [float(v) for v in np.mean([d.volatility for d in days], axis=0)]
    return Intraday(volume, volatility, list(days))


@dataclass(frozen=True)
class TradingDay:
    """One simulated trading day of a symbol (what a worker process needs)."""

    inst: Instrument
    sim: SimSettings
    limits: Limits
    cash: int
    seed: int


def intraday(
    inst: Instrument,
    sim: SimSettings,
    limits: Limits,
    cash: int,
    days: int,
    tick: Progress | None = None,
    *,
    jobs: int = 1,
) -> Intraday:
    """`days` simulated trading days of `inst`, one per seed from 1, pooled."""
    day = trading_day(sim, inst.sym)
    tasks = [TradingDay(inst, day, limits, cash, seed) for seed in range(1, days + 1)]
    return pool(run_all(one_day, tasks, jobs, tick))


def one_day(task: TradingDay, tick: Progress) -> Intraday:
    done = [0.0]
    name = f"intraday day {task.seed}"

    def progress(t: float) -> None:
        tick(t - done[0], name)
        done[0] = t

    sym = task.inst.sym
    tape = record(
        [task.inst], task.sim, task.seed, DAY_S, limits=task.limits, initial_cash=task.cash, progress=progress
    ).tapes[sym]
    return measure_intraday(tape.volume, tape.mid)


def trading_day(sim: SimSettings, sym: str) -> SimSettings:
    """The market with a trading day of `DAY_S` for `sym`, unless the configuration gives it one."""
    if sim.for_symbol(sym).session_hours > 0:
        return sim
    hours = DAY_S / 3600
    override = sim.symbols.get(sym)
    day = override.model_copy(update={"session_hours": hours}) if override else SymbolSimSettings(session_hours=hours)
    symbols = {**sim.symbols, sym: day}
    return sim.model_copy(update={"symbols": symbols})


def measure_intraday(volume: list[int], mid: list[float]) -> Intraday:
    """Half-hourly volume and 1-minute realised volatility, each over its mean across the day."""
    buckets = len(volume) // BUCKET_S
    vol = np.asarray(volume[: buckets * BUCKET_S], dtype=float).reshape(buckets, BUCKET_S).sum(axis=1)
    # mid[i] is the mid at the end of second i + 1: the first sample and then the end of every minute,
    # so the last half hour has its 30 returns too.
    prices = np.asarray([mid[0], *mid[59 : buckets * BUCKET_S : 60]], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(prices))
    r = np.nan_to_num(r)
    per_bucket = BUCKET_S // 60
    rv = np.sqrt((r[: len(r) // per_bucket * per_bucket] ** 2).reshape(-1, per_bucket).sum(axis=1))
    return Intraday(list(vol / vol.mean()), list(rv / rv.mean()))


def total_seconds(seeds: int) -> float:
    """Simulated seconds the slow facts run (for a progress bar): the impact's runs and one day a seed."""
    impact = IMPACT_SEEDS_PER_SEED * (START_S + EXECUTION_S + 2 * len(FRACTIONS) * EXECUTION_S)
    return seeds * (impact + DAY_S)


def section(sym: str, impact: Impact | None, day: Intraday | None) -> list[str]:
    lines = [f"## Slow facts ({sym})", ""]
    if impact is not None:
        found = impact.finding
        rows = " | ".join(f"{f:.0%}" for f in impact.fractions)
        values = " | ".join(f"{v:+.3f} ± {e:.3f}" for v, e in zip(impact.impact, impact.error, strict=True))
        lines += [
            f"**Square-root impact** ({mark(found)}): {found.shown} (real: 0.4-0.7, Tóth et al. 2011; least"
            " squares on the mean impact of each size, weighted by its precision, ± over the seeds by the"
            " jackknife). Paired runs from one copy of a seed's market, one with a buy and one with a sell metaorder"
            f" of Q (a share of the volume traded over its {EXECUTION_S // 60} minutes without it, child market"
            f" orders of whole lots at most every {CHILD_EVERY_S} s), {impact.seeds} seeds, the fair values of"
            f" paired runs within {impact.fair_gap:.3f} σ of each other; impact (half the gap of the pair's mids"
            f" over the execution's last {END_S} s, ± its standard error over the seeds) in σ of the fair value"
            " over the execution:",
            "",
            f"| Q / V | {rows} |",
            "|---|" + "---|" * len(impact.fractions),
            f"| impact / σ | {values} |",
            "",
        ]
    if day is not None:
        found = day.finding
        count = len(day.days) if day.days else 1
        pooled = (
            f"{count} simulated trading days (one a seed, their half-hourly profiles averaged; ± over the days)"
            if count > 1
            else "one simulated trading day"
        )
        lines += [
            f"**Intraday U-shape** ({mark(found)}): over {pooled} of {DAY_S / 3600:g} hours, {found.shown}"
            " (real: well above 1, Admati & Pfleiderer 1988; Andersen & Bollerslev 1997; pass:"
            f" both ≥ {U_SHAPE:g}).",
            "",
            "| half hour | " + " | ".join(str(i + 1) for i in range(len(day.volume))) + " |",
            "|---|" + "---|" * len(day.volume),
            "| volume / mean | " + " | ".join(f"{v:.2f}" for v in day.volume) + " |",
            "| volatility / mean | " + " | ".join(f"{v:.2f}" for v in day.volatility) + " |",
            "",
        ]
    return lines
