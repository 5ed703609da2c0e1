"""Plain statistics the facts are made of (numpy, no market knowledge).

Each takes arrays and returns numbers; NaN when there is too little data.
Series of several runs are pooled run by run (a return never spans two
runs), so pooled estimators take lists of arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
NAN = float("nan")


def returns(prices: Sequence[float] | Array, horizon: int) -> Array:
    """Non-overlapping log returns over `horizon` samples; pairs with a missing price are dropped."""
    p = np.asarray(prices, dtype=float)[::horizon]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(p))
    return np.asarray(r[np.isfinite(r)], dtype=float)


def overlapping_returns(prices: Sequence[float] | Array, horizon: int) -> Array:
    """Log returns over `horizon` samples starting at every sample (the windows overlap).

    They have the distribution of non-overlapping returns, `horizon` times as many of them: estimates of
    its shape (kurtosis) at long horizons steady down, where an hour has only 60 one-minute returns.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.log(np.asarray(prices, dtype=float))
    r = p[horizon:] - p[:-horizon]
    return np.asarray(r[np.isfinite(r)], dtype=float)


def acf(series: Sequence[Array], lags: Sequence[int]) -> Array:
    """Autocorrelation at each lag, pooled over runs (each run demeaned on its own)."""
    num = np.zeros(len(lags))
    den = 0.0
    for x in series:
        x = x - x.mean() if len(x) else x
        den += float(x @ x)
        for i, lag in enumerate(lags):
            if len(x) > lag:
                num[i] += float(x[:-lag] @ x[lag:])
    return num / den if den > 0 else np.full(len(lags), NAN)


def robust_se(series: Sequence[Array], lags: Sequence[int]) -> Array:
    """Heteroskedasticity-robust standard error of each autocorrelation (Taylor 1984; Lo & MacKinlay 1989).

    sqrt(sum r_t^2 r_{t-k}^2) / sum r_t^2: volatility clustering makes the
    plain 1/sqrt(n) too small, and returns look predictable when they are not.
    """
    num = np.zeros(len(lags))
    den = 0.0
    for x in series:
        x = x - x.mean() if len(x) else x
        x2 = x * x
        den += float(x2.sum())
        for i, lag in enumerate(lags):
            if len(x) > lag:
                num[i] += float(x2[:-lag] @ x2[lag:])
    return np.sqrt(num) / den if den > 0 else np.full(len(lags), NAN)


def excess_kurtosis(x: Array) -> float:
    if len(x) < 8:
        return NAN
    d = x - x.mean()
    m2 = float((d * d).mean())
    return float((d**4).mean()) / (m2 * m2) - 3.0 if m2 > 0 else NAN


def skewness(x: Array) -> float:
    if len(x) < 8:
        return NAN
    d = x - x.mean()
    m2 = float((d * d).mean())
    return float((d**3).mean()) / m2**1.5 if m2 > 0 else NAN


def tail_index(x: Array, grid: float, beyond: float) -> float:
    """Tail index a of |x| (P(|x| >= y) ~ y^-a): maximum likelihood of a Pareto tail over the values at least
    `beyond` root mean squares out (NaN with fewer than 5 there).

    The threshold in root mean squares is how studies of normalised returns cut the tail (2: about the top
    5% of a return distribution). On continuous data (`grid` 0) this is Hill's estimator at that threshold.

    Values on a grid (price changes in ticks) tie, and Hill's estimator on them swings with where its
    threshold falls among the ties: a value stands for every latent value that rounds to it. So each value
    adds the probability of its interval (a grouped Pareto sample), the threshold is a grid value, and the
    tail holds the latent values from half a step below it. The values may lie on `grid` or, some of them,
    on a grid half as fine (a mid moves by whole ticks between two books of odd spreads, by half ticks
    between an odd and an even one): a change rounded to the finer grid is off the coarse one half the time,
    so twice the share of the tail off the coarse grid is taken as on the finer one, and each value's
    probability mixes the two roundings.
    """
    a = np.abs(x)
    if not len(a):
        return NAN
    scale = beyond * math.sqrt(float((a * a).mean()))
    if grid <= 0:
        tail = a[a > scale]
        return len(tail) / float(np.log(tail / scale).sum()) if len(tail) >= 5 and scale > 0 else NAN
    fine, coarse = grid / 2, grid
    u = math.ceil(scale / fine) * fine
    tail = a[a >= u]
    if len(tail) < 5 or u <= 0:
        return NAN
    off = tail % coarse != 0
    p = min(1.0, 2 * float(off.mean()))
    u_coarse = math.ceil(u / coarse) * coarse
    # Survival (y / u)^-a of every interval edge, as logs: the likelihood is a sum of exponentials in a.
    lo_f, hi_f = np.log((tail - fine / 2) / u), np.log((tail + fine / 2) / u)
    # (A value off the coarse grid has no coarse interval: its coarse terms, weighted 0, start at the value.)
    lo_c, hi_c = np.log(np.where(off, tail, tail - coarse / 2) / u), np.log((tail + coarse / 2) / u)
    edge_f, edge_c = math.log((u - fine / 2) / u), math.log((u_coarse - coarse / 2) / u)
    on_coarse = (~off) * (1 - p)

    def log_likelihood(alpha: float) -> float:
        each = p * (np.exp(-alpha * lo_f) - np.exp(-alpha * hi_f)) + on_coarse * (
            np.exp(-alpha * lo_c) - np.exp(-alpha * hi_c)
        )
        reach = p * math.exp(-alpha * edge_f) + (1 - p) * math.exp(-alpha * edge_c)
        return float(np.log(each).sum()) - len(tail) * math.log(reach)

    # Each rounding alone gives a concave log-likelihood, a mix need not: the best of a scan over log a, then
    # a ternary search between its neighbours.
    grid_a = np.geomspace(0.05, 50.0, 121)
    best = int(np.argmax([log_likelihood(float(g)) for g in grid_a]))
    lo, hi = math.log(grid_a[max(best - 1, 0)]), math.log(grid_a[min(best + 1, len(grid_a) - 1)])
    for _ in range(40):
        left, right = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if log_likelihood(math.exp(left)) < log_likelihood(math.exp(right)):
            lo = left
        else:
            hi = right
    return math.exp((lo + hi) / 2)


def ccdf_slope(x: Array, lo: float, tail_share: float = 0.001, points: int = 12) -> float:
    """Exponent a of P(X >= d) ~ d^-a for d >= lo, by least squares on the log-log empirical CCDF.

    The CCDF is read at log-spaced points from `lo` up to where only
    `tail_share` of the sample is left, so each decade weighs the same; unlike
    a plain Hill estimator this copes with integer values (ticks, lots) and their ties.
    """
    v = np.sort(x[x >= lo])
    if len(v) < 50:
        return NAN
    top = v[min(len(v) - 1, max(0, len(v) - int(tail_share * len(x)) - 1))]
    if top <= lo:
        return NAN
    grid = np.unique(np.geomspace(lo, top, points))
    ccdf = (len(v) - np.searchsorted(v, grid, side="left")) / len(x)
    keep = ccdf > 0
    if keep.sum() < 3:
        return NAN
    slope = np.polyfit(np.log(grid[keep]), np.log(ccdf[keep]), 1)[0]
    return float(-slope)


def rank_correlation(a: Array, b: Array) -> float:
    """Spearman's rank correlation: robust to the heavy tails of volume and returns."""
    if len(a) < 8:
        return NAN
    ra = np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b, kind="stable"), kind="stable").astype(float)
    return correlation(ra, rb)


def correlation(a: Array, b: Array) -> float:
    if len(a) < 8 or a.std() == 0 or b.std() == 0:
        return NAN
    return float(np.corrcoef(a, b)[0, 1])


def power_law_slope(lags: Sequence[float], values: Array) -> float:
    """Exponent g of values ~ lag^-g, fitted on the positive values (log-log least squares)."""
    x = np.log(np.asarray(lags, dtype=float))
    ok = np.isfinite(values) & (values > 0)
    if ok.sum() < 3:
        return NAN
    slope = np.polyfit(x[ok], np.log(values[ok]), 1)[0]
    return float(-slope)


def fano(times: Array, window_s: float, span_s: float) -> float:
    """Variance over mean of the number of events per window (1 for a Poisson process)."""
    bins = int(span_s // window_s)
    if bins < 10:
        return NAN
    counts = np.bincount(np.minimum((times // window_s).astype(int), bins - 1), minlength=bins)[:bins]
    mean = counts.mean()
    return float(counts.var() / mean) if mean > 0 else NAN


def finite_mean(values: Sequence[float]) -> float:
    good = [v for v in values if not math.isnan(v)]
    return sum(good) / len(good) if good else NAN
