"""A user's order limits that span orders: open orders, resting volume, notional per order.

The engine checks what one order can do to a position and to cash; these
limits bound how much a user keeps on the books. They are checked here, as
a command is handed to the sequencer, against the market as the engine has
it plus what the user has handed over and the engine has not yet applied:
each place or amend that passes reserves its order and its quantity until
its outcome is known (applied or refused), so a burst of pipelined orders
never passes a limit, however many wait in the queues. A reservation is
given back in the pass that applies its command, so the engine's count and
the reservation never add up twice. A refusal counts as a breach in the
running round.
"""

from __future__ import annotations

from ..config import LimitSettings
from ..engine import AmendOrder, CancelAll, CancelOrder, PlaceOrder, Result
from ..engine.instruments import tick_value
from ..engine.queries import MarketQueries
from ..protocol.errors import ErrorCode, ProtocolError
from .sequencer import Waiter


class InFlight:
    """What a user's commands not yet applied may add to the books.

    A plain class, not a dataclass: compiled, a dataclass's `__init__` is still the one the dataclasses module
    writes in Python (about 1.1k instructions), and a lone order makes one each time, as its user has none left
    in flight from the order before.
    """

    __slots__ = ("orders", "volume")

    def __init__(self) -> None:
        self.orders = 0
        self.volume = 0


NOTHING = InFlight()
"""No commands on their way: what `in_flight` gives for a user without any, with no allocation per order."""

Reservation = tuple[int, int]
"""What one command holds until its outcome is known: orders and volume (a tuple: one is made per order)."""


class OrderLimits:
    def __init__(self, settings: LimitSettings, engine: MarketQueries) -> None:
        self.max_open_orders = settings.max_open_orders
        self.max_active_volume = settings.max_active_volume
        self._max_order_qty = settings.max_order_qty
        self._max_notional = int(settings.max_order_notional.scaleb(engine.cash_decimals))
        self._notional_text = str(settings.max_order_notional)
        self._engine = engine
        self._terms = {i.sym: (i.ref_price, tick_value(i, engine.cash_decimals)) for i in engine.instruments}
        """Per symbol: reference price (ticks) and cash per tick per unit, for the notional."""
        self._in_flight: dict[int, InFlight] = {}

    def admit(self, command: PlaceOrder | AmendOrder | CancelOrder | CancelAll) -> Reservation | None:
        """Refuse (ProtocolError) a place or amend that would break a limit; else reserve what it adds.

        Returns the reservation, for `release` once the command is applied or refused (None: nothing reserved).
        """
        if not isinstance(command, (PlaceOrder, AmendOrder)):
            return None
        added = self._check(command)
        if added is None or added == (0, 0):
            return None
        held = self._in_flight.get(command.user_id)
        if held is None:
            held = self._in_flight[command.user_id] = InFlight()
        held.orders += added[0]
        held.volume += added[1]
        return added

    def release(self, user_id: int, reserved: Reservation) -> None:
        """Give back what `admit` reserved for one of `user_id`'s commands."""
        held = self._in_flight[user_id]
        held.orders -= reserved[0]
        held.volume -= reserved[1]
        if not held.orders and not held.volume:
            del self._in_flight[user_id]

    def in_flight(self, user_id: int) -> InFlight:
        """What `user_id`'s commands on their way add (not to be changed: it may be the shared NOTHING)."""
        return self._in_flight.get(user_id, NOTHING)

    def _check(self, command: PlaceOrder | AmendOrder) -> Reservation | None:
        engine, user_id = self._engine, command.user_id
        if isinstance(command, PlaceOrder):
            sym, qty, price, added_orders = command.sym, command.qty, command.price, 1
        else:
            order = engine.order(command.order_id) if command.order_id is not None else None
            if order is None or order.user_id != user_id:
                return None  # the engine answers UNKNOWN_ORDER (client order ids resolve there too)
            sym, price, added_orders = order.sym, command.price or order.price, 0
            qty = max(0, (command.qty or order.qty) - order.qty)
        if qty > self._max_order_qty:
            return None  # the engine refuses it whole (QTY_ABOVE_MAX), its own limit first
        open_orders, resting = engine.resting(user_id)
        pending = self.in_flight(user_id)
        open_orders += pending.orders
        resting += pending.volume
        if added_orders and open_orders + 1 > self.max_open_orders:
            raise ProtocolError(
                ErrorCode.OPEN_ORDERS_LIMIT,
                f"at most {self.max_open_orders} open orders, counting those still on their way; cancel some first",
            )
        if qty and resting + qty > self.max_active_volume:
            raise ProtocolError(
                ErrorCode.ACTIVE_VOLUME_LIMIT,
                f"at most {self.max_active_volume} units resting at once; {resting} are or are on their way, "
                f"this adds {qty}",
            )
        terms = self._terms.get(sym)
        if terms is not None and isinstance(command, PlaceOrder):
            ref_price, cash_per_tick = terms
            if (price if price is not None else ref_price) * qty * cash_per_tick > self._max_notional:
                raise ProtocolError(
                    ErrorCode.NOTIONAL_LIMIT, f"one order may be worth at most {self._notional_text} in cash"
                )
        return added_orders, qty


class Releasing(Waiter):
    """A waiter that gives back its command's reservation as soon as the outcome is known, then tells `waiter`."""

    __slots__ = ("_limits", "_reserved", "_user_id", "_waiter")

    def __init__(self, waiter: Waiter, limits: OrderLimits, user_id: int, reserved: Reservation) -> None:
        super().__init__(waiter.origin)
        self._waiter = waiter
        self._limits = limits
        self._user_id = user_id
        self._reserved = reserved

    def resolved(self, result: Result) -> None:
        self._limits.release(self._user_id, self._reserved)
        self._waiter.resolved(result)

    def refused(self, error: ProtocolError) -> None:
        self._limits.release(self._user_id, self._reserved)
        self._waiter.refused(error)
