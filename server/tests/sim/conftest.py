"""Shared setup for the simulation tests: an hour-long run of the default market.

The hour is simulated once per session (a few seconds of wall time on two
cores) against a real Engine in a plain loop, and several tests read it.
"""

from __future__ import annotations

import pytest
from sim_data import ACME, HOUR_SEED, INITIAL_CASH, LIMITS

from hftsim.sim import SimSettings
from hftsim.sim.stats import OfflineRun, run_offline


@pytest.fixture(scope="session")
def hour() -> OfflineRun:
    """One simulated hour of ACME at the default settings."""
    return run_offline([ACME], SimSettings(), HOUR_SEED, 3600, limits=LIMITS, initial_cash=INITIAL_CASH)
