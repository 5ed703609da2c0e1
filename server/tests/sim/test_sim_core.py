"""The simulation core: determinism, settings, clock and intensity, halts, other instruments."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from sim_data import ACME, ALL, CRUX, INITIAL_CASH, LIMITS

from hftsim.engine import Code, Engine, Instrument, Result, SetSymbolStatus, SymbolStatus, Trade
from hftsim.engine.commands import Command
from hftsim.sim import SimSettings, Simulation, SymbolSimSettings
from hftsim.sim.agents.market_maker import MarketMaker, level_band
from hftsim.sim.config import TRADING_SECONDS_PER_YEAR, AgentCounts
from hftsim.sim.fairvalue import FairValue, Normals
from hftsim.sim.stats import autocorr, market_stats, path_stats, run_offline
from hftsim.sim.symbol import SymbolState


def tape(seed: int, seconds: float = 300) -> list[tuple[int, int, str, int, int, int]]:
    run = run_offline([ACME], SimSettings(), seed, seconds, limits=LIMITS, initial_cash=INITIAL_CASH)
    return [(t.price, t.qty, str(t.aggressor), t.ts, t.buyer_id, t.seller_id) for t in run.recordings["ACME"].trades]


def test_same_seed_same_tape_different_seed_different_tape() -> None:
    first = tape(11)
    assert len(first) > 100
    assert tape(11) == first
    assert tape(12) != first


def symbol_tapes(settings: SimSettings, seconds: float = 120, seed: int = 3) -> dict[str, list[tuple[object, ...]]]:
    """What each symbol's market did, command by command: when, whose order, its side, type, price, size and
    state after the command (or the rejection), and every trade with its buyer and seller; without the order ids
    and client order ids, which the engine and the agents number across symbols."""
    sim, engine = bound(settings, ALL, seed)
    tapes: dict[str, list[tuple[object, ...]]] = {sym: [] for sym in sim.symbols}

    def submit(command: Command) -> Result:
        result = engine.apply(command, int(sim.sim_time_ms))
        at = sim.sim_time_ms
        order, rejection = result.order, result.rejection
        if order is not None:
            tapes[order.sym].append(
                (at, order.user_id, order.side, order.type, order.price, order.qty, order.filled_qty, order.status)
            )
        if rejection is not None and rejection.sym is not None:
            tapes[rejection.sym].append((at, rejection.user_id, rejection.code))
        for event in result.events:
            if isinstance(event, Trade):
                tapes[event.sym].append((at, event.price, event.qty, event.aggressor, event.buyer_id, event.seller_id))
        return result

    sim.run(seconds * 1000, engine, submit)
    return tapes


def test_a_symbols_settings_leave_every_other_symbols_tape_alone() -> None:
    """Every agent draws from its own random stream on each symbol, so changing one symbol's settings (or
    switching it off) changes its own tape only: a change tuned on one symbol cannot re-roll the others."""
    shipped = symbol_tapes(SimSettings())
    assert symbol_tapes(SimSettings()) == shipped, "same seed, same tapes"
    busier = symbol_tapes(SimSettings(symbols={"CRUX": SymbolSimSettings(taker_rate=1.2, consensus_error_bps=0.75)}))
    without = symbol_tapes(SimSettings(symbols={"CRUX": SymbolSimSettings(enabled=False)}))
    assert busier["CRUX"] != shipped["CRUX"] and "CRUX" not in without
    for sym in ("ACME", "BOLT", "DUNE", "EMBR"):
        assert len(shipped[sym]) > 300, sym
        assert busier[sym] == shipped[sym], sym
        assert without[sym] == shipped[sym], sym


def test_a_makers_view_strays_from_the_consensus_as_far_as_its_symbol_sets() -> None:
    """`mm_error_bps` sets the first maker's private error on each symbol, later makers' half as far again:
    a calm index future is priced more closely than the defaults would have it."""
    settings = SimSettings(symbols={"CRUX": SymbolSimSettings(mm_error_bps=0.5)})
    for inst, expected_bps in ((ACME, 1.5), (CRUX, 0.75)):
        state = SymbolState(inst, settings.for_symbol(inst.sym), LIMITS, 1)
        maker = MarketMaker("mm_2", 1, 1)
        errors = []
        for i in range(4000):
            maker.wants_to_act(i * 30_000.0, 30.0, state)  # one error half-life apart
            errors.append(maker._book(state).error)
        spread_bps = math.sqrt(sum(e * e for e in errors) / len(errors)) * 1e4
        assert spread_bps == pytest.approx(expected_bps, rel=0.1), inst.sym


def bound(
    settings: SimSettings, instruments: Sequence[Instrument] = (ACME,), seed: int = 1
) -> tuple[Simulation, Engine]:
    engine = Engine(list(instruments), LIMITS, INITIAL_CASH)
    sim = Simulation(settings, list(instruments), seed, limits=LIMITS)
    sim.bind_users({name: i + 100 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, 0)
    return sim, engine


def drive(sim: Simulation, engine: Engine, steps: int, t0: int = 0) -> int:
    """Run the agents for `steps` tenths of a simulated second, each command applied at its wake-up's time."""
    return sim.run(
        sim.sim_time_ms + steps * 100, engine, lambda command: engine.apply(command, t0 + int(sim.sim_time_ms))
    )


def test_normals_are_the_generators_own_gauss_draws() -> None:
    """The fixed grid draws its normals itself (compiled, no interpreter call per draw): exactly the values
    `random.Random.gauss` gives, with uniform draws in between as the fair value takes them."""
    ours, theirs = random.Random(9), random.Random(9)
    normals = Normals(ours)
    for i in range(20_000):
        assert normals.gauss(0.5 * (i % 2), 1.0 + i % 3) == theirs.gauss(0.5 * (i % 2), 1.0 + i % 3)
        if i % 7 == 0:
            assert ours.random() == theirs.random()


def test_agent_names_are_unique_and_configurable() -> None:
    settings = SimSettings(name_prefix="sim-", agents=AgentCounts(market_makers=3, noise=2))
    names = Simulation(settings, [ACME], 1).agent_names()
    assert len(names) == len(set(names))
    assert all(name.startswith("sim-") for name in names)
    assert sum("mm_" in n for n in names) == 3 and sum("noise_" in n for n in names) == 2


def test_the_agents_need_bound_users() -> None:
    sim = Simulation(SimSettings(), [ACME], 1)
    with pytest.raises(RuntimeError):
        sim.wake(Engine([ACME], LIMITS, INITIAL_CASH), 1000)
    with pytest.raises(KeyError):
        sim.bind_users({}, "1")


def test_intensity_must_be_a_finite_non_negative_number() -> None:
    sim = Simulation(SimSettings(), [ACME], 1)
    sim.set_intensity(0)
    sim.set_intensity(3)
    assert sim.intensity == 3
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            sim.set_intensity(bad)


def test_per_symbol_overrides_only_change_what_they_name() -> None:
    settings = SimSettings.model_validate(
        {"defaults": {"volatility": 0.3, "taker_rate": 0.5}, "symbols": {"ACME": {"volatility": 0.6}}}
    )
    acme = settings.for_symbol("ACME")
    assert acme.volatility == 0.6 and acme.taker_rate == 0.5
    assert settings.for_symbol("BOLT").volatility == 0.3
    with pytest.raises(ValueError):
        SimSettings.model_validate({"symbols": {"ACME": {"volatilty": 0.6}}})


def test_disabled_symbol_is_left_alone() -> None:
    settings = SimSettings(symbols={"BOLT": SymbolSimSettings(enabled=False)})
    sim, engine = bound(settings, instruments=ALL[:2])
    drive(sim, engine, 50)
    assert sim.symbols == ["ACME"]
    assert engine.book_levels("BOLT") == ([], [])
    assert engine.book_levels("ACME")[0]


def test_all_default_symbols_get_a_deep_two_sided_market() -> None:
    run = run_offline(ALL, SimSettings(), 5, 600, limits=LIMITS, initial_cash=INITIAL_CASH)
    assert set(run.sim.rejections) <= {Code.UNKNOWN_ORDER}
    assert run.sim.errors == 0
    for sym, rec in run.recordings.items():
        stats = market_stats(rec)
        assert stats["two_sided_share"] > 0.99, sym
        assert stats["five_levels_share"] > 0.95, sym
        assert stats["trades_per_min"] > 20, sym
        inst = run.engine.instrument(sym)
        assert inst is not None
        low, high = inst.band_low, inst.band_high
        assert all(low <= t.price <= high for t in rec.trades), sym


def test_agents_stay_within_small_server_limits() -> None:
    from hftsim.engine import Limits

    small = Limits(max_order_qty=50, max_position=600)
    run = run_offline([ACME], SimSettings(), 2, 600, limits=small, initial_cash=INITIAL_CASH)
    assert run.sim.rejections[Code.POSITION_LIMIT] == 0
    assert run.sim.rejections[Code.QTY_ABOVE_MAX] == 0
    assert len(run.recordings["ACME"].trades) > 100
    for user_id in run.sim.user_ids.values():
        assert abs(run.engine.position(user_id, "ACME").qty) <= small.max_position


def test_halted_symbol_makes_agents_back_off_then_resume() -> None:
    sim, engine = bound(SimSettings())
    drive(sim, engine, 100)
    engine.apply(SetSymbolStatus("ACME", SymbolStatus.HALTED), 10_000)
    before = sim.rejections[Code.SYMBOL_HALTED]
    drive(sim, engine, 300)  # 30 s halted
    halted = sim.rejections[Code.SYMBOL_HALTED] - before
    assert 0 < halted < 200
    engine.apply(SetSymbolStatus("ACME", SymbolStatus.TRADING), 40_000)
    assert drive(sim, engine, 200) > 0
    assert sim.errors == 0


def test_restart_continues_on_the_books_left_behind() -> None:
    """A new simulation (e.g. after a server restart) adopts the agents' live orders, no duplicate ids."""
    sim, engine = bound(SimSettings(), seed=4)
    drive(sim, engine, 300)
    users = sim.user_ids
    again = Simulation(SimSettings(), [ACME], 4, limits=LIMITS)
    again.bind_users(users, "2")
    drive(again, engine, 300, t0=100_000)
    assert set(again.rejections) <= {Code.UNKNOWN_ORDER}


def test_maker_levels_are_single_prices_on_a_one_tick_step_and_widening_bands_on_a_wider_one() -> None:
    assert [level_band(k, 1, behind) for k in range(4) for behind in (False, True)] == [
        (k, k) for k in range(4) for _ in range(2)
    ]
    bands = [level_band(k, 7, False) for k in range(5)]
    assert bands[0] == (0, 0), "at the touch: one price"
    assert all(bands[k][1] + 1 == bands[k + 1][0] for k in range(1, 4)), "deeper bands follow on without gaps"
    widths = [high - low for low, high in bands]
    assert widths == sorted(widths) and widths[4] > widths[1], "and widen with depth"
    assert level_band(0, 7, True) == (0, 6), "a maker behind the best does not chase every tick"


def test_fair_value_volatility_and_band() -> None:
    params = SymbolSimSettings(volatility=0.4, flow_share=0.0)
    fv = FairValue(params, 10000.0, 9200.0, 10800.0, random.Random(1))
    path = []
    for i in range(36000 * 4):
        fv.advance(0.1)
        if i % 10 == 9:
            path.append(fv.value)
    stats = path_stats(path)
    assert 0.25 <= stats["vol_10s"] <= 0.6
    assert stats["kurt_1s"] > 1  # jumps and regimes: fat tails
    assert stats["absacf_1s_10_50"] > 0.05  # volatility clustering
    assert abs(stats["acf_1s_1"]) < 0.05
    assert all(9200 <= p <= 10800 for p in path)
    news = FairValue(SymbolSimSettings(volatility=0.4, flow_share=0.7), 10000.0, 9200.0, 10800.0, random.Random(1))
    news_var = news.sigma**2 + news.jump_rate * news.jump_size**2
    assert news_var * TRADING_SECONDS_PER_YEAR == pytest.approx(0.3 * 0.4**2), "the flow carries the rest"
    wild = FairValue(SymbolSimSettings(volatility=5.0), 10000.0, 9200.0, 10800.0, random.Random(2))
    for _ in range(100_000):
        wild.advance(0.1)
        assert 9200 - 1e-6 <= wild.value <= 10800 + 1e-6


def test_the_noise_traders_crowd_has_busy_and_quiet_spells_of_minutes() -> None:
    """Herding: the active share wanders far (quiet spells with hardly anybody trading, busy ones at several
    times the mean) and slowly (still correlated 100 s later); a market that moved lately recruits faster."""
    params = SimSettings().for_symbol("ACME")
    calm, hot = SymbolState(ACME, params, LIMITS, 1), SymbolState(ACME, params, LIMITS, 1)
    hot.heat = 3.0
    calm_path, hot_path = [], []
    for _ in range(2 * 3600 * 10):  # ten hours in half-second steps
        calm._update_crowd(0.5)
        hot._update_crowd(0.5)
        calm_path.append(calm.activity)
        hot_path.append(hot.activity)
    mean = sum(calm_path) / len(calm_path)
    assert 0.7 <= mean <= 1.4, "the activity is about 1 on average"
    assert sum(a < 0.25 for a in calm_path) >= 0.2 * len(calm_path), "quiet spells"
    assert sum(a > 2.5 for a in calm_path) >= 0.05 * len(calm_path), "busy spells"
    assert autocorr(calm_path, 200) >= 0.5, "that last minutes"
    assert sum(hot_path) / len(hot_path) >= 1.5 * mean
