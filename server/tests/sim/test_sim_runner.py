"""AgentRunner: an asyncio task stepping the simulation against a host's submit callable."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sim_data import ACME, INITIAL_CASH, LIMITS

from hftsim.engine import Command, Engine, Result, Trade
from hftsim.sim import AgentRunner, SimSettings, Simulation


def make() -> tuple[Simulation, Engine]:
    """Simulated time ten times as fast as the wall clock (intensity 10); the runner looks at least every 10 ms."""
    engine = Engine([ACME], LIMITS, INITIAL_CASH)
    sim = Simulation(SimSettings(step_ms=10, intensity=10), [ACME], 1, limits=LIMITS)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    return sim, engine


async def until(condition: Callable[[], bool]) -> None:
    """Wait for `condition` however loaded the machine is; fail after 30 seconds."""
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110 - the runner's counters have no event to await
            await asyncio.sleep(0.02)


async def test_runner_steps_submits_and_stops() -> None:
    sim, engine = make()
    trades: list[Trade] = []

    def submit(command: Command) -> Result:
        result = engine.apply(command, 0)
        trades.extend(e for e in result.events if isinstance(e, Trade))
        return result

    runner = AgentRunner(sim, engine, submit)
    runner.start()
    runner.start()  # idempotent
    assert runner.running
    await until(lambda: runner.steps > 50 and runner.commands > 100)
    await runner.stop()
    assert not runner.running
    assert engine.book_levels("ACME")[0] and engine.book_levels("ACME")[1]
    steps = runner.steps
    await asyncio.sleep(0.1)
    assert runner.steps == steps  # really stopped
    await runner.stop()  # idempotent


async def test_intensity_zero_pauses_the_agents() -> None:
    sim, engine = make()
    runner = AgentRunner(sim, engine, lambda c: engine.apply(c, 0))
    runner.set_intensity(0)
    runner.start()
    await until(lambda: runner.steps > 5)
    assert runner.commands == 0
    runner.set_intensity(15)
    assert runner.intensity == 15
    await until(lambda: runner.commands > 0)
    await runner.stop()


async def test_failures_are_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    sim, engine = make()
    calls = 0

    def flaky(command: Command) -> Result:
        nonlocal calls
        calls += 1
        if calls % 3 == 0:
            raise RuntimeError("host hiccup")
        return engine.apply(command, 0)

    runner = AgentRunner(sim, engine, flaky)
    runner.start()
    await until(lambda: runner.failures > 0 and runner.steps > 10)
    assert runner.running
    await runner.stop()
    assert "host hiccup" in caplog.text


async def test_async_submit_is_awaited() -> None:
    sim, engine = make()

    async def submit(command: Command) -> Result:
        await asyncio.sleep(0)
        return engine.apply(command, 0)

    runner = AgentRunner(sim, engine, submit)
    await runner.step_once()
    assert runner.commands > 0
    assert runner.failures == 0


async def test_a_submit_that_answers_later_does_not_hold_the_wake_loop() -> None:
    """A host over a network returns None and passes each result to the simulation when it comes back."""
    sim, engine = make()
    loop = asyncio.get_running_loop()
    sent: list[Command] = []

    def answer(command: Command) -> None:
        sim.on_result(engine.apply(command, 0))

    def submit(command: Command) -> None:
        sent.append(command)
        loop.call_later(0.05, answer, command)  # the answer comes back after the next wake-ups ran

    runner = AgentRunner(sim, engine, submit, yield_every=1)
    assert await runner.advance(1.0) > 1
    assert runner.commands == len(sent) > 0  # every wake-up's commands went out without waiting for answers
    await until(lambda: bool(engine.book_levels("ACME")[0]))
    assert runner.failures == 0


async def test_simulated_time_is_paced_by_the_wall_clock() -> None:
    """At intensity 10 the agents' clock runs ten times as fast as the wall clock, never ahead of it."""
    sim, engine = make()
    runner = AgentRunner(sim, engine, lambda c: engine.apply(c, 0))
    loop = asyncio.get_running_loop()
    started = loop.time()
    runner.start()
    await until(lambda: sim.sim_time_ms > 3000 and runner.commands > 0)
    elapsed_ms = (loop.time() - started) * 1000
    await runner.stop()
    assert sim.sim_time_ms <= 10 * elapsed_ms
    assert sim.wakes > 0


async def test_an_advance_runs_the_hook_at_each_simulated_instant() -> None:
    """A stepped clock plays what is due on the way (a scenario's halt) before the step returns, with no
    background task: the hook sees every wake-up's time and, last, the end of the step."""
    sim, engine = make()
    runner = AgentRunner(sim, engine, lambda c: engine.apply(c, 0))
    seen: list[float] = []
    runner.before_step = lambda: seen.append(sim.sim_time_ms)
    start = sim.sim_time_ms
    assert await runner.advance(2.0) > 0
    assert seen[-1] == sim.sim_time_ms == start + 2000
    assert seen == sorted(seen) and len(seen) > 2
    assert not runner.running
