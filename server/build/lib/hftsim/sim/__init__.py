"""Simulated market participants: a seeded fair value per symbol and agents trading it.

`Simulation` is the pure core (commands out, results in, no clock, no I/O);
`AgentRunner` drives it in-process on an asyncio loop; `hftsim.sim.remote`
runs the same agents as market-client users against a remote server.
"""

from .config import AgentCounts, SimSettings, SymbolSimSettings
from .market import MarketView
from .runner import AgentRunner
from .simulation import Simulation

__all__ = ["AgentCounts", "AgentRunner", "MarketView", "SimSettings", "Simulation", "SymbolSimSettings"]
