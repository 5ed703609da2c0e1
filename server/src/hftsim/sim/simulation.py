"""The pure core: seeded agents that turn market state into commands, in continuous time.

```python
sim = Simulation(settings, instruments, seed, limits=engine.limits)
sim.bind_users({name: create_account(name) for name in sim.agent_names()}, run_id)
while (commands := sim.wake(engine, until_ms)) is not None:   # one agent's wake-up
    for command in commands:
        sim.on_result(engine.apply(command, ts_of(sim.sim_time_ms)))
```

Every agent wakes at its own times (`schedule.Wakes`, microseconds of
simulated time): its own arrivals and timers, and reactions to a print or a
moved touch after a latency it samples. Each wake-up decides on the market
as it is at that instant, so the host applies a wake-up's commands (and
passes their results to `on_result`) before asking for the next; `run`
does that for a host whose engine answers at once. The simulation owns its clock (no wall-clock reads):
given the seed and what the market answers, the commands and their times
are always the same. Agents are ordinary accounts: their commands go
through the same validation and risk checks as anyone's.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from mypy_extensions import mypyc_attr

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
from .schedule import US_PER_MS, Wakes
from .symbol import SymbolState

log = logging.getLogger(__name__)

HALT_BACKOFF_MS = 5_000.0
"""Simulated time the agents leave a symbol alone after it answered SYMBOL_HALTED."""
RETRY_MS = 1_000.0
"""An agent that failed looks at the symbol again after this long."""

Submit = Callable[[Command], Result]
"""Applies one command at once and returns what it did (an in-process engine)."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
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
        self._now_us = 0
        self.wakes = 0
        """Agents' wake-ups so far."""
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
        self._pairs = [(agent, state) for state in self._states.values() for agent in self._agents]
        """Wake-up keys: index -> (agent, symbol)."""
        self._last_us = [0] * len(self._pairs)
        self._reactive: dict[str, list[tuple[int, Agent]]] = {sym: [] for sym in self._states}
        """sym -> the agents that react to its prints."""
        self._quote_reactive: dict[str, list[tuple[int, Agent]]] = {sym: [] for sym in self._states}
        """sym -> the agents that also react to a moved touch without a print."""
        self._peers: dict[int, list[int]] = {}
        """key -> the keys of the same kind on the same symbol, when the kind shares one arrival clock."""
        for key, (agent, state) in enumerate(self._pairs):
            if type(agent).reacts:
                self._reactive[state.sym].append((key, agent))
                if type(agent).reacts_to_quotes:
                    self._quote_reactive[state.sym].append((key, agent))
            if type(agent).shares_clock:
                self._peers[key] = [
                    k
                    for k, (other, st) in enumerate(self._pairs)
                    if k != key and st is state and type(other) is type(agent)
                ]
        self._wakes = Wakes()
        self._touched: set[str] = set()
        """Symbols whose touch may have moved since the reactive agents last heard of it."""
        self._news: set[str] = set()
        """Symbols that printed, or whose consensus value moved, since then: every reactive agent looks."""

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

    def position_cap(self, name: str, sym: str) -> int:
        """The cap agent `name` keeps its worst-case position on `sym` within (`Agent.cap_multiple`)."""
        agent = next(a for a in self._agents if a.name == name)
        return agent.position_cap(self._states[sym])

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
        now_ms = self.sim_time_ms
        for key, (agent, state) in enumerate(self._pairs):
            self._last_us[key] = self._now_us
            self._plan(key, agent.next_wake_ms(now_ms, state))

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
        """Speed multiplier of simulated time over the host's clock; 0 pauses the agents."""
        if not math.isfinite(intensity) or intensity < 0:
            raise ValueError(f"intensity must be a finite number >= 0, got {intensity!r}")
        self._intensity = float(intensity)

    @property
    def sim_time_ms(self) -> float:
        """Simulated time since the start, at microsecond resolution."""
        return self._now_us / US_PER_MS

    @property
    def next_wake_ms(self) -> float:
        """When the next planned wake-up is due (reactions to the last results not counted yet)."""
        t_us = self._wakes.next_us()
        return math.inf if t_us is None else t_us / US_PER_MS

    def fair_value(self, sym: str) -> float:
        """The symbol's current fair value in ticks (for statistics and tests; agents see it their own way)."""
        return self._states[sym].fair.value

    def state(self, sym: str) -> SymbolState:
        return self._states[sym]

    # Running ----------------------------------------------------------------

    def wake(self, market: MarketView, until_ms: float) -> list[Command] | None:
        """Run the earliest wake-up due by `until_ms` and return its commands (all at `sim_time_ms`).

        None when nothing is due by then: the clock then stands at `until_ms`.
        """
        if len(self._by_user) != len(self._agents):
            raise RuntimeError("bind_users() must be called before the agents run")
        if self._touched:
            self._react(market)
        wakes = self._wakes
        until_us = round(until_ms * US_PER_MS)
        t_us = wakes.next_us()
        if t_us is None or t_us > until_us:
            self._now_us = max(self._now_us, until_us)
            return None
        t_us, key = wakes.pop()
        self._now_us = t_us
        self.wakes += 1
        agent, state = self._pairs[key]
        sym = state.sym
        now_ms = t_us / US_PER_MS
        if now_ms < state.paused_until_ms:
            wakes.set(key, math.ceil(state.paused_until_ms * US_PER_MS))
            return []
        view = StepView(market, sym)
        state.observe(view, t_us)
        # A move of the value worth requoting for wakes the reactive agents, as a print does.
        if abs(state.consensus - state.announced_value) >= state.requote_ticks:
            state.announced_value = state.consensus
            self._touched.add(sym)
            self._news.add(sym)
        dt_s = (t_us - self._last_us[key]) / 1e6
        self._last_us[key] = t_us
        out: list[Command] = []
        try:
            if agent.wants_to_act(now_ms, dt_s, state):
                agent.act(now_ms, dt_s, state, Orders(agent, state, view, out))
            next_ms = agent.next_wake_ms(now_ms, state)
        except Exception:
            self.errors += 1
            log.exception("agent %s failed on %s; it looks again later", agent.name, sym)
            next_ms = now_ms + RETRY_MS
        state.view = None  # a view holds the market: it must not outlive the wake-up (snapshots pickle the agents)
        self._plan(key, next_ms)
        if out:
            self._touched.add(sym)
            for peer in self._peers.get(key, ()):
                peer_agent, peer_state = self._pairs[peer]
                self._plan(peer, peer_agent.next_wake_ms(now_ms, peer_state))
        return out

    def run(self, until_ms: float, market: MarketView, submit: Submit) -> int:
        """Run every wake-up due by `until_ms`, each one's commands applied through `submit` before the next."""
        sent = 0
        while (commands := self.wake(market, until_ms)) is not None:
            for command in commands:
                self.on_result(submit(command))
            sent += len(commands)
        return sent

    def _plan(self, key: int, at_ms: float) -> None:
        """Wake `key` at `at_ms` (at least a microsecond from now), or never when it is infinite."""
        if at_ms < math.inf:
            self._wakes.set(key, max(self._now_us + 1, math.ceil(at_ms * US_PER_MS)))

    def _react(self, market: MarketView) -> None:
        """Wake the reactive agents of every symbol with news or a moved touch, after their latencies."""
        now_us = self._now_us
        touched = self._touched
        for sym, state in self._states.items():  # in a fixed order: a set's order changes from run to run
            if sym not in touched:
                continue
            touch = market.best_bid_ask(sym)
            news = sym in self._news
            if touch == state.touch and not news:
                continue
            state.touch = touch
            for key, agent in self._reactive[sym] if news else self._quote_reactive[sym]:
                latency_us = max(1, round(agent.reaction_ms(state) * US_PER_MS))
                self._wakes.earlier(key, now_us + latency_us)
        self._touched.clear()
        self._news.clear()

    def on_book(self, sym: str) -> None:
        """`sym`'s book may have changed: the quote-reactive agents look at its touch before the next wake-up.

        For hosts that learn of the book from a market-data stream rather
        than from the results of their own commands.
        """
        if sym in self._states:
            self._touched.add(sym)

    def on_result(self, result: Result) -> None:
        """Learn from what a command did: public trades, moved quotes, and the agents' rejections.

        Any result may be passed, users' too: the agents then also see the
        users' trades in their flow model and react to their quotes (they
        always see their effect on the book and their own positions).
        """
        order = result.order
        if order is not None:
            self.on_book(order.sym)
        for event in result.events:
            if isinstance(event, Trade):  # a fill's record (a Trade) or a trade seen on the wire (remote.py)
                state = self._states.get(event.sym)
                if state is not None:
                    state.record_trade(event)
                    self._touched.add(event.sym)
                    self._news.add(event.sym)
            elif type(event) is Rejected and event.user_id in self._by_user:
                self.rejections[event.code] += 1
                if event.code == Code.SYMBOL_HALTED and event.sym in self._states:
                    self._states[event.sym].paused_until_ms = self.sim_time_ms + HALT_BACKOFF_MS
