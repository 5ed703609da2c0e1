"""The agents' compiled build: it runs when built, falls back to its source when not, and both give the same tape."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim import compiled
from hftsim.engine import Command, Engine, Result
from hftsim.sim import SimSettings, Simulation
from hftsim.sim import simulation as simulation_module
from hftsim.testing import without_compiled_code

TAPE = """
import json, sys
from decimal import Decimal
from hftsim import compiled
from hftsim.engine import Engine, Instrument, Limits
from hftsim.sim import SimSettings, Simulation

acme = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10))
limits = Limits(max_order_qty=100_000, max_position=1_000_000)
engine = Engine([acme], limits, 100_000_000)
sim = Simulation(SimSettings(), [acme], 3, limits=limits)
sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
for opening in sim.open_accounts(engine.cash_decimals):
    engine.apply(opening, 0)
tape = []
sim.run(20_000, engine, lambda c: tape.append(repr(c)) or engine.apply(c, int(sim.sim_time_ms)))
print(json.dumps([compiled.SIMULATION.compiled, compiled.SIMULATION.note, tape]))
"""
"""Twenty simulated seconds of ACME's agents (seed 3), printed as the build that ran them and their commands."""


def tape_in_child(env: dict[str, str]) -> tuple[bool, str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", TAPE], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    ran_compiled, note, tape = json.loads(done.stdout)
    return ran_compiled, note, tape


def test_the_compiled_simulation_runs() -> None:
    """`make setup` built it, so the tests (and the server) run the agents compiled."""
    assert compiled.SIMULATION.compiled, compiled.SIMULATION.note
    assert simulation_module.__file__ is not None
    assert simulation_module.__file__.endswith(tuple(EXTENSION_SUFFIXES))


def test_the_source_gives_the_same_tape_as_the_compiled_build(tmp_path: Path) -> None:
    """Same seed, same commands in either build; a build that does not import leaves the source running."""
    ran_compiled, _, compiled_tape = tape_in_child({})
    ran_source, note, source_tape = tape_in_child(without_compiled_code(tmp_path))
    assert ran_compiled and not ran_source
    assert note.startswith("running the agents' simulation as plain Python: the compiled simulation does not import")
    assert len(compiled_tape) > 300
    assert source_tape == compiled_tape


def test_a_pickled_simulation_goes_on_as_the_original() -> None:
    """A snapshot pickles the agents with the engine: restored, they send what the original sends."""
    engine = Engine([ACME], LIMITS, INITIAL_CASH)
    sim = Simulation(SimSettings(), [ACME], 5, limits=LIMITS)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, 0)
    sim.run(5_000, engine, lambda command: engine.apply(command, int(sim.sim_time_ms)))
    engine_copy, sim_copy = pickle.loads(pickle.dumps((engine, sim), protocol=pickle.HIGHEST_PROTOCOL))
    tapes: list[list[str]] = []
    for market, agents in ((engine, sim), (engine_copy, sim_copy)):
        tape: list[str] = []

        def submit(
            command: Command, tape: list[str] = tape, market: Engine = market, agents: Simulation = agents
        ) -> Result:
            tape.append(repr(command))
            return market.apply(command, int(agents.sim_time_ms))

        agents.run(30_000, market, submit)
        tapes.append(tape)
    assert len(tapes[0]) > 100
    assert tapes[1] == tapes[0]
