"""8. Agents: what the simulated participants cost per simulated hour, beside the engine they trade on.

The default market (every shipped symbol, default agents) runs offline as
`hftsim realism` runs it: `Simulation.wake` runs one agent's wake-up at its
own microsecond of simulated time and decides its commands, the engine
applies them, `Simulation.on_result` learns from the events (and plans the
reactions they cause). The clock
around each part says how much of a simulated hour goes to the agents'
decisions and how much to matching them; the ratio agents / engine is the
figure to watch when agents change (a simulated hour must stay well under a
minute in all).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from hftsim.config import load
from hftsim.engine import Engine
from hftsim.engine.instruments import cash_decimals
from hftsim.sim import Simulation

from .common import Scale, median, row

NAME = "agents"
TS = 1_764_000_000_000


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


def run(scale: Scale) -> dict[str, Any]:
    seconds = scale.pick(600.0, 300.0, 20.0)
    runs = [simulated_hour_costs(seconds, seed) for seed in range(1, scale.reps + 1)]
    agents = median(r["agents_s"] for r in runs)
    matching = median(r["engine_s"] for r in runs)
    commands = median(r["commands"] for r in runs)
    wakes = median(r["wakes"] for r in runs)
    rows = [
        row(NAME, "agents' decisions per simulated hour (5 symbols)", agents, "s", "engine matching them", matching,
            note=f"{commands:,.0f} commands and {wakes:,.0f} wake-ups per simulated hour; "
                 f"{seconds:g} simulated s x {scale.reps}"),
    ]  # fmt: skip
    return {"simulated_s": seconds, "agents_s_per_hour": agents, "engine_s_per_hour": matching,
            "commands_per_hour": commands, "wakes_per_hour": wakes, "rows": rows}  # fmt: skip
