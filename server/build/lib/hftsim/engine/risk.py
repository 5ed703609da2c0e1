"""Risk limits: per-order quantity and worst-case position per symbol.

The position limit counts every resting order on the side of the new order
as if it filled, so no sequence of fills can take a user past the limit.
Checks return a human message on breach and None otherwise; the engine turns
the message into a `Rejected` event.
"""

from __future__ import annotations

from dataclasses import dataclass

from .accounts import Position
from .instruments import format_cash


@dataclass(frozen=True, slots=True)
class Limits:
    max_order_qty: int
    """Largest quantity of a single order (units)."""
    max_position: int
    """Largest absolute position per symbol, counting the user's open orders on the side that grows it."""

    def __post_init__(self) -> None:
        if self.max_order_qty <= 0 or self.max_position <= 0:
            raise ValueError(f"limits must be positive, got {self}")


def order_qty_breach(limits: Limits, qty: int) -> str | None:
    if qty > limits.max_order_qty:
        return f"qty {qty} is above the per-order maximum of {limits.max_order_qty}"
    return None


def funds_breach(sym: str, qty: int, cost: int, available: int, decimals: int) -> str:
    """Word an INSUFFICIENT_FUNDS rejection, with the amounts as the wire shows cash."""
    return (
        f"buying {qty} {sym} could cost {format_cash(cost, decimals)} but only {format_cash(available, decimals)} "
        "is available (cash less what open buy orders have committed)"
    )


def position_breach(limits: Limits, sym: str, is_buy: bool, position: Position | None, added: int) -> str | None:
    """Check the worst case after `added` more units rest (or trade) on the order's side.

    `added` is the new order's quantity, or for an amend the growth of its
    leaves; shrinking never breaches, so callers skip the check then.
    """
    if position is None:
        held = open_same = 0
    else:
        held = position.qty
        open_same = position.open_buy if is_buy else position.open_sell
    worst = held + open_same + added if is_buy else open_same + added - held
    if worst <= limits.max_position:
        return None
    verb, side = ("buying", "buy") if is_buy else ("selling", "sell")
    reach = worst if is_buy else -worst
    return (
        f"{verb} {added} {sym} could take the position to {reach} (now {held}, open {side} orders {open_same}); "
        f"the limit is {limits.max_position} either way"
    )
