"""The statistics behind the facts, on synthetic data whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hftsim.realism.facts import AUTOCORRELATION_Q, BASE_S, Sample, heavy_tails, no_autocorrelation
from hftsim.realism.measures import (
    Array,
    acf,
    ccdf_slope,
    excess_kurtosis,
    fano,
    overlapping_returns,
    power_law_slope,
    returns,
    robust_se,
    tail_index,
)
from hftsim.realism.tape import Tape


def test_returns_skip_missing_prices_and_use_non_overlapping_steps() -> None:
    r = returns([100.0, 101.0, float("nan"), 103.0, 104.0], 1)
    assert len(r) == 2
    assert r[0] == pytest.approx(math.log(101 / 100))
    assert returns([100.0, 0.0, 110.0], 2) == pytest.approx([math.log(1.1)])


def test_overlapping_returns_start_at_every_sample() -> None:
    prices = [100.0, 101.0, float("nan"), 103.0, 104.0, 105.0]
    r = overlapping_returns(prices, 2)
    assert r == pytest.approx([math.log(103 / 101), math.log(105 / 103)]), "windows touching a gap are dropped"
    rng = np.random.default_rng(8)
    walk = np.exp(np.cumsum(rng.standard_t(4, 200_000) * 1e-4))
    assert excess_kurtosis(overlapping_returns(walk, 50)) < excess_kurtosis(overlapping_returns(walk, 1)) / 5


def test_acf_finds_an_ar1_coefficient_and_pools_runs() -> None:
    rng = np.random.default_rng(3)
    runs = []
    for _ in range(3):
        x = np.zeros(20_000)
        for i in range(1, len(x)):
            x[i] = 0.5 * x[i - 1] + rng.normal()
        runs.append(x)
    rho = acf(runs, [1, 2])
    assert rho[0] == pytest.approx(0.5, abs=0.02)
    assert rho[1] == pytest.approx(0.25, abs=0.02)


def test_robust_se_is_wider_than_the_naive_one_when_volatility_clusters() -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    vol = np.exp(np.repeat(rng.normal(0, 1, n // 100), 100))
    r = rng.normal(size=n) * vol
    se = robust_se([r], [1])[0]
    assert se > 1.5 / math.sqrt(n)
    white = robust_se([rng.normal(size=n)], [1])[0]
    assert white == pytest.approx(1 / math.sqrt(n), rel=0.1)


def test_tail_estimators_recover_a_pareto_exponent_for_continuous_and_integer_data() -> None:
    rng = np.random.default_rng(5)
    x = (1 - rng.random(50_000)) ** (-1 / 1.5)
    assert ccdf_slope(np.floor(x), 2.0) == pytest.approx(1.5, abs=0.15)
    x = (1 - rng.random(200_000)) ** (-1 / 3.0)
    assert tail_index(x, 0.0, 2.0) == pytest.approx(3.0, abs=0.15)
    assert math.isnan(tail_index(np.ones(1000), 0.0, 2.0)), "nothing two root mean squares out"
    assert math.isnan(tail_index(np.ones(1000), 1.0, 2.0))


def _pareto_changes(rng: np.random.Generator, n: int, scale: float) -> Array:
    """Symmetric changes whose size is `scale` times a Pareto of index 3 from 1."""
    return rng.choice([-1.0, 1.0], n) * scale * (1 - rng.random(n)) ** (-1 / 3.0)


def test_the_tail_index_of_changes_rounded_to_a_grid_is_the_index_before_rounding() -> None:
    """Like a large-tick symbol's 10-s mid changes: four in five round to 0, the tail is a few grid values."""
    rng = np.random.default_rng(11)
    ticks = np.round(_pareto_changes(rng, 200_000, 0.3))
    assert (ticks == 0).mean() > 0.75 and len(np.unique(np.abs(ticks[np.abs(ticks) >= 2]))) > 5
    assert tail_index(ticks, 1.0, 2.0) == pytest.approx(3.0, abs=0.25)
    assert abs(tail_index(ticks, 0.0, 2.0) - 3.0) > 0.5, "read as continuous values, the ties mislead"


def test_the_tail_index_of_changes_partly_on_a_grid_half_as_fine() -> None:
    """A mid moves by whole ticks between two one-tick books, by half ticks when the spread changes parity."""
    rng = np.random.default_rng(13)
    # The last: a mid that hardly moves, its tail from half a tick up.
    for scale, share in ((0.5, 0.2), (1.0, 0.6), (3.0, 1.0), (0.1, 1.0)):
        latent = _pareto_changes(rng, 200_000, scale)
        halves = rng.random(len(latent)) < share
        changes = np.where(halves, np.round(latent * 2) / 2, np.round(latent))
        assert tail_index(changes, 1.0, 2.0) == pytest.approx(3.0, abs=0.25), (scale, share)


def test_heavy_tails_reads_the_mid_on_its_tick_grid() -> None:
    """On a mid's changes in whole ticks (a one-tick book) or in half ticks, the tail index is the latent
    changes'."""
    rng = np.random.default_rng(12)
    for scale, step in ((0.3, 1.0), (1.5, 0.5)):
        changes = np.round(_pareto_changes(rng, 60_000, scale) / step) * step
        mid = 850.5 + np.concatenate([[0.0], np.cumsum(changes)])
        tape = Tape("BOLT", 0.05, 850, mid=list(np.repeat(mid, BASE_S)))
        assert heavy_tails(Sample([tape])).numbers["alpha"] == pytest.approx(3.0, abs=0.3), step


def _ar1_mid(rng: np.random.Generator, n: int, phi: float, clustered: bool) -> Tape:
    """A mid whose 10-s log returns follow an AR(1) with coefficient `phi`, their volatility in regimes."""
    vol = np.where((np.arange(n) // 200) % 2 == 0, 1.0, 3.0) if clustered else np.ones(n)
    shocks = rng.standard_normal(n) * vol * 1e-4
    r = np.zeros(n)
    for i in range(1, n):
        r[i] = phi * r[i - 1] + shocks[i]
    mid = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))
    return Tape("ACME", 0.01, 100, mid=list(np.repeat(mid, BASE_S)))


def test_no_autocorrelation_passes_unpredictable_returns_and_fails_predictable_ones() -> None:
    """The portmanteau statistic passes returns without autocorrelation however their volatility clusters,
    fails an AR(1) of 0.15, and lets a correlation too small to trade on pass even when a long sample makes
    it significant."""
    rng = np.random.default_rng(7)
    calm = no_autocorrelation(Sample([_ar1_mid(rng, 2_000, 0.0, clustered=True) for _ in range(6)]))
    assert calm.passed, calm.numbers
    predictable = no_autocorrelation(Sample([_ar1_mid(rng, 2_000, 0.15, clustered=True) for _ in range(6)]))
    assert not predictable.passed and predictable.numbers["q"] > 3 * AUTOCORRELATION_Q, predictable.numbers
    slight = no_autocorrelation(Sample([_ar1_mid(rng, 200_000, 0.03, clustered=False)]))
    assert slight.numbers["max_t"] > 5 and slight.passed, slight.numbers


def test_kurtosis_fano_and_power_law_slope() -> None:
    rng = np.random.default_rng(6)
    assert excess_kurtosis(rng.normal(size=100_000)) == pytest.approx(0.0, abs=0.1)
    assert excess_kurtosis(rng.laplace(size=100_000)) == pytest.approx(3.0, abs=0.3)
    poisson_times = np.sort(rng.random(36_000) * 3600)
    assert fano(poisson_times, 1.0, 3600) == pytest.approx(1.0, abs=0.1)
    bursts = np.concatenate([t + rng.random(20) * 0.5 for t in rng.random(1800) * 3600])
    assert fano(bursts, 1.0, 3600) > 5
    lags = [1, 2, 5, 10, 20, 50]
    assert power_law_slope(lags, np.asarray([0.3 * k**-0.6 for k in lags])) == pytest.approx(0.6)
