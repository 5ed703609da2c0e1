"""Risk limits of every account: per-order quantity and worst-case position per symbol.

Configuration only; the checks that apply them are the pre-trade stage
(`core/checks.py`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_order_qty: int
    """Largest quantity of a single order (units)."""
    max_position: int
    """Largest absolute position per symbol, counting the user's open orders on the side that grows it."""

    def __post_init__(self) -> None:
        if self.max_order_qty <= 0 or self.max_position <= 0:
            raise ValueError(f"limits must be positive, got {self}")
