"""8. Agents: what the simulated participants cost per simulated hour, beside the engine they trade on.

The default market (every shipped symbol, default agents) runs offline as
`hftsim realism` runs it: `Simulation.wake` runs one agent's wake-up at its
own microsecond of simulated time and decides its commands, the engine
applies them, `Simulation.on_result` learns from the events (and plans the
reactions they cause). The clock
around each part says how much of a simulated hour goes to the agents'
decisions and how much to matching them; the ratio agents / engine is the
figure to watch when agents change (a simulated hour must stay well under a
minute in all). Each run is a child process, alternately with the agents'
compiled build (`hftsim/compiled.py`, `SIM`) and with its plain-Python
source (the compiled library blocked), on the same seeds: the same commands
both ways, at the two builds' costs.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hftsim.compiled import SIMULATION
from hftsim.config import load
from hftsim.engine import Engine
from hftsim.engine.instruments import cash_decimals
from hftsim.sim import Simulation
from hftsim.testing import without_compiled_code

from .common import Scale, alternate, median, row

NAME = "agents"
TS = 1_764_000_000_000
ROOT = Path(__file__).resolve().parent.parent
CHILD = (
    "import json, sys\n"
    "from bench.agents import simulated_hour_costs\n"
    "print(json.dumps(simulated_hour_costs(float(sys.argv[1]), int(sys.argv[2]))))\n"
)
"""One run, in a child Python: the build it runs is chosen at its import of hftsim."""


def simulated_hour_costs(seconds: float, seed: int) -> dict[str, float]:
    """Wall seconds spent in the agents and in the engine over `seconds` of simulated time, per simulated hour."""
    settings = load()
    instruments = settings.instruments()
    limits = settings.engine_limits()
    engine = Engine(instruments, limits, int(settings.accounts.initial_cash.scaleb(cash_decimals(instruments))))
    sim = Simulation(settings.sim, instruments, seed, limits=limits)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, TS)
    clock = time.perf_counter
    agents = matching = 0.0
    commands = 0
    end_ms = seconds * 1000
    gc.collect()
    while True:
        t0 = clock()
        batch = sim.wake(engine, end_ms)
        agents += clock() - t0
        if batch is None:
            break
        now = TS + int(sim.sim_time_ms)
        for command in batch:
            t1 = clock()
            result = engine.apply(command, now)
            t2 = clock()
            sim.on_result(result)
            agents += clock() - t2
            matching += t2 - t1
        commands += len(batch)
    per_hour = 3600 / seconds
    return {"agents_s": agents * per_hour, "engine_s": matching * per_hour, "commands": commands * per_hour,
            "wakes": sim.wakes * per_hour}  # fmt: skip


def in_child(seconds: float, seed: int, env: dict[str, str]) -> dict[str, float]:
    paths = [p for p in (env.get("PYTHONPATH"), str(ROOT), os.environ.get("PYTHONPATH")) if p]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(seconds), str(seed)],
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = json.loads(done.stdout)
    return costs


def side(seconds: float, reps: int, env: dict[str, str]) -> Callable[[], dict[str, float]]:
    """One build's runs, on seeds 1, 2, ... in turn."""
    seeds: Iterator[int] = iter(range(1, reps + 1))
    return lambda: in_child(seconds, next(seeds), env)


def run(scale: Scale) -> dict[str, Any]:
    seconds = scale.pick(600.0, 300.0, 20.0)
    with tempfile.TemporaryDirectory() as site:
        plain = without_compiled_code(Path(site), (SIMULATION.library,))
        runs = alternate({"compiled": side(seconds, scale.reps, {}), "plain": side(seconds, scale.reps, plain)},
                         scale.reps)  # fmt: skip
    figures: dict[str, dict[str, float]] = {}
    for build, results in runs.items():
        hour = [r["agents_s"] + r["engine_s"] for r in results]
        figures[build] = {
            "agents_s_per_hour": median(r["agents_s"] for r in results),
            "engine_s_per_hour": median(r["engine_s"] for r in results),
            "hour_s": median(hour),
            "wakes_per_s": median(r["wakes"] / h for r, h in zip(results, hour, strict=True)),
            "commands_per_hour": median(r["commands"] for r in results),
            "wakes_per_hour": median(r["wakes"] for r in results),
        }
    ours, before = figures["compiled"], figures["plain"]
    note = (f"{ours['commands_per_hour']:,.0f} commands and {ours['wakes_per_hour']:,.0f} wake-ups per simulated "
            f"hour; {seconds:g} simulated s x {scale.reps}")  # fmt: skip
    rows = [
        row(NAME, "agents' decisions per simulated hour (5 symbols)", ours["agents_s_per_hour"], "s",
            "engine matching them", ours["engine_s_per_hour"], note=note),
        row(NAME, "agents' decisions per simulated hour (5 symbols)", ours["agents_s_per_hour"], "s",
            "before: the agents as plain Python", before["agents_s_per_hour"]),
        row(NAME, "a simulated hour in all, agents and engine", ours["hour_s"], "s",
            "before: the agents as plain Python", before["hour_s"], target="<= 30 s", met=ours["hour_s"] <= 30,
            note=f"{ours['wakes_per_s']:,.0f} wake-ups/s (before {before['wakes_per_s']:,.0f})"),
    ]  # fmt: skip
    return {"simulated_s": seconds, **ours, "before": before, "rows": rows}
