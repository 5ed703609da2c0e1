"""Shared setup for the engine tests: two instruments with different tick, lot and band.

ACME: tick 0.01, lot 1, min 1, ref 100.00 (10000 ticks), band ±10% -> 9000..11000 ticks.
BOLT: tick 0.05, lot 10, min 20, ref 50.00 (1000 ticks), band ±20% -> 800..1200 ticks;
a tick is worth 5 cash units (cash has 2 decimals).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hftsim.engine import Engine, Instrument, Limits

ACME = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10))
BOLT = Instrument("BOLT", Decimal("0.05"), 10, 20, 1000, Decimal(20))
INITIAL_CASH = 100_000_000
"""1,000,000.00 in cash units."""


@pytest.fixture
def engine() -> Engine:
    return Engine([ACME, BOLT], Limits(max_order_qty=1000, max_position=2000), INITIAL_CASH)
