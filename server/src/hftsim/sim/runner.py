"""Drive a `Simulation` in-process, paced to the wall clock: one asyncio task.

The host gives a `submit(command) -> Result` callable that applies the
command to the engine (through its sequencer) and fans the events out; the
runner feeds each result back to the simulation before the next wake-up,
so every agent decides on the book as it is at its own instant. A host
whose answers come back later (over a network) returns None instead: the
command is on its way, the wake loop goes on, and the host passes what it
learns to `sim.on_result` when the answer arrives. Simulated
time runs `intensity * speed` times as fast as the wall clock: the task
sleeps until the next wake-up is due (at most `step_ms`), then runs every
wake-up due by now. Nothing an agent or the host does can stop the loop:
exceptions are logged and the next wake-up comes anyway. When the runner
falls more than `MAX_LAG_S` behind it lets simulated time slip rather than
bursting to catch up.

```python
runner = AgentRunner(sim, engine, submit)
runner.start()            # inside a running event loop (e.g. FastAPI lifespan)
runner.set_intensity(2)   # twice as busy; 0 pauses
await runner.stop()
```
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

from ..engine import Result
from ..engine.commands import Command
from .market import MarketView
from .simulation import Simulation

log = logging.getLogger(__name__)

Submit = Callable[[Command], "Result | Awaitable[Result] | None"]
"""Applies one command; None: sent, its result reaches `Simulation.on_result` through the host later."""

MAX_LAG_S = 1.0
"""Wall-clock seconds the agents may fall behind before their clock slips instead of catching up."""
YIELD_EVERY = 50
"""Wake-ups run between two turns of the event loop when stepping many at once."""


class AgentRunner:
    def __init__(
        self,
        sim: Simulation,
        market: MarketView,
        submit: Submit,
        *,
        step_ms: int | None = None,
        ready: Callable[[], bool] = lambda: True,
        yield_every: int = YIELD_EVERY,
    ) -> None:
        """`step_ms` is the longest the task sleeps between looks at the agents' clock (default: the
        simulation's step_ms).

        `ready` says whether the host takes commands now (False while its
        store is down): the agents' clock stands still meanwhile, no command fails.
        `yield_every` wake-ups run between two turns of the event loop: 1 lets the commands a
        host sends from tasks go out as soon as their wake-up made them.
        """
        self.sim = sim
        self.market = market
        self._submit = submit
        self.step_s = (step_ms if step_ms is not None else sim.step_ms) / 1000.0
        self._ready = ready
        self._yield_every = yield_every
        self._task: asyncio.Task[None] | None = None
        self.steps = 0
        """Passes of the loop (each runs the wake-ups due by then, paused or not)."""
        self.commands = 0
        self.failures = 0
        self.paused = False
        """While paused the task keeps ticking but runs no wake-up: the agents' clock stands still."""
        self.speed = 1.0
        """Simulated time per wall-clock time, on top of the intensity: 2 runs the agents' clock twice as fast."""
        self.before_step: Callable[[], None] | None = None
        """Called ahead of every pass (a scenario plays its due events there)."""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def intensity(self) -> float:
        return self.sim.intensity

    def set_intensity(self, intensity: float) -> None:
        """Activity multiplier (simulated time per wall time); 0 pauses the agents, the task keeps ticking."""
        self.sim.set_intensity(intensity)

    async def advance(self, seconds: float) -> int:
        """Run the wake-ups of the next `seconds` of simulated time now, paused or not; returns how many ran."""
        wakes = self.sim.wakes
        await self._play(self.sim.sim_time_ms + seconds * 1000.0, pause_every=self._yield_every)
        return self.sim.wakes - wakes

    def start(self) -> None:
        """Start the task on the running loop (no-op if already running)."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hftsim-agents")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def step_once(self) -> int:
        """Run one step's wake-ups now (step_ms of simulated time times the intensity); returns the commands sent."""
        commands = self.commands
        self.steps += 1
        await self._play(self.sim.sim_time_ms + self.sim.step_ms * self.sim.intensity)
        return self.commands - commands

    def _before(self) -> None:
        """Run the hook, if any; its failure is logged and counted, never stops the agents."""
        if self.before_step is None:
            return
        try:
            self.before_step()
        except Exception:
            self.failures += 1
            log.exception("the hook before the agents' pass failed; going on")

    async def _play(self, until_ms: float, pause_every: int = 0) -> None:
        """Run the wake-ups due by `until_ms`, each one's commands submitted (and learnt from) before the next.

        The hook runs ahead of every wake-up and once the clock stands at `until_ms`, so what it plays at a
        simulated time (a scenario's halt) has happened when the pass returns, stepped or paced.
        """
        sim = self.sim
        ran = 0
        while self._ready():
            self._before()
            try:
                commands = sim.wake(self.market, until_ms)
            except Exception:
                self.failures += 1
                log.exception("the agents' clock failed; trying again on the next pass")
                return
            if commands is None:
                self._before()
                return
            for command in commands:
                try:
                    result = self._submit(command)
                    if inspect.isawaitable(result):
                        result = await result
                    if result is not None:
                        sim.on_result(result)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.failures += 1
                    log.exception("submitting %r failed; going on", command)
            self.commands += len(commands)
            ran += 1
            if pause_every and ran % pause_every == 0:
                await asyncio.sleep(0)  # heartbeats and other clients get their turn

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        sim = self.sim
        anchor_wall = loop.time()
        anchor_sim = sim.sim_time_ms
        rate = 0.0
        while True:
            now = loop.time()
            current = 0.0 if self.paused or not self._ready() else sim.intensity * self.speed
            target = anchor_sim + (now - anchor_wall) * 1000.0 * rate
            if current != rate or target - sim.sim_time_ms > 1000.0 * MAX_LAG_S * rate:
                # A new pace, or far behind: simulated time goes on from where it stands.
                anchor_wall, anchor_sim, rate = now, sim.sim_time_ms, current
                target = anchor_sim
            self.steps += 1
            if rate > 0:
                await self._play(target, pause_every=self._yield_every)
                wait = (sim.next_wake_ms - target) / (1000.0 * rate)
            else:
                self._before()  # what is due at a standing clock (a scenario started at its second 0)
                wait = self.step_s
            await asyncio.sleep(min(max(wait, 0.0), self.step_s))
