"""Run the simulated participants out of process, as market-client users (work in progress)."""

from __future__ import annotations

from .config import SimSettings


async def run_remote(url: str, settings: SimSettings, seed: int = 1) -> None:
    raise NotImplementedError("out-of-process agents are not implemented yet")
