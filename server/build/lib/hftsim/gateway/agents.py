"""In-process simulated participants: accounts for each agent, then a runner on the sequencer."""

from __future__ import annotations

from collections.abc import Awaitable

from ..engine import CancelAll, Command, Result, SetSymbolStatus
from ..sim import AgentRunner, Simulation
from .venue import Venue


def start_agents(venue: Venue, seed: int) -> AgentRunner:
    """Build the agents with their own user accounts; the caller starts the runner in the event loop.

    Each agent's account opens with `sim.agent_cash` (journaled, so replay
    gives the same cash; an account that exists keeps its own). Agents start
    with no memory of orders they left on a recovered book, so those orders
    are canceled first. Their client order ids carry the engine's sequence
    number at start-up, which only grows, so no run reuses an earlier run's.
    """
    engine = venue.engine
    sim = Simulation(venue.settings.sim, engine.instruments, seed, limits=venue.settings.engine_limits())
    users = {name: venue.users.ensure_bot(name).user_id for name in sim.agent_names()}
    sequencer = venue.sequencer
    sim.bind_users(users, str(engine.seq))
    opened = set(engine.user_ids())
    for command in sim.open_accounts(engine.cash_decimals):
        if command.user_id not in opened:
            sequencer.submit_now(command)
    for user_id in users.values():
        if engine.open_orders(user_id):
            sequencer.submit_now(CancelAll(user_id=user_id))

    def submit(command: Command) -> Awaitable[Result]:
        return sequencer.submit(command, command.user_id if not isinstance(command, SetSymbolStatus) else None)

    return AgentRunner(sim, venue.engine, submit, ready=lambda: sequencer.store_error is None)
