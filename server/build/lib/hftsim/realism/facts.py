"""The stylised facts of real limit-order markets, measured on tapes, each with its real-market range.

A `Sample` is one symbol in one configuration, pooled over seeds. Each fact
reads it and returns a `Finding`: the key numbers, one line to show, and
whether it passes. The thresholds are written beside the real-market range
and its source in `FACTS`, so each rule stands in one place. Price facts
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
from dataclasses import dataclass, field

import numpy as np

from .measures import (
    NAN,
    Array,
    acf,
    ccdf_slope,
    correlation,
    excess_kurtosis,
    fano,
    finite_mean,
    hill,
    power_law_slope,
    rank_correlation,
    returns,
    robust_se,
    skewness,
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

    @property
    def seconds(self) -> int:
        return sum(t.seconds for t in self.tapes)


@dataclass
class Finding:
    shown: str
    """The key numbers, as the report shows them."""
    passed: bool | None
    """None: not applicable here, or reported without a verdict."""
    numbers: dict[str, float] = field(default_factory=dict)


NOT_APPLICABLE = Finding("-", None)


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


def _fmt(x: float, spec: str = ".2f") -> str:
    return "nan" if math.isnan(x) else format(x, spec)


# Price facts -----------------------------------------------------------------------------------


def no_autocorrelation(s: Sample) -> Finding:
    lags = (1, 2, 3, 4, 5)
    rs = s.returns(BASE_S)
    rho = acf(rs, lags)
    se = robust_se(rs, lags)
    t = rho / se
    bad = [k for k, r, tk in zip(lags, rho, t, strict=True) if abs(r) > 0.05 and abs(tk) > 3]
    max_t = float(np.nanmax(np.abs(t)))
    return Finding(
        f"ρ1 {_fmt(rho[0], '+.3f')} (robust SE {_fmt(se[0], '.3f')}); max |t| lags 1-5 {_fmt(max_t, '.1f')}",
        not bad,
        {"rho1": float(rho[0]), "se1": float(se[0]), "max_t": max_t},
    )


def heavy_tails(s: Sample) -> Finding:
    r = s.pooled(BASE_S)
    alpha = hill(r)
    kurt = excess_kurtosis(r)
    return Finding(
        f"Hill α {_fmt(alpha, '.1f')}, excess kurtosis {_fmt(kurt, '.1f')}",
        2.0 <= alpha <= 5.0 and kurt >= 1.0,
        {"alpha": alpha, "kurtosis": kurt},
    )


def aggregational_gaussianity(s: Sample) -> Finding:
    k1, k10, k60 = (excess_kurtosis(s.pooled(h)) for h in (1, 10, 60))
    n60 = len(s.pooled(60))
    noise = 2 * math.sqrt(24 / n60) if n60 else NAN
    return Finding(
        f"kurtosis 1 s {_fmt(k1, '.1f')} → 10 s {_fmt(k10, '.1f')} → 60 s {_fmt(k60, '.1f')}",
        k10 < k1 and k60 < k10 + noise,
        {"kurt_1s": k1, "kurt_10s": k10, "kurt_60s": k60},
    )


def volatility_clustering(s: Sample) -> Finding:
    absr = [np.abs(r) for r in s.returns(BASE_S)]
    near = acf(absr, range(1, 11))
    far = acf(absr, range(20, 31))
    mean_near, mean_far = float(np.nanmean(near)), float(np.nanmean(far))
    return Finding(
        f"|r| autocorrelation lags 1-10 {_fmt(mean_near, '+.3f')}, lags 20-30 {_fmt(mean_far, '+.3f')}",
        mean_near >= 0.1 and mean_far > 0.0,
        {"absacf_1_10": mean_near, "absacf_20_30": mean_far},
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
        f"rank corr(volume, |r|) at 10 s {_fmt(c, '+.2f')} (linear {_fmt(linear, '+.2f')})",
        c >= 0.2,
        {"corr": c, "linear": linear},
    )


def gain_loss_asymmetry(s: Sample) -> Finding:
    r = s.pooled(60)
    if len(r) < 20:
        return Finding("-", None)
    sk = skewness(r)
    ratio = float(-np.quantile(r, 0.01) / np.quantile(r, 0.99)) if np.quantile(r, 0.99) > 0 else NAN
    return Finding(f"skewness 60 s {_fmt(sk, '+.2f')}; |q1%| / q99% {_fmt(ratio, '.2f')}", None, {"skew": sk})


def signature_plot(s: Sample) -> Finding:
    values = signature(s)
    long = float(np.mean(values[-3:]))
    ratio = values[0] / long if long > 0 else NAN
    return Finding(
        f"σ²(τ)/τ at 1 s over 20-60 s {_fmt(ratio, '.2f')}",
        0.67 <= ratio <= 1.5,
        {"ratio": ratio},
    )


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
    n = sum(len(t.taker_sign) for t in s.tapes)
    lag10, lag100 = float(c[SIGN_LAGS.index(10)]), float(c[-1])
    noise = 2 / math.sqrt(n) if n else NAN
    return Finding(
        f"sign autocorrelation lag 1 {_fmt(c[0], '+.2f')}, 10 {_fmt(lag10, '+.3f')}, 100 {_fmt(lag100, '+.3f')};"
        f" γ {_fmt(gamma, '.2f')}",
        lag10 >= 0.05 and lag100 > noise and 0.3 <= gamma <= 1.0,
        {"lag1": float(c[0]), "lag10": lag10, "lag100": lag100, "gamma": gamma},
    )


def spread_volatility(s: Sample) -> Finding:
    spreads = np.concatenate([np.asarray(t.spread, dtype=float) for t in s.tapes])
    spreads = spreads[np.isfinite(spreads)]
    if not len(spreads):
        return Finding("no two-sided book", False)
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
    large_tick = one_tick >= 0.5
    passed = crossed == 0 and (one_tick >= 0.7 if large_tick else 0.5 <= ratio <= 4.0)
    return Finding(
        f"mean spread {_fmt(mean_spread, '.2f')} ticks ({_fmt(100 * one_tick, '.0f')}% at one tick);"
        f" spread / σ per trade {_fmt(ratio, '.2f')}",
        passed,
        {"spread": mean_spread, "one_tick": one_tick, "ratio": ratio, "crossed": crossed},
    )


def order_sizes(s: Sample) -> Finding:
    q = np.concatenate([np.asarray(t.taker_qty, dtype=float) for t in s.tapes])
    lq = np.concatenate([np.asarray(t.limit_qty, dtype=float) for t in s.tapes])
    if not len(q):
        return Finding("no aggressive orders", False)
    lot = s.round_lot
    mu = ccdf_slope(q / lot, 1.0)
    round_share = float((q % lot == 0).mean())
    med_m = float(np.median(q)) / lot
    med_l = float(np.median(lq)) / lot if len(lq) else NAN
    return Finding(
        f"taker size tail μ {_fmt(mu, '.2f')}; {_fmt(100 * round_share, '.0f')}% at round lots;"
        f" median taker {_fmt(med_m, '.1f')} / limit {_fmt(med_l, '.1f')} round lots",
        1.1 <= mu <= 2.0 and round_share >= 0.3,
        {"mu": mu, "round_share": round_share, "median_taker": med_m, "median_limit": med_l},
    )


def placement_depth(s: Sample) -> Finding:
    d = np.concatenate([np.asarray(t.limit_depth, dtype=float) for t in s.tapes])
    if not len(d):
        return Finding("no limit orders", False)
    behind = d[d >= 1]
    alpha = ccdf_slope(behind, 2.0)
    near = float((d <= 2).mean())
    far = behind[behind > 10]
    pile = float(np.bincount(far.astype(int)).max() / len(d)) if len(far) else 0.0
    return Finding(
        f"{_fmt(100 * near, '.0f')}% within 2 ticks of the best; CCDF tail {_fmt(alpha, '.2f')};"
        f" largest pile beyond 10 ticks {_fmt(100 * pile, '.1f')}%",
        0.6 <= alpha <= 2.0 and pile < 0.02 and near >= 0.3,
        {"alpha": alpha, "near": near, "pile": pile},
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
        f"cancel:fill {_fmt(ratio, '.1f')}; {_fmt(100 * fast, '.0f')}% of limit orders cancelled within 2 s,"
        f" {_fmt(100 * very_fast, '.0f')}% within 100 ms",
        ratio >= 3 and fast >= 1 / 3,
        {"cancel_fill": ratio, "within_2s": fast, "within_100ms": very_fast},
    )


def arrival_clustering(s: Sample) -> Finding:
    f1 = [fano(np.asarray(t.taker_t), 1.0, t.seconds) for t in s.tapes]
    f60 = [fano(np.asarray(t.taker_t), 60.0, t.seconds) for t in s.tapes]
    fano1, fano60 = finite_mean(f1), finite_mean(f60)
    branching = 1 - 1 / math.sqrt(fano60) if fano60 >= 1 else 0.0
    return Finding(
        f"Fano factor of aggressive orders 1 s {_fmt(fano1, '.2f')}, 60 s {_fmt(fano60, '.1f')}"
        f" (branching ≈ {_fmt(branching, '.2f')})",
        fano1 >= 2.0 and branching >= 0.5,
        {"fano_1s": fano1, "fano_60s": fano60, "branching": branching},
    )


FACTS: tuple[Fact, ...] = (
    Fact(
        "autocorrelation",
        "no linear return autocorrelation",
        "insignificant beyond very short lags (pass: no lag 1-5 with |ρ| > 0.05 and |t| > 3)",
        "Cont 2001",
        no_autocorrelation,
        True,
    ),
    Fact(
        "heavy_tails",
        "heavy tails",
        "tail index ≈ 3 (2-5) (pass: Hill α in 2-5 and excess kurtosis ≥ 1)",
        "Cont 2001; Plerou et al. 1999",
        heavy_tails,
        True,
    ),
    Fact(
        "aggregational",
        "aggregational Gaussianity",
        "kurtosis falls as the horizon grows (pass: 1 s > 10 s ≳ 60 s within sampling noise)",
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
        "sign autocorrelation ≈ ℓ^-γ, γ ≈ 0.5-0.7 (pass: lag 10 ≥ 0.05, lag 100 above noise, γ in 0.3-1)",
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
    """Every fact on one sample (order-flow facts are not applicable to a fair-value sample)."""
    out = {}
    for fact in FACTS:
        out[fact.key] = fact.measure(sample) if fact.price or not sample.fair else NOT_APPLICABLE
    return out
