"""Continuous time: every agent wakes at its own microsecond, and the reactive ones answer a print within milliseconds.

Measured from outside on the order-by-order tape of a real Engine, as the
realism report measures it: the gaps between messages, how soon after a
print the makers requote, how soon after placement orders are cancelled.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.engine import Engine, Trade
from hftsim.engine.commands import AmendOrder, Command, PlaceOrder, Tif
from hftsim.realism.tape import Recording, record
from hftsim.sim import SimSettings, Simulation
from hftsim.sim.market import StepView
from hftsim.sim.schedule import Wakes
from hftsim.sim.symbol import SymbolState

SECONDS = 300


@pytest.fixture(scope="module")
def taped() -> Recording:
    return record([ACME], SimSettings(), 7, SECONDS, limits=LIMITS, initial_cash=INITIAL_CASH)


def test_messages_come_at_their_own_times_not_on_a_grid(taped: Recording) -> None:
    times = np.asarray(taped.tapes["ACME"].messages)
    assert len(times) > 10 * SECONDS
    assert np.all(np.diff(times) >= 0), "the tape is in time order"
    off_grid = np.abs(times * 10 - np.round(times * 10)) > 1e-6
    assert off_grid.mean() > 0.95, "not on a 100-ms grid"
    distinct = len(np.unique(np.round(times * 1e6))) / len(times)
    assert distinct > 0.3, "a wake-up's messages share its microsecond; different wake-ups do not"
    gaps = np.diff(np.unique(times))
    assert np.mean(gaps < 0.001) > 0.05, "bursts: a share of the gaps between wake-ups is under a millisecond"


def test_some_orders_are_cancelled_within_a_hundred_milliseconds(taped: Recording) -> None:
    ages = np.asarray(taped.tapes["ACME"].cancel_age)
    assert len(ages) > 1000
    assert np.mean(ages < 0.1) > 0.05
    assert np.sum(ages < 0.01) >= 5, "a 100-ms step could not cancel sooner than 100 ms"


def test_makers_requote_within_milliseconds_of_a_print() -> None:
    engine = Engine([ACME], LIMITS, INITIAL_CASH)
    sim = Simulation(SimSettings(), [ACME], 3, limits=LIMITS)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    makers = {uid for name, uid in sim.user_ids.items() if "mm_" in name}
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, 0)
    last_print = -1e9
    prints = 0
    since_print: list[float] = []

    def submit(command: Command) -> None:
        nonlocal last_print, prints
        now = sim.sim_time_ms
        quote = isinstance(command, AmendOrder) or (isinstance(command, PlaceOrder) and command.tif is not Tif.IOC)
        if quote and isinstance(command, AmendOrder | PlaceOrder) and command.user_id in makers:
            since_print.append(now - last_print)
        result = engine.apply(command, int(now))
        if any(isinstance(event, Trade) for event in result.events):
            last_print = now
            prints += 1
        sim.on_result(result)

    while (commands := sim.wake(engine, 120_000)) is not None:
        for command in commands:
            submit(command)
    assert len(since_print) > 300, "enough requotes to judge (480-2,400 over seeds 1-8: calm spells requote less)"
    within = float(np.mean(np.asarray(since_print) < 5.0))
    by_chance = prints / 120_000 * 5.0  # share of the time that lies within 5 ms after a print
    assert within > 4 * by_chance, "the makers' quotes crowd into the milliseconds after a print"


COMMANDS_HASH = """
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from sim_data import ALL, INITIAL_CASH, LIMITS
from hftsim.engine import Engine
from hftsim.sim import SimSettings, Simulation
engine = Engine(ALL, LIMITS, INITIAL_CASH)
sim = Simulation(SimSettings(), ALL, 5, limits=LIMITS)
sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
for opening in sim.open_accounts(engine.cash_decimals):
    engine.apply(opening, 0)
sent = []
def submit(command):
    sent.append(repr(command))
    return engine.apply(command, int(sim.sim_time_ms))
sim.run(20_000, engine, submit)
print(hashlib.sha256(repr(sent).encode()).hexdigest())
"""


def test_same_seed_same_times_in_any_process() -> None:
    """No set or hash order leaks into the agents' decisions: other hash seeds give the same commands."""
    here = str(Path(__file__).parent)
    hashes = {
        subprocess.run(
            [sys.executable, "-c", COMMANDS_HASH, here],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(hashes) == 1 and len(hashes.pop()) > 60


def test_wakes_keep_one_plan_per_key_in_time_order() -> None:
    wakes = Wakes()
    wakes.set(1, 50)
    wakes.set(2, 20)
    wakes.set(1, 10)  # replaces 50
    wakes.earlier(2, 30)  # later than its plan: ignored
    wakes.earlier(3, 40)
    order = []
    while wakes.next_us() is not None:
        order.append(wakes.pop())
    assert order == [(10, 1), (20, 2), (40, 3)]


def test_the_fair_value_follows_the_seed_not_when_the_agents_look() -> None:
    """The fair value and the consensus error move on a fixed grid: a run whose agents look at other moments
    (one more trader in it) sees the same values, so paired experiments differ only by what was traded."""
    engine = Engine([ACME], LIMITS, INITIAL_CASH)
    params = SimSettings().for_symbol("ACME")
    often, seldom = (SymbolState(ACME, params, LIMITS, 3) for _ in range(2))
    for t_us in range(0, 60_000_000, 3_001):
        often.observe(StepView(engine, "ACME"), t_us)
    for t_us in (7_777, 1_234_567, 45_000_123):
        seldom.observe(StepView(engine, "ACME"), t_us)
    for state in (often, seldom):
        state.observe(StepView(engine, "ACME"), 60_000_000)
    assert often.fair.value == seldom.fair.value
    assert often.common_error == seldom.common_error
    assert often.fair.value != SymbolState(ACME, params, LIMITS, 3).fair.value, "the value moved meanwhile"
