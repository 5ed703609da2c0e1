"""A user's order limits that span orders: open orders, resting volume, notional per order.

The engine checks what one order can do to a position and to cash; these
limits bound how much a user keeps on the books, and are checked here,
when the command is handed to the sequencer, against the market as the
engine has it then: orders of the user already queued but not yet applied
are not counted, so a burst may pass a limit by at most the user's queued
commands (`traffic.queued_per_user`). A refusal counts as a breach in the
running round.
"""

from __future__ import annotations

from ..config import LimitSettings
from ..engine import AmendOrder, CancelAll, CancelOrder, Engine, PlaceOrder
from ..engine.instruments import tick_value
from ..protocol.errors import ErrorCode, ProtocolError


class OrderLimits:
    def __init__(self, settings: LimitSettings, engine: Engine) -> None:
        self.max_open_orders = settings.max_open_orders
        self.max_active_volume = settings.max_active_volume
        self._max_order_qty = settings.max_order_qty
        self._max_notional = int(settings.max_order_notional.scaleb(engine.cash_decimals))
        self._notional_text = str(settings.max_order_notional)
        self._engine = engine
        self._terms = {i.sym: (i.ref_price, tick_value(i, engine.cash_decimals)) for i in engine.instruments}
        """Per symbol: reference price (ticks) and cash per tick per unit, for the notional."""

    def check(self, command: PlaceOrder | AmendOrder | CancelOrder | CancelAll) -> None:
        """Refuse (ProtocolError) a place or amend that would break a limit; other commands pass."""
        if isinstance(command, (PlaceOrder, AmendOrder)):
            self._check(command)

    def _check(self, command: PlaceOrder | AmendOrder) -> None:
        engine, user_id = self._engine, command.user_id
        if isinstance(command, PlaceOrder):
            sym, qty, price, added_orders = command.sym, command.qty, command.price, 1
        else:
            order = engine.order(command.order_id) if command.order_id is not None else None
            if order is None or order.user_id != user_id:
                return  # the engine answers UNKNOWN_ORDER (client order ids resolve there too)
            sym, price, added_orders = order.sym, command.price or order.price, 0
            qty = max(0, (command.qty or order.qty) - order.qty)
        if qty > self._max_order_qty:
            return  # the engine refuses it whole (QTY_ABOVE_MAX), its own limit first
        open_orders, resting = engine.resting(user_id)
        if added_orders and open_orders + 1 > self.max_open_orders:
            raise ProtocolError(
                ErrorCode.OPEN_ORDERS_LIMIT, f"at most {self.max_open_orders} open orders; cancel some first"
            )
        if qty and resting + qty > self.max_active_volume:
            raise ProtocolError(
                ErrorCode.ACTIVE_VOLUME_LIMIT,
                f"at most {self.max_active_volume} units resting at once; {resting} are, this adds {qty}",
            )
        terms = self._terms.get(sym)
        if terms is not None and isinstance(command, PlaceOrder):
            ref_price, cash_per_tick = terms
            if (price if price is not None else ref_price) * qty * cash_per_tick > self._max_notional:
                raise ProtocolError(
                    ErrorCode.NOTIONAL_LIMIT, f"one order may be worth at most {self._notional_text} in cash"
                )
