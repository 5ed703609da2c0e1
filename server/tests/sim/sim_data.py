"""Instruments and limits of the shipped default configuration, for the simulation tests."""

from __future__ import annotations

from decimal import Decimal

from hftsim.engine import Instrument, Limits

# The shipped default_config.toml symbols (band 10 %), and its limits.
ACME = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10))
BOLT = Instrument("BOLT", Decimal("0.05"), 1, 1, 850, Decimal(10))
CRUX = Instrument("CRUX", Decimal("0.25"), 1, 1, 18000, Decimal(10))
DUNE = Instrument("DUNE", Decimal("0.001"), 100, 100, 1250, Decimal(10))
EMBR = Instrument("EMBR", Decimal("0.5"), 1, 1, 60000, Decimal(10))
ALL = [ACME, BOLT, CRUX, DUNE, EMBR]
LIMITS = Limits(max_order_qty=100_000, max_position=1_000_000)
INITIAL_CASH = 100_000_000

HOUR_SEED = 7
