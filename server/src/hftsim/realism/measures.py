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


def hill(x: Array, share: float = 0.05, minimum: float = 0.0) -> float:
    """Hill estimator of the tail index of |x| from its largest `share` (values <= minimum ignored)."""
    v = np.sort(np.abs(x[np.abs(x) > minimum]))[::-1]
    k = int(len(v) * share)
    if k < 5 or v[k] <= 0:
        return NAN
    total = float(np.log(v[:k] / v[k]).sum())
    return k / total if total > 0 else NAN


def ccdf_slope(x: Array, lo: float, tail_share: float = 0.001, points: int = 12) -> float:
    """Exponent a of P(X >= d) ~ d^-a for d >= lo, by least squares on the log-log empirical CCDF.

    The CCDF is read at log-spaced points from `lo` up to where only
    `tail_share` of the sample is left, so each decade weighs the same; unlike
    Hill's estimator this copes with integer values (ticks, lots) and their ties.
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
