"""HFT Simulator server: engine, simulated agents, gateway and store."""
