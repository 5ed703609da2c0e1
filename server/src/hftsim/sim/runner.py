"""Drive a `Simulation` in-process: one asyncio task stepping every step_ms.

The host gives a `submit(command) -> Result` callable that applies the
command to the engine (through its sequencer) and fans the events out; the
runner feeds each result back to the simulation. Nothing an agent or the
host does in one step can stop the loop: exceptions are logged and the next
step comes anyway. When a step runs late the runner skips ahead rather than
bursting to catch up (simulated time follows steps, not the wall clock).

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
import time
from collections.abc import Awaitable, Callable

from ..engine import Result
from ..engine.commands import Command
from .market import MarketView
from .simulation import Simulation

log = logging.getLogger(__name__)

Submit = Callable[[Command], "Result | Awaitable[Result]"]


def _wall_ms() -> int:
    return int(time.time() * 1000)


class AgentRunner:
    def __init__(
        self,
        sim: Simulation,
        market: MarketView,
        submit: Submit,
        *,
        step_ms: int | None = None,
        clock: Callable[[], int] = _wall_ms,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        """`step_ms` is the real time between steps (default: the simulation's step_ms).

        `ready` says whether the host takes commands now (False while its
        store is down): steps are skipped meanwhile, not failed command by command.
        """
        self.sim = sim
        self.market = market
        self._submit = submit
        self.step_s = (step_ms if step_ms is not None else sim.step_ms) / 1000.0
        self._clock = clock
        self._ready = ready
        self._task: asyncio.Task[None] | None = None
        self.steps = 0
        self.commands = 0
        self.failures = 0
        self.paused = False
        """While paused the task keeps ticking but runs no step: the agents' clock stands still."""
        self.speed = 1.0
        """Steps per `step_s` of real time: 2 runs the agents' clock twice as fast."""
        self.before_step: Callable[[], None] | None = None
        """Called ahead of every step (a scenario plays its due events there)."""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def intensity(self) -> float:
        return self.sim.intensity

    def set_intensity(self, intensity: float) -> None:
        """Activity multiplier (simulated time per step); 0 pauses the agents, the task keeps ticking."""
        self.sim.set_intensity(intensity)

    async def advance(self, seconds: float) -> int:
        """Run the steps that cover `seconds` of simulated time now, paused or not; the steps run."""
        per_step_s = self.sim.step_ms * self.sim.intensity / 1000.0
        if per_step_s <= 0:
            return 0
        steps = max(1, round(seconds / per_step_s))
        for _ in range(steps):
            await self.step_once()
            await asyncio.sleep(0)  # heartbeats and other clients get their turn between steps
        return steps

    def start(self) -> None:
        """Start the stepping task on the running loop (no-op if already running)."""
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
        """Run one step now; returns the number of commands submitted."""
        if not self._ready():
            return 0
        try:
            if self.before_step is not None:
                self.before_step()
            commands = self.sim.step(self._clock(), self.market)
        except Exception:
            self.failures += 1
            log.exception("simulation step failed; trying again next step")
            return 0
        self.steps += 1
        for command in commands:
            try:
                result = self._submit(command)
                if inspect.isawaitable(result):
                    result = await result
                self.sim.on_result(result)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                log.exception("submitting %r failed; going on", command)
        self.commands += len(commands)
        return len(commands)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            if not self.paused:
                await self.step_once()
            due += self.step_s / self.speed
            delay = due - loop.time()
            if delay < -self.step_s:  # far behind: skip the missed steps
                due = loop.time()
                delay = 0.0
            await asyncio.sleep(max(delay, 0.0))
