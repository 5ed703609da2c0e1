"""In-process simulated participants: accounts for each agent, then a runner on the sequencer."""

from __future__ import annotations

from ..sim import AgentRunner, Simulation
from .venue import Venue


def start_agents(venue: Venue, seed: int) -> AgentRunner:
    """Build the agents with their own user accounts; the caller starts the runner in the event loop."""
    sim = Simulation(venue.settings.sim, venue.engine.instruments, seed, limits=venue.settings.engine_limits())
    sim.bind_users({name: venue.users.ensure_bot(name).user_id for name in sim.agent_names()})
    return AgentRunner(sim, venue.engine, venue.sequencer.submit)
