"""The trading day: busier after the open and before the close when a session is configured, flat otherwise."""

from __future__ import annotations

import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.engine import Engine
from hftsim.engine.commands import PlaceOrder
from hftsim.sim import SimSettings, Simulation, SymbolSimSettings
from hftsim.sim.day import DayProfile

MINUTE_MS = 60_000.0


def test_a_venue_open_around_the_clock_is_equally_busy_all_the_time() -> None:
    day = DayProfile(SymbolSimSettings())
    assert day.flat
    assert {day.activity(t * MINUTE_MS) for t in range(0, 2000, 7)} == {1.0}
    assert day.day_end_ms(5 * MINUTE_MS) == float("inf")


def test_the_day_is_a_u_busiest_at_the_open_and_the_close_and_repeats() -> None:
    day = DayProfile(SymbolSimSettings(session_hours=6.5, open_activity=4, close_activity=3))
    length = 390 * MINUTE_MS
    assert day.activity(0) == pytest.approx(4.0, abs=1e-3)
    assert day.activity(length - 1) == pytest.approx(3.0, abs=1e-3)
    midday = day.activity(length / 2)
    assert 1.0 <= midday < 1.05
    assert day.activity(30 * MINUTE_MS) > 1.5 * midday
    assert day.activity(length + 1) == pytest.approx(day.activity(1)), "the next day starts with an open"
    assert day.day_end_ms(length / 2) == length
    curve = [day.activity(t * MINUTE_MS) for t in range(0, 390)]
    for start in range(0, 380, 13):
        bound = day.highest(start * MINUTE_MS, (start + 10) * MINUTE_MS)
        assert max(curve[start : start + 11]) <= bound + 1e-9, "a bound for drawing arrivals by thinning"


def placed_by_noise_and_providers(params: SymbolSimSettings) -> tuple[int, int]:
    """Orders the noise traders and the liquidity providers place in the first three simulated minutes,
    and in minutes 15 to 18, against a real Engine."""
    engine = Engine([ACME], LIMITS, INITIAL_CASH)
    sim = Simulation(SimSettings(defaults=params), [ACME], 3, limits=LIMITS)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, 0)
    users = {uid for name, uid in sim.user_ids.items() if "_noise_" in name or "_lp_" in name}
    first = middle = 0
    while (batch := sim.wake(engine, 18 * MINUTE_MS)) is not None:
        t = sim.sim_time_ms
        for command in batch:
            sim.on_result(engine.apply(command, int(t)))
            if type(command) is PlaceOrder and command.user_id in users:
                first += t < 3 * MINUTE_MS
                middle += t >= 15 * MINUTE_MS
    return first, middle


def test_the_agents_trade_more_after_the_open_than_at_midday() -> None:
    """A short day (30 simulated minutes, the open's rush fading within two): busier first minutes."""
    day = SymbolSimSettings(session_hours=0.5, open_activity=4, close_activity=1, intraday_half_life_min=2)
    open_day, midday = placed_by_noise_and_providers(day)
    open_flat, midday_flat = placed_by_noise_and_providers(SymbolSimSettings())
    assert open_day > 1.6 * midday
    assert open_day > 2 * open_flat
    assert 0.6 < open_flat / midday_flat < 1.6, "a venue open around the clock is as busy at its start"
