"""The pure core: seeded agents that turn market state into commands.

```python
sim = Simulation(settings, instruments, seed, limits=engine.limits)
users = {name: create_account(name) for name in sim.agent_names()}
sim.bind_users(users)
every step_ms of real time:
    for command in sim.step(now_ms, engine):
        sim.on_result(engine.apply(command, now_ms))
```

The simulation owns its clock: each step advances simulated time by
`step_ms * intensity` (no wall-clock reads); `intensity` 0 pauses it. Given
the seed, the sequence of steps and what the market answers, the commands
are always the same. Agents are ordinary accounts: their commands go
through the same validation and risk checks as anyone's.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence

from ..engine import Limits, Rejected, Result, Trade
from ..engine.commands import Command, OpenAccount
from ..engine.errors import Code
from ..engine.instruments import Instrument
from .agents import (
    Agent,
    HawkesState,
    InformedTrader,
    InstitutionalTrader,
    LiquidityProvider,
    MarketMaker,
    MeanReversionTrader,
    MomentumTrader,
    NoiseTrader,
    Orders,
)
from .config import SimSettings
from .market import MarketView, StepView
from .symbol import SymbolState

log = logging.getLogger(__name__)

HALT_BACKOFF_MS = 5_000.0
"""Simulated time the agents leave a symbol alone after it answered SYMBOL_HALTED."""


class Simulation:
    def __init__(
        self,
        settings: SimSettings,
        instruments: Sequence[Instrument],
        seed: int,
        *,
        limits: Limits | None = None,
    ) -> None:
        """`limits` are the server's risk limits (the agents stay well inside them); None: unknown."""
        self.settings = settings
        self.seed = seed
        self.step_ms = settings.step_ms
        self._intensity = settings.intensity
        self._time_ms = 0.0
        self.steps = 0
        self.rejections: Counter[str] = Counter()
        """Rejections of the agents' commands by code (POSITION_LIMIT should stay at zero)."""
        self.errors = 0
        """Agent exceptions caught (and logged) so far."""
        self._states: dict[str, SymbolState] = {}
        for inst in instruments:
            params = settings.for_symbol(inst.sym)
            if params.enabled:
                self._states[inst.sym] = SymbolState(inst, params, limits, seed)
        self._agents = self._make_agents()
        self._by_user: dict[int, Agent] = {}
        self._order_rng = random.Random(f"{seed}:order")

    def _make_agents(self) -> list[Agent]:
        counts = self.settings.agents
        prefix = self.settings.name_prefix
        seed = self.seed
        hawkes: dict[str, HawkesState] = {}
        agents: list[Agent] = []
        agents += [MarketMaker(f"{prefix}mm_{i + 1}", seed, i) for i in range(counts.market_makers)]
        n = counts.liquidity_providers
        agents += [LiquidityProvider(f"{prefix}lp_{i + 1}", seed, i, n) for i in range(n)]
        n = counts.noise
        agents += [NoiseTrader(f"{prefix}noise_{i + 1}", seed, n, hawkes) for i in range(n)]
        agents += [MomentumTrader(f"{prefix}momentum_{i + 1}", seed, i) for i in range(counts.momentum)]
        agents += [MeanReversionTrader(f"{prefix}meanrev_{i + 1}", seed, i) for i in range(counts.mean_reversion)]
        n = counts.informed
        agents += [InformedTrader(f"{prefix}informed_{i + 1}", seed, n) for i in range(n)]
        agents += [InstitutionalTrader(f"{prefix}inst_{i + 1}", seed) for i in range(counts.institutional)]
        return agents

    # Host API ---------------------------------------------------------------

    def agent_names(self) -> list[str]:
        """One account per name; the host creates them and calls `bind_users`."""
        return [agent.name for agent in self._agents]

    def bind_users(self, users: Mapping[str, int], run_id: str) -> None:
        """Tell each agent its account's user id (every name of `agent_names()` is needed).

        `run_id` must differ from every earlier run's on the same market: a
        client order id names one order for the market's whole life, so the
        agents' ids (name, run, counter) must never repeat across restarts.
        """
        missing = [agent.name for agent in self._agents if agent.name not in users]
        if missing:
            raise KeyError(f"no user id for agents {', '.join(missing)}")
        self._by_user = {}
        for agent in self._agents:
            agent.user_id = users[agent.name]
            agent.run_id = run_id
            self._by_user[agent.user_id] = agent

    def open_accounts(self, cash_decimals: int) -> list[OpenAccount]:
        """One `OpenAccount` per bound agent with `agent_cash`: the agents make the market, so they need money."""
        cash = int(self.settings.agent_cash.scaleb(cash_decimals))
        return [OpenAccount(user_id, cash) for user_id in self._by_user]

    @property
    def user_ids(self) -> dict[str, int]:
        return {agent.name: agent.user_id for agent in self._agents if agent.user_id is not None}

    @property
    def symbols(self) -> list[str]:
        return list(self._states)

    @property
    def intensity(self) -> float:
        return self._intensity

    def set_intensity(self, intensity: float) -> None:
        """Speed multiplier of simulated time per step; 0 pauses the agents."""
        if not math.isfinite(intensity) or intensity < 0:
            raise ValueError(f"intensity must be a finite number >= 0, got {intensity!r}")
        self._intensity = float(intensity)

    @property
    def sim_time_ms(self) -> float:
        """Simulated time since the start (steps times step_ms times the intensity of each)."""
        return self._time_ms

    def fair_value(self, sym: str) -> float:
        """The symbol's current fair value in ticks (for statistics and tests; agents see it their own way)."""
        return self._states[sym].fair.value

    def state(self, sym: str) -> SymbolState:
        return self._states[sym]

    # Stepping ---------------------------------------------------------------

    def step(self, now_ms: int, market: MarketView) -> list[Command]:
        """Advance simulated time by one step and return the agents' commands, in order.

        `now_ms` is the host's timestamp of the step; it is not used for the
        simulation's own time (which is why a replayed run needs only the seed
        and the market's answers).
        """
        if len(self._by_user) != len(self._agents):
            raise RuntimeError("bind_users() must be called before step()")
        if self._intensity <= 0:
            return []
        dt_ms = self.step_ms * self._intensity
        dt_s = dt_ms / 1000.0
        self._time_ms += dt_ms
        self.steps += 1
        now = self._time_ms
        out: list[Command] = []
        for sym, state in self._states.items():
            state.fair.advance(dt_s)
            if now < state.paused_until_ms:
                state.end_step()
                continue
            view = StepView(market, sym)
            state.observe(view, dt_s)
            agents = self._agents[:]
            self._order_rng.shuffle(agents)
            for agent in agents:
                try:
                    if agent.wants_to_act(now, dt_s, state):
                        sink = Orders(agent, state, view, out)
                        agent.act(now, dt_s, state, sink)
                except Exception:
                    self.errors += 1
                    log.exception("agent %s failed on %s; skipping it this step", agent.name, sym)
            state.end_step()
        return out

    def on_result(self, result: Result) -> None:
        """Learn from what a command did: public trades, and the agents' rejections.

        Any result may be passed, users' too: the agents then also see the
        users' trades in their flow model (they always see their effect on
        the book and their own positions).
        """
        for event in result.events:
            if type(event) is Trade:
                state = self._states.get(event.sym)
                if state is not None:
                    state.record_trade(event)
            elif type(event) is Rejected and event.user_id in self._by_user:
                self.rejections[event.code] += 1
                if event.code == Code.SYMBOL_HALTED and event.sym in self._states:
                    self._states[event.sym].paused_until_ms = self._time_ms + HALT_BACKOFF_MS
