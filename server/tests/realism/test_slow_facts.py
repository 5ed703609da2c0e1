"""The slow facts' machinery on short runs (the real measurement is `make realism`)."""

from __future__ import annotations

import numpy as np
import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.engine.commands import Side
from hftsim.realism.slow import (
    BUCKET_S,
    DAY_S,
    END_S,
    FRACTIONS,
    Impact,
    Metaorder,
    closing_price,
    measure_intraday,
    pool,
    power_fit,
    section,
    square_root_impact,
    trading_day,
)
from hftsim.realism.tape import start
from hftsim.sim import SimSettings, SymbolSimSettings


def test_paired_runs_from_one_copied_market_measure_impact_to_hundredths_of_sigma() -> None:
    """A buy and a sell metaorder run on from one copy of the market see the same fair value, so their mids
    differ by what the metaorders did and how the agents answered them; half that gap over four seeds is known
    within a few hundredths of sigma (a gap to a run without a metaorder was 0.08-0.1 sigma off: it keeps what the
    agents would have done anyway). The runs are seeded, so the figures are the same on every machine: -0.047 +-
    0.055 and 0.248 +- 0.023 sigma at the two sizes, the larger one clearly its way."""
    impact = square_root_impact(
        ACME, SimSettings(), LIMITS, INITIAL_CASH, 4, start_s=60, execution_s=120, fractions=(0.05, 0.5)
    )
    assert impact.fair_gap < 0.1
    assert max(impact.error) < 0.08
    assert impact.impact[1] > 2 * impact.error[1], "a large metaorder moves the price its way"
    assert "Square-root impact" in "\n".join(section("ACME", impact, None))


def longest_spell(empty: list[bool]) -> int:
    """The most consecutive seconds for which `empty` holds."""
    longest = run = 0
    for flag in empty:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def test_a_metaorder_of_forty_percent_of_the_volume_fills_and_never_empties_the_book_for_long() -> None:
    """The liquidity providers are the book's latent liquidity, refilling behind a large trader: a sell of 7,000
    units over ten minutes (about 40% of what the market trades then, more than the makers and providers could
    take together with a trader's cap each) fills in full, and the bid side is never empty for more than a
    second at a time (a child goes at the end of a second, just before the tape looks at the book, so a child
    that takes the last bid is seen before anyone could refill). With a trader's cap, the providers were full
    after a few thousand units: this sell filled 5,714 units and left the bids empty for 104 seconds, 21 in a
    row."""
    market = start([ACME], SimSettings(), 3, limits=LIMITS, initial_cash=INITIAL_CASH)
    market.run(300)
    user_id = len(market.sim.agent_names()) + 1
    market.run(900, inject=Metaorder(user_id, INITIAL_CASH * 1000, ACME, Side.SELL, 7_000, 300, 600))
    assert market.engine.exposure(user_id, "ACME")[0] == -7_000
    assert longest_spell([touch == 0 for touch in market.tapes["ACME"].touch_bid[300:]]) <= 1


def test_the_exponent_is_fitted_on_the_mean_impacts_with_a_standard_error_over_the_seeds() -> None:
    """A square root under noise as large as the paired runs' (0.2 sigma a pair) is found within its standard
    error, and a small size whose mean comes out below zero still counts (a log-log fit would drop it and
    steepen the curve)."""
    rng = np.random.default_rng(3)
    sizes = np.asarray(FRACTIONS)
    runs = [list(0.7 * np.sqrt(sizes) + rng.normal(0, 0.2, len(sizes))) for _ in range(48)]
    impact = Impact(FRACTIONS, runs, 0.0)
    found = impact.finding
    assert abs(found.numbers["delta"] - 0.5) < 2 * found.se["delta"] < 0.4
    assert found.passed
    assert power_fit((0.1, 0.2, 0.4), [[-0.01, 0.2, 0.4], [-0.03, 0.2, 0.4]]) > 0.9, "a line through zero"
    assert np.isnan(power_fit((0.1, 0.2, 0.4), [[-0.1, -0.2, -0.4], [-0.1, -0.2, -0.4]])), "no impact"
    assert "δ = 0." in "\n".join(section("ACME", impact, None))


def test_intraday_u_shape_is_found_when_there_and_not_when_flat() -> None:
    buckets = 13
    seconds = buckets * BUCKET_S
    rng = np.random.default_rng(1)
    shape = np.asarray([2.0, 1.5, 1.2] + [1.0] * 7 + [1.2, 1.5, 2.0])
    per_second = np.repeat(shape, BUCKET_S)
    volume = list(rng.poisson(10 * per_second))
    mid = list(10_000 * np.exp(np.concatenate([[0], np.cumsum(rng.normal(0, 1e-4, seconds) * per_second)])))
    day = measure_intraday(volume, mid)
    assert day.passed and day.volume_u > 1.5
    assert len(day.volume) == len(day.volatility) == buckets, "the last half hour's volatility too"
    flat = measure_intraday(
        list(rng.poisson(10, seconds)), list(10_000 * np.exp(np.cumsum(rng.normal(0, 1e-4, seconds + 1))))
    )
    assert not flat.passed
    assert "U-shape" in "\n".join(section("ACME", None, day))


def test_days_are_pooled_half_hour_by_half_hour_with_a_standard_error_over_the_days() -> None:
    rng = np.random.default_rng(2)
    seconds = 13 * BUCKET_S
    shape = np.repeat(np.asarray([2.0, 1.5, 1.2] + [1.0] * 7 + [1.2, 1.5, 2.0]), BUCKET_S)
    days = [
        measure_intraday(
            list(rng.poisson(10 * shape)),
            list(10_000 * np.exp(np.concatenate([[0], np.cumsum(rng.normal(0, 1e-4, seconds) * shape)]))),
        )
        for _ in range(4)
    ]
    pooled = pool(days)
    assert pooled.volume == pytest.approx(np.mean([d.volume for d in days], axis=0))
    found = pooled.finding
    assert found.passed and set(found.se) == {"volume_u", "volatility_u"}
    assert 0 < found.se["volatility_u"] < 0.5, "four days pin the volatility ratio down"
    text = "\n".join(section("ACME", None, pooled))
    assert "over 4 simulated trading days" in text and " ± " in text


def test_the_day_is_simulated_as_a_trading_day_unless_the_market_sets_its_own() -> None:
    sim = SimSettings(symbols={"ACME": SymbolSimSettings(volatility=0.5)})
    day = trading_day(sim, "ACME")
    assert day.for_symbol("ACME").session_hours == DAY_S / 3600
    assert day.for_symbol("ACME").volatility == 0.5, "the symbol's own settings stay"
    assert day.for_symbol("BOLT").session_hours == 0, "only the measured symbol"
    own = SimSettings(defaults=SymbolSimSettings(session_hours=4.0))
    assert trading_day(own, "ACME") is own


def test_a_second_with_one_side_of_the_book_empty_counts_at_the_last_quoted_mid() -> None:
    quoted = [100.0] * 40 + [90.0] * 10
    assert closing_price(quoted, 50) == np.mean(quoted[50 - END_S :])
    emptied = [100.0] * 40 + [90.0] * 5 + [float("nan")] * 5  # a metaorder took the bids out
    assert closing_price(emptied, 50) == closing_price(quoted, 50)
    assert closing_price([float("nan")] * 5 + [100.0] * 45, 50) == 100.0
