"""The stylised facts of real limit-order markets, measured on tapes, each with its real-market range.

A `Sample` is one symbol in one configuration, pooled over seeds. Each fact
reads it and returns a `Finding` (`findings`): the key numbers, one line to
show them, and the checks its verdict rests on, with the thresholds that
`FACTS` words beside the real-market range and its source. `measure` adds
each checked number's standard error over the runs. Price facts
can also be measured on the fair-value path alone (`Sample(..., fair=True)`):
a fact counts only if the market shows it and the fair value alone does not
explain it. Order-flow facts have no fair-value baseline.

Returns are mid-price log returns; the base horizon is 10 s, short enough
for an hour to give hundreds of returns and long enough for the mid of a
large-tick symbol to move.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .findings import Check, Finding, jackknife
from .measures import (
    NAN,
    Array,
    acf,
    ccdf_slope,
    correlation,
    excess_kurtosis,
    fano,
    finite_mean,
    overlapping_returns,
    power_law_slope,
    rank_correlation,
    returns,
    robust_se,
    skewness,
    tail_index,
)
from .tape import Tape

BASE_S = 10
"""Horizon of the returns most facts are measured on (seconds)."""
SIGNATURE_S = (1, 2, 5, 10, 20, 30, 60)
SIGN_LAGS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100)


@dataclass
class Sample:
    """One symbol's tapes of several seeded runs of one configuration."""

    tapes: Sequence[Tape]
    fair: bool = False
    """Measure the fair value's path instead of the mid (price facts only)."""

    @property
    def round_lot(self) -> int:
        return self.tapes[0].round_lot if self.tapes else 1

    def prices(self, tape: Tape) -> list[float]:
        return tape.fair if self.fair else tape.mid

    def returns(self, horizon: int) -> list[Array]:
        return [returns(self.prices(t), horizon) for t in self.tapes]

    def pooled(self, horizon: int) -> Array:
        parts = self.returns(horizon)
        return np.concatenate(parts) if parts else np.zeros(0)

    def pooled_overlapping(self, horizon: int) -> Array:
        """Returns over every window of `horizon` seconds, pooled (see `measures.overlapping_returns`)."""
        parts = [overlapping_returns(self.prices(t), horizon) for t in self.tapes]
        return np.concatenate(parts) if parts else np.zeros(0)

    def pooled_changes(self, horizon: int) -> Array:
        """Price changes in ticks over non-overlapping windows of `horizon` seconds, pooled (gaps dropped)."""
        parts = []
        for tape in self.tapes:
            d = np.diff(np.asarray(self.prices(tape), dtype=float)[::horizon])
            parts.append(d[np.isfinite(d)])
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def seconds(self) -> int:
        return sum(t.seconds for t in self.tapes)


NOT_APPLICABLE = Finding("-")


@dataclass(frozen=True)
class Fact:
    key: str
    title: str
    real: str
    """What real markets show, and this report's pass rule."""
    source: str
    measure: Callable[[Sample], Finding]
    price: bool
    """A price fact (also measured on the fair value alone)."""


# Price facts -----------------------------------------------------------------------------------


AUTOCORRELATION_LAGS = (1, 2, 3, 4, 5)
AUTOCORRELATION_Q = 15.09
"""The 1% point of χ² with 5 degrees of freedom: the portmanteau statistic over lags 1-5 of returns with no
linear autocorrelation stays below it 99 times in 100."""
NEGLIGIBLE_RHO = 0.05
"""An autocorrelation this small predicts nothing a trader could use, however significant."""


def no_autocorrelation(s: Sample) -> Finding:
    # A portmanteau test (Box & Pierce 1970, on heteroskedasticity-robust t statistics as Lobato, Nankervis &
    # Savin 2001): the sum of the squared t of lags 1-5 against χ²(5). Each standard error is floored at a
    # third of NEGLIGIBLE_RHO, so over a long sample a lag counts only when its autocorrelation is large as
    # well as significant. The largest of the five |t| (the rule before) read one lag's noise: its jackknife
    # swung from run to run and marked four in ten reports of a market without autocorrelation unsettled.
    rs = s.returns(BASE_S)
    rho = acf(rs, AUTOCORRELATION_LAGS)
    se = robust_se(rs, AUTOCORRELATION_LAGS)
    q = float(np.sum((rho / np.maximum(se, NEGLIGIBLE_RHO / 3)) ** 2))
    return Finding(
        "ρ1 {rho1:+.3f} (robust SE {se1:.3f}); max |t| lags 1-5 {max_t:.1f}; Q lags 1-5 {q:.1f}",
        {"rho1": float(rho[0]), "se1": float(se[0]), "max_t": float(np.nanmax(np.abs(rho / se))), "q": q},
        (Check("q", high=AUTOCORRELATION_Q),),
    )


TAIL_BEYOND = 2.0
"""The tail index reads the changes at least this many root mean squares out (`measures.tail_index`)."""


def heavy_tails(s: Sample) -> Finding:
    # The tail index is read on the changes in ticks, where the grid is: a large-tick symbol's 10-s mid changes
    # are mostly 0 and ±1 tick, and a tail of a few tick values is only read right with its grid (the mid's
    # is the tick, or half of it). Over an hour the price level moves by a few percent, so the index of the
    # changes is that of the returns. The fair value is continuous.
    alpha = tail_index(s.pooled_changes(BASE_S), 0.0 if s.fair else 1.0, TAIL_BEYOND)
    kurt = excess_kurtosis(s.pooled(BASE_S))
    return Finding(
        "tail index α {alpha:.1f}, excess kurtosis {kurtosis:.1f}",
        {"alpha": alpha, "kurtosis": kurt},
        (Check("alpha", 2.0, 5.0), Check("kurtosis", low=1.0)),
    )


def aggregational_gaussianity(s: Sample) -> Finding:
    k1, k10, k60 = (excess_kurtosis(s.pooled_overlapping(h)) for h in (1, 10, 60))
    return Finding(
        "kurtosis (windows from every second) 1 s {kurt_1s:.1f} → 10 s {kurt_10s:.1f} → 60 s {kurt_60s:.1f};"
        " falls by {fall_1_10:.1f} from 1 s to 10 s, by {fall_10_60:.1f} from 10 s to 60 s",
        {"kurt_1s": k1, "kurt_10s": k10, "kurt_60s": k60, "fall_1_10": k1 - k10, "fall_10_60": k10 - k60},
        (Check("fall_1_10", low=0.0), Check("fall_10_60", low=0.0)),
    )


def volatility_clustering(s: Sample) -> Finding:
    absr = [np.abs(r) for r in s.returns(BASE_S)]
    near = acf(absr, range(1, 11))
    far = acf(absr, range(20, 31))
    mean_near, mean_far = float(np.nanmean(near)), float(np.nanmean(far))
    return Finding(
        "|r| autocorrelation lags 1-10 {absacf_1_10:+.3f}, lags 20-30 {absacf_20_30:+.3f}",
        {"absacf_1_10": mean_near, "absacf_20_30": mean_far},
        (Check("absacf_1_10", low=0.1), Check("absacf_20_30", low=0.0)),
    )


def volume_volatility(s: Sample) -> Finding:
    pairs_r, pairs_v = [], []
    for tape in s.tapes:
        p = np.asarray(tape.mid, dtype=float)
        v = np.asarray(tape.volume, dtype=float)
        m = (len(p) - 1) // BASE_S
        if m < 1:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.abs(np.diff(np.log(p[: m * BASE_S + 1 : BASE_S])))
        vol = v[1 : m * BASE_S + 1].reshape(m, BASE_S).sum(axis=1)
        ok = np.isfinite(r)
        pairs_r.append(r[ok])
        pairs_v.append(vol[ok])
    r, v = (np.concatenate(pairs_r), np.concatenate(pairs_v)) if pairs_r else (np.zeros(0), np.zeros(0))
    c, linear = rank_correlation(r, v), correlation(r, v)
    return Finding(
        "rank corr(volume, |r|) at 10 s {corr:+.2f} (linear {linear:+.2f})",
        {"corr": c, "linear": linear},
        (Check("corr", low=0.2),),
    )


def gain_loss_asymmetry(s: Sample) -> Finding:
    r = s.pooled(60)
    if len(r) < 20:
        return NOT_APPLICABLE
    ratio = float(-np.quantile(r, 0.01) / np.quantile(r, 0.99)) if np.quantile(r, 0.99) > 0 else NAN
    return Finding("skewness 60 s {skew:+.2f}; |q1%| / q99% {ratio:.2f}", {"skew": skewness(r), "ratio": ratio})


def signature_plot(s: Sample) -> Finding:
    values = signature(s)
    long = float(np.mean(values[-3:]))
    ratio = values[0] / long if long > 0 else NAN
    return Finding("σ²(τ)/τ at 1 s over 20-60 s {ratio:.2f}", {"ratio": ratio}, (Check("ratio", 0.67, 1.5),))


def signature(s: Sample) -> list[float]:
    """Realised variance per second at each horizon of SIGNATURE_S (pooled)."""
    out = []
    for h in SIGNATURE_S:
        r = s.pooled(h)
        out.append(float((r * r).mean() / h) if len(r) else NAN)
    return out


# Order-flow facts ------------------------------------------------------------------------------


def sign_acf(s: Sample) -> Array:
    return acf([np.asarray(t.taker_sign, dtype=float) for t in s.tapes], SIGN_LAGS)


def order_sign_memory(s: Sample) -> Finding:
    c = sign_acf(s)
    gamma = power_law_slope(SIGN_LAGS[3:], c[3:])
    lag10, lag100 = float(c[SIGN_LAGS.index(10)]), float(c[-1])
    return Finding(
        "sign autocorrelation lag 1 {lag1:+.2f}, 10 {lag10:+.3f}, 100 {lag100:+.3f}; γ {gamma:.2f}",
        {"lag1": float(c[0]), "lag10": lag10, "lag100": lag100, "gamma": gamma},
        (Check("lag10", low=0.05), Check("lag100", low=0.0), Check("gamma", 0.3, 1.0)),
    )


def spread_volatility(s: Sample) -> Finding:
    spreads = np.concatenate([np.asarray(t.spread, dtype=float) for t in s.tapes])
    spreads = spreads[np.isfinite(spreads)]
    if not len(spreads):
        return Finding("no two-sided book", failed=True)
    mean_spread = float(spreads.mean())
    one_tick = float((spreads <= 1).mean())
    # Volatility per trade: variance of mid changes per second over trades per second.
    rv = 0.0
    for tape in s.tapes:
        d = np.diff(np.asarray(tape.mid, dtype=float)[::60])
        d = d[np.isfinite(d)]
        rv += float((d * d).sum())
    trades = sum(t.trades for t in s.tapes)
    sigma_trade = math.sqrt(rv / trades) if trades else NAN
    ratio = mean_spread / sigma_trade if sigma_trade > 0 else NAN
    crossed = float((spreads <= 0).mean())
    # A large-tick symbol's spread is the tick, whatever the volatility: judged on its time at one tick.
    large_tick = one_tick >= 0.5
    return Finding(
        "mean spread {spread:.2f} ticks ({one_tick:.0%} at one tick); spread / σ per trade {ratio:.2f}",
        {"spread": mean_spread, "one_tick": one_tick, "ratio": ratio, "crossed": crossed},
        (Check("crossed", high=0.0), Check("one_tick", low=0.7) if large_tick else Check("ratio", 0.5, 4.0)),
    )


def order_sizes(s: Sample) -> Finding:
    q = np.concatenate([np.asarray(t.taker_qty, dtype=float) for t in s.tapes])
    lq = np.concatenate([np.asarray(t.limit_qty, dtype=float) for t in s.tapes])
    if not len(q):
        return Finding("no aggressive orders", failed=True)
    lot = s.round_lot
    mu = ccdf_slope(q / lot, 1.0)
    round_share = float((q % lot == 0).mean())
    med_m = float(np.median(q)) / lot
    med_l = float(np.median(lq)) / lot if len(lq) else NAN
    return Finding(
        "taker size tail μ {mu:.2f}; {round_share:.0%} at round lots;"
        " median taker {median_taker:.1f} / limit {median_limit:.1f} round lots",
        {"mu": mu, "round_share": round_share, "median_taker": med_m, "median_limit": med_l},
        (Check("mu", 1.1, 2.0), Check("round_share", low=0.3)),
    )


def placement_depth(s: Sample) -> Finding:
    d = np.concatenate([np.asarray(t.limit_depth, dtype=float) for t in s.tapes])
    if not len(d):
        return Finding("no limit orders", failed=True)
    behind = d[d >= 1]
    alpha = ccdf_slope(behind, 2.0)
    near = float((d <= 2).mean())
    far = behind[behind > 10]
    pile = float(np.bincount(far.astype(int)).max() / len(d)) if len(far) else 0.0
    return Finding(
        "{near:.0%} within 2 ticks of the best; CCDF tail {alpha:.2f}; largest pile beyond 10 ticks {pile:.1%}",
        {"alpha": alpha, "near": near, "pile": pile},
        (Check("alpha", 0.6, 2.0), Check("pile", high=0.02), Check("near", low=0.3)),
    )


def cancellations(s: Sample) -> Finding:
    cancels = sum(len(t.cancel_age) for t in s.tapes)
    resting = sum(t.resting for t in s.tapes)
    filled = sum(t.filled_resting for t in s.tapes)
    ages = np.concatenate([np.asarray(t.cancel_age, dtype=float) for t in s.tapes])
    fast = float((ages <= 2.0).sum() / resting) if resting else NAN
    very_fast = float((ages <= 0.1).sum() / resting) if resting else NAN
    ratio = cancels / filled if filled else NAN
    return Finding(
        "cancel:fill {cancel_fill:.1f}; {within_2s:.0%} of limit orders cancelled within 2 s,"
        " {within_100ms:.0%} within 100 ms",
        {"cancel_fill": ratio, "within_2s": fast, "within_100ms": very_fast},
        (Check("cancel_fill", low=3.0), Check("within_2s", low=1 / 3)),
    )


def arrival_clustering(s: Sample) -> Finding:
    f1 = [fano(np.asarray(t.taker_t), 1.0, t.seconds) for t in s.tapes]
    f60 = [fano(np.asarray(t.taker_t), 60.0, t.seconds) for t in s.tapes]
    fano1, fano60 = finite_mean(f1), finite_mean(f60)
    branching = 1 - 1 / math.sqrt(fano60) if fano60 >= 1 else 0.0
    return Finding(
        "Fano factor of aggressive orders 1 s {fano_1s:.2f}, 60 s {fano_60s:.1f} (branching ≈ {branching:.2f})",
        {"fano_1s": fano1, "fano_60s": fano60, "branching": branching},
        (Check("fano_1s", low=2.0), Check("branching", low=0.5)),
    )


FACTS: tuple[Fact, ...] = (
    Fact(
        "autocorrelation",
        "no linear return autocorrelation",
        "insignificant beyond very short lags (pass: Q = Σ (ρ/SE)² over lags 1-5, each SE at least 0.05/3, below"
        " χ²(5)'s 1% point 15.1)",
        "Cont 2001",
        no_autocorrelation,
        True,
    ),
    Fact(
        "heavy_tails",
        "heavy tails",
        "tail index ≈ 3 (2-5) (pass: α of the 10-s mid changes beyond 2 standard deviations in 2-5 and excess"
        " kurtosis ≥ 1)",
        "Cont 2001; Plerou et al. 1999",
        heavy_tails,
        True,
    ),
    Fact(
        "aggregational",
        "aggregational Gaussianity",
        "kurtosis falls as the horizon grows (pass: kurtosis at 1 s > 10 s ≥ 60 s)",
        "Cont 2001",
        aggregational_gaussianity,
        True,
    ),
    Fact(
        "clustering",
        "volatility clustering",
        "|r| autocorrelation positive, slowly decaying (pass: mean lags 1-10 ≥ 0.1, lags 20-30 > 0)",
        "Cont 2001",
        volatility_clustering,
        True,
    ),
    Fact(
        "volume_volatility",
        "volume-volatility correlation",
        "positive in clock time (pass: rank correlation ≥ 0.2, robust to heavy-tailed volume)",
        "Cont 2001",
        volume_volatility,
        False,
    ),
    Fact(
        "gain_loss",
        "gain/loss asymmetry",
        "large drawdowns, not equally large rises, in stock prices; absent in exchange rates (reported only)",
        "Cont 2001",
        gain_loss_asymmetry,
        True,
    ),
    Fact(
        "sign_memory",
        "long memory of order signs",
        "sign autocorrelation ≈ ℓ^-γ, γ ≈ 0.5-0.7 (pass: lag 10 ≥ 0.05, lag 100 > 0, γ in 0.3-1)",
        "Lillo & Farmer 2004; Bouchaud et al. 2004",
        order_sign_memory,
        False,
    ),
    Fact(
        "signature",
        "diffusive price (signature plot)",
        "σ²(τ)/τ roughly flat (pass: 1 s over the mean of 20, 30 and 60 s in 0.67-1.5)",
        "Bouchaud et al. 2004",
        signature_plot,
        True,
    ),
    Fact(
        "spread",
        "spread vs volatility",
        "never crossed; mean spread ∝ volatility per trade, R² > 0.9 across stocks; large-tick stocks sit at one"
        " tick (pass: spread / σ per trade in 0.5-4, or ≥ 70% of the time at one tick)",
        "Wyart et al. 2008",
        spread_volatility,
        False,
    ),
    Fact(
        "sizes",
        "order sizes",
        "market-order sizes power-law, tail μ ≈ 1.4, spikes at round lots (pass: μ in 1.1-2, ≥ 30% at round lots)",
        "Maslov & Mills 2001; Gopikrishnan et al. 2000",
        order_sizes,
        False,
    ),
    Fact(
        "depth",
        "placement depth",
        "most limit orders near the best, CCDF tail ≈ Δ^-1.5 (0.6 on the Paris Bourse) (pass: tail 0.6-2,"
        " ≥ 30% within 2 ticks, no pile > 2% at any depth beyond 10 ticks)",
        "Zovko & Farmer 2002; Bouchaud, Mézard & Potters 2002",
        placement_depth,
        False,
    ),
    Fact(
        "cancellations",
        "cancellations and lifetimes",
        "cancels far outnumber fills; over a third of limit orders cancelled within 2 s"
        " (pass: cancel:fill ≥ 3, ≥ 1/3 within 2 s)",
        "Hasbrouck & Saar 2009",
        cancellations,
        False,
    ),
    Fact(
        "arrivals",
        "clustered arrivals",
        "bursty, self-exciting order flow, Hawkes branching ratio 0.7-1 (pass: 1-s Fano ≥ 2, branching ≥ 0.5"
        " from the 60-s Fano factor 1/(1-n)²)",
        "Hardiman, Bercot & Bouchaud 2013",
        arrival_clustering,
        False,
    ),
)

SCORED_ON_AGENTS_ONLY = ("clustering", "volume_volatility")
"""Facts that must also pass on the agents-only market (a plain GBM fair value): the agents must make them."""


def measure(sample: Sample) -> dict[str, Finding]:
    """Every fact on one sample with its standard errors over the runs (order-flow facts are not applicable
    to a fair-value sample)."""
    out = {}
    for fact in FACTS:
        if sample.fair and not fact.price:
            out[fact.key] = NOT_APPLICABLE
            continue
        finding = fact.measure(sample)

        def again(tapes: Sequence[Tape], fact: Fact = fact) -> Finding:
            return fact.measure(Sample(tapes, sample.fair))

        if finding.checks:
            finding.se = jackknife(sample.tapes, finding, again)
        out[fact.key] = finding
    return out
