"""Shared setup for the engine tests: both builds of the core, two instruments with different tick, lot and band.

Every test that takes `engine` (or `engine_class`) runs twice: against the
running core (compiled when built) and against its plain-Python twin.

ACME: tick 0.01, lot 1, min 1, ref 100.00 (10000 ticks), band ±10% -> 9000..11000 ticks.
BOLT: tick 0.05, lot 10, min 20, ref 50.00 (1000 ticks), band ±20% -> 800..1200 ticks;
a tick is worth 5 cash units (cash has 2 decimals).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hftsim.engine import Engine, Instrument, Limits, build

ACME = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10))
BOLT = Instrument("BOLT", Decimal("0.05"), 10, 20, 1000, Decimal(20))
INITIAL_CASH = 100_000_000
"""1,000,000.00 in cash units."""

BUILDS: dict[str, type[Engine]] = {"compiled": Engine, "pure": build.pure().Engine}
"""The running core (compiled when built; test_engine_builds checks it is) and its plain-Python twin."""


@pytest.fixture(params=list(BUILDS))
def engine_class(request: pytest.FixtureRequest) -> type[Engine]:
    return BUILDS[request.param]


@pytest.fixture
def engine(engine_class: type[Engine]) -> Engine:
    return engine_class([ACME, BOLT], Limits(max_order_qty=1000, max_position=2000), INITIAL_CASH)
