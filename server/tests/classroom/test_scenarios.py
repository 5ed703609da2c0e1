"""Scenarios, in process: the format, each shipped scenario played through, and determinism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hftsim.classroom.scenario import Playback, Scenario, ScenarioError, load
from hftsim.config import load as load_settings
from hftsim.engine import Command, Engine, Result, SymbolStatus
from hftsim.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SYMS = ["ACME", "BOLT", "CRUX", "DUNE", "EMBR"]


class InProcess:
    """Engine + agents run by hand, a simulated second at a time: the scenario's Market without a server."""

    def __init__(self, seed: int) -> None:
        settings = load_settings()
        self.engine = Engine(settings.instruments(), settings.engine_limits(), initial_cash=10**12)
        self.sim = Simulation(settings.sim, self.engine.instruments, seed, limits=settings.engine_limits())
        self.sim.bind_users({name: i for i, name in enumerate(self.sim.agent_names(), start=1)}, "t")
        for command in self.sim.open_accounts(self.engine.cash_decimals):
            self.engine.apply(command, 0)
        self.statuses: list[tuple[str, SymbolStatus]] = []

    def symbols(self) -> list[str]:
        return self.sim.symbols

    def fair(self, sym: str) -> Any:
        return self.sim.state(sym).fair

    def withdraw_until(self, sym: str, sim_ms: float) -> None:
        self.sim.state(sym).paused_until_ms = sim_ms

    def run(self, command: Command) -> Result:
        result = self.apply(command)
        self.sim.on_result(result)
        return result

    def apply(self, command: Command) -> Result:
        return self.engine.apply(command, int(self.sim.sim_time_ms))

    def agent_ids(self) -> list[int]:
        return list(self.sim.user_ids.values())

    def play(self, scenario: Scenario, seconds: float) -> Playback:
        playback = Playback(scenario, self.sim.sim_time_ms)
        while self.sim.sim_time_ms < seconds * 1000:
            playback.play(self, self.sim.sim_time_ms)
            self.statuses += [(s, self.engine.status(s)) for s in SYMS]
            self.sim.run(self.sim.sim_time_ms + 1000, self.engine, self.apply)
        return playback


@pytest.mark.parametrize("name", ["quiet_day.toml", "news_shock.toml", "flash_crash.toml"])
def test_each_shipped_scenario_plays_through(name: str) -> None:
    scenario = load(SCENARIOS / name, SYMS)
    market = InProcess(seed=5)
    playback = market.play(scenario, scenario.length_s + 5)
    assert playback.finished and len(playback.log) == len(scenario.events)
    assert all(market.engine.book_levels(s)[0] for s in SYMS), "the agents keep every book alive"


def test_news_moves_the_market_and_a_flash_crash_halts_then_resumes() -> None:
    shock = InProcess(seed=5)
    shock.play(load(SCENARIOS / "news_shock.toml", SYMS), 120)
    calm = InProcess(seed=5)
    calm.play(Scenario(name="nothing"), 120)
    assert shock.sim.fair_value("ACME") < calm.sim.fair_value("ACME") * 0.97
    crash = InProcess(seed=5)
    crash.play(load(SCENARIOS / "flash_crash.toml", SYMS), 100)
    bolt = [status for sym, status in crash.statuses if sym == "BOLT"]
    assert SymbolStatus.HALTED in bolt and bolt[-1] is SymbolStatus.TRADING


def test_same_seed_and_scenario_same_market_another_seed_another() -> None:
    scenario = load(SCENARIOS / "flash_crash.toml", SYMS)
    runs = []
    for seed in (7, 7, 8):
        market = InProcess(seed)
        market.play(scenario, 90)
        runs.append(market.engine.state_hash())
    assert runs[0] == runs[1] != runs[2]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('name = "x"\n[[events]]\nat_s = 1\nkind = "news"\nsym = "ACME"\n', "needs 'move_pct'"),
        ('name = "x"\n[[events]]\nat_s = 1\nkind = "boom"\nsym = "ACME"\n', "events.0.kind"),
        ('name = "x"\n[[events]]\nat_s = 1\nkind = "halt"\nsym = "NOPE"\n', "unknown symbol 'NOPE'"),
        ('name = "x"\nsurprise = 1\n', "surprise"),
        ("name = \n", "x.toml"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=says):
        load(path, SYMS)


def test_a_call_auction_collects_then_uncrosses_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "open.toml"
    path.write_text(
        'name = "opening auction"\n'
        '[[events]]\nat_s = 10\nkind = "auction"\nsym = "ACME"\n'
        '[[events]]\nat_s = 40\nkind = "resume"\nsym = "ACME"\n'
    )
    market = InProcess(seed=5)
    market.play(load(path, SYMS), 60)
    acme = [status for sym, status in market.statuses if sym == "ACME"]
    assert SymbolStatus.AUCTION in acme and acme[-1] is SymbolStatus.TRADING
