"""Stylised facts the agents make themselves, measured on a market whose fair value is a plain GBM.

With no volatility regimes and no jumps, the fair value's returns are i.i.d.
Gaussian: whatever clustering or memory the market shows comes from the
agents (see docs in `hftsim.sim.stats` and the market-realism guide).
Statistics are pooled over six seeded quarter-hours: more, shorter runs
than a few long ones, because a single busy spell moves one run's
statistics a lot. The thresholds were checked on three such groups (seeds
1-6, 7-12, 13-18) and three groups of nine ten-minute runs (seeds 1-27):
they sit below every group's value (0.06-0.11 for |r| at lags 10-50,
0.09-0.16 for signs at lag 10 and 0.045-0.09 at lag 50) and above what the
same market shows with the mechanisms turned off (about 0.00 and 0.04).
With the noise traders' crowd (`SymbolState.crowd`) making the busy spells,
seeds 1-6 and 7-12 give 0.067 and 0.132 for |r| at lags 10-50, 0.18 and
0.15 for signs at lag 10, 0.08 and 0.06 at lag 50. With the market's
anticipation of the flow learned (`hftsim.sim.anticipation`), |r| at lags
10-50 is 0.081 and 0.080, and the return autocorrelation at lag 1 is 0.003
and 0.043 at 1 s (0.08 and 0.10 with a fixed anticipation), 0.030 and 0.009
at 10 s. With each agent drawing from its own stream on each symbol (new
draws for the same seeds), seeds 1-6, 7-12 and 13-18 give 0.101, 0.086 and
0.052 for |r| at lags 10-50, 0.147, 0.137 and 0.166 for signs at lag 10,
and 0.030, 0.026 and 0.078 at lag 50 (the few longest parents decide it;
0.076, 0.060 and 0.041 with the earlier draws).
"""

from __future__ import annotations

import math

import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.engine import Code
from hftsim.sim import SimSettings, SymbolSimSettings
from hftsim.sim.stats import OfflineRun, autocorr, fair_stats, market_stats, pooled, run_offline

SEEDS = (1, 2, 3, 4, 5, 6)
SECONDS = 900


@pytest.fixture(scope="module")
def gbm_runs() -> list[OfflineRun]:
    settings = SimSettings(defaults=SymbolSimSettings(vol_of_vol=0.0, jump_rate_per_hour=0.0))
    return [run_offline([ACME], settings, seed, SECONDS, limits=LIMITS, initial_cash=INITIAL_CASH) for seed in SEEDS]


def sign_acf(runs: list[OfflineRun], lag: int) -> float:
    values = []
    for run in runs:
        signs = [1.0 if t.aggressor == "buy" else -1.0 for t in run.recordings["ACME"].trades]
        values.append(autocorr(signs, lag))
    return sum(values) / len(values)


def test_order_signs_have_long_memory(gbm_runs: list[OfflineRun]) -> None:
    """Split parent orders: the sign of a trade still predicts the sign ten and fifty trades later."""
    lag1, lag10, lag50 = (sign_acf(gbm_runs, lag) for lag in (1, 10, 50))
    assert lag10 >= 0.07
    assert lag50 >= 0.02, "parents long enough for memory over tens of trades"
    assert lag10 >= lag1 / 5, "slow (power-law-like) decay, not exponential (that would leave lag1**10 < 0.001)"


def test_volatility_clusters_although_the_fair_value_does_not(gbm_runs: list[OfflineRun]) -> None:
    recs = [run.recordings["ACME"] for run in gbm_runs]
    fair = pooled([fair_stats(rec) for rec in recs])
    market = pooled([market_stats(rec) for rec in recs])
    assert abs(fair["absacf_1s_10_50"]) < 0.02, "the fair value alone has no clustering"
    assert market["absacf_1s_10_50"] >= 0.025
    assert market["absacf_1s_1"] >= 0.03
    assert market["kurt_1s"] > fair["kurt_1s"] + 0.5


def test_returns_stay_uncorrelated_and_the_market_realistic(gbm_runs: list[OfflineRun]) -> None:
    recs = [run.recordings["ACME"] for run in gbm_runs]
    market = pooled([market_stats(rec) for rec in recs])
    configured = SymbolSimSettings().volatility
    assert abs(market["acf_1s_1"]) <= 0.08
    assert abs(market["acf_10s_1"]) <= 0.1
    # The order flow carries most of the volatility (the fair value the rest): 0.99 and 1.08 times the
    # configured volatility over seeds 1-6 and 7-12; a market that doubled it, or went flat, fails.
    assert 0.8 * configured <= market["vol_10s"] <= 1.75 * configured
    assert market["spread_median"] <= 3 and market["spread_le3_share"] >= 0.7
    assert market["five_levels_share"] >= 0.95
    assert 45 <= market["trades_per_min"] <= 220, "120 and 137 over seeds 1-6 and 7-12"
    for run in gbm_runs:
        assert run.sim.rejections[Code.POSITION_LIMIT] == 0
        assert run.sim.errors == 0
    assert all(not math.isnan(v) for v in market.values())
