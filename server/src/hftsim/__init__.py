"""HFT Simulator server: engine, simulated agents, gateway and store."""

from . import compiled

compiled.select()
