"""Playing scenarios (classroom/scenario.py) on the running venue's agents.

One scenario plays at a time. It is started with `hftsim serve --scenario
FILE` or by an admin (`admin.scenario_start`, a file of the scenarios
directory, `scenarios.dir` in the config); the agents' runner calls
`before_step` ahead of each of its steps, which plays the events whose
time has come. Commands an event makes (halts, the agents' cancels in a
drought) go through the sequencer like any other, journal first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..classroom.scenario import Playback, ScenarioError, load
from ..engine import Command, Result
from ..protocol.errors import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from ..sim import AgentRunner
    from .venue import Venue

log = logging.getLogger(__name__)


class AgentsMarket:
    """The venue and its agents as a scenario sees them (classroom.scenario.Market)."""

    def __init__(self, venue: Venue, agents: AgentRunner) -> None:
        self._venue = venue
        self._agents = agents

    def symbols(self) -> list[str]:
        return self._agents.sim.symbols

    def fair(self, sym: str) -> Any:
        return self._agents.sim.state(sym).fair

    def withdraw_until(self, sym: str, sim_ms: float) -> None:
        self._agents.sim.state(sym).paused_until_ms = sim_ms

    def run(self, command: Command) -> Result:
        result = self._venue.sequencer.submit_now(command)
        self._agents.sim.on_result(result)
        return result

    def agent_ids(self) -> list[int]:
        return list(self._agents.sim.user_ids.values())


class Scenarios:
    def __init__(self, venue: Venue, directory: Path) -> None:
        self._venue = venue
        self.directory = directory
        self.playing: Playback | None = None

    def available(self) -> list[dict[str, Any]]:
        """The scenario files of the directory, each with its name, description and length."""
        out: list[dict[str, Any]] = []
        for path in sorted(self.directory.glob("*.toml")) if self.directory.is_dir() else []:
            try:
                s = load(path, self._symbols())
            except ScenarioError as exc:
                out.append({"file": path.name, "error": str(exc)})
                continue
            out.append({"file": path.name, "name": s.name, "description": s.description, "length_s": s.length_s})
        return out

    def start_file(self, name: str) -> Playback:
        """Start a scenario of the directory by its file name."""
        path = self.directory / name
        if path.name != name or path.suffix != ".toml" or not path.is_file():
            raise ProtocolError(ErrorCode.UNKNOWN_SCENARIO, f"no scenario file {name!r}; admin.scenarios lists them")
        return self.start(path)

    def start(self, path: Path) -> Playback:
        agents = self._venue.agents
        if agents is None:
            raise ProtocolError(ErrorCode.INVALID_FIELD, "scenarios play on the agents: this server runs --no-bots")
        try:
            scenario = load(path, self._symbols())
        except ScenarioError as exc:
            raise ProtocolError(ErrorCode.INVALID_FIELD, str(exc)) from None
        market = AgentsMarket(self._venue, agents)
        playback = Playback(scenario, agents.sim.sim_time_ms)
        self.playing = playback

        def before_step() -> None:
            if self.playing is playback and not playback.finished:
                played = len(playback.log)
                playback.play(market, agents.sim.sim_time_ms)
                for line in playback.log[played:]:
                    log.info("scenario %s: %s", scenario.name, line)

        agents.before_step = before_step
        log.info("scenario %s started (%d events over %gs)", scenario.name, len(scenario.events), scenario.length_s)
        return playback

    def stop(self) -> None:
        self.playing = None
        if self._venue.agents is not None:
            self._venue.agents.before_step = None

    def status(self) -> dict[str, Any] | None:
        playing, agents = self.playing, self._venue.agents
        if playing is None or agents is None:
            return None
        return {
            "name": playing.scenario.name,
            "elapsed_s": round((agents.sim.sim_time_ms - playing.started_ms) / 1000, 3),
            "length_s": playing.scenario.length_s,
            "events_done": playing.done,
            "events": len(playing.scenario.events),
            "log": list(playing.log),
        }

    def _symbols(self) -> list[str]:
        return [i.sym for i in self._venue.engine.instruments]
