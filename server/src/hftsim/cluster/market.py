"""The whole market as a gateway reads it: one replica engine per shard behind the queries of one engine.

The venue (dispatcher, fan-out, limits, renderer) reads the market through
`Engine`'s queries. In a cluster each shard's replica answers for its own
symbols and orders: a question about a symbol or an order id goes to the
shard that owns it, and a question about a user adds up the user's
accounts on every shard (cash, fees, resting orders) or lists them
together (orders, positions). With one shard this is that shard's engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from ..engine import (
    RULES,
    AmendOrder,
    Command,
    Engine,
    Instrument,
    Limits,
    OrderStatus,
    OrderType,
    OrderView,
    PlaceOrder,
    PositionView,
    Side,
    SymbolStatus,
)
from .layout import Layout, shard_of_id

_LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ShardedMarket:
    def __init__(self, layout: Layout, engines: list[Engine]) -> None:
        self.layout = layout
        self.engines = engines
        self.cash_decimals = engines[0].cash_decimals
        self.rules = RULES
        self._by_sym = {sym: engines[i] for i, spec in enumerate(layout.shards) for sym in spec.symbols}

    # Where a question goes ------------------------------------------------------

    def _of_sym(self, sym: str) -> Engine:
        """The owner of `sym`; for a symbol nobody lists, the first shard (which refuses it as any engine would)."""
        return self._by_sym.get(sym, self.engines[0])

    def _of_order(self, order_id: int) -> Engine | None:
        index = shard_of_id(order_id)
        return self.engines[index] if 0 <= index < len(self.engines) else None

    def _for(self, sym: str | None) -> Iterator[Engine]:
        return iter([self._of_sym(sym)] if sym is not None else self.engines)

    # The market ------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """Commands applied over all shards: it only grows, as one engine's sequence does."""
        return sum(e.seq for e in self.engines)

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self.engines[0].instruments

    @property
    def limits(self) -> Limits:
        return self.engines[0].limits

    @property
    def initial_cash(self) -> int:
        """What a new user gets over all shards (each holds its share)."""
        return sum(e.initial_cash for e in self.engines)

    def instrument(self, sym: str) -> Instrument | None:
        return self._of_sym(sym).instrument(sym)

    def status(self, sym: str) -> SymbolStatus:
        return self._of_sym(sym).status(sym)

    def md_seq(self, sym: str) -> int:
        return self._of_sym(sym).md_seq(sym)

    def book_levels(self, sym: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return self._of_sym(sym).book_levels(sym, depth)

    def best_bid_ask(self, sym: str) -> tuple[int | None, int | None]:
        return self._of_sym(sym).best_bid_ask(sym)

    def last_price(self, sym: str) -> int | None:
        return self._of_sym(sym).last_price(sym)

    def state_hash(self) -> str:
        """One hash over every shard's, in the layout's order."""
        return hashlib.sha256("".join(e.state_hash() for e in self.engines).encode()).hexdigest()

    # Orders ----------------------------------------------------------------------

    def order(self, order_id: int) -> OrderView | None:
        engine = self._of_order(order_id)
        return engine.order(order_id) if engine is not None else None

    def queue_position(self, user_id: int, order_id: int) -> int | None:
        engine = self._of_order(order_id)
        return engine.queue_position(user_id, order_id) if engine is not None else None

    def open_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        return [o for e in self._for(sym) for o in e.open_orders(user_id, sym)]

    def recent_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        """Oldest first over all shards, as one engine lists them (by creation time, then id)."""
        orders = [o for e in self._for(sym) for o in e.recent_orders(user_id, sym)]
        return sorted(orders, key=lambda o: (o.created_ts, o.order_id))

    def resting(self, user_id: int) -> tuple[int, int]:
        counts = [e.resting(user_id) for e in self.engines]
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    def shard_of_coid(self, user_id: int, client_order_id: str) -> int | None:
        """The shard where the user has an open order with this client order id."""
        found = self._open_order(user_id, None, client_order_id)
        return found[0] if found is not None else None

    def _open_order(self, user_id: int, order_id: int | None, coid: str | None) -> tuple[int, OrderView] | None:
        """The user's open order named by id (preferred, as the engine does) or client order id, and its shard."""
        if order_id is not None:
            engine = self._of_order(order_id)
            order = engine.order(order_id) if engine is not None else None
            if order is None or order.user_id != user_id or order.status not in _LIVE:
                return None
            return shard_of_id(order_id), order
        for i, engine in enumerate(self.engines):
            for order in engine.open_orders(user_id):
                if order.client_order_id == coid:
                    return i, order
        return None

    # Accounts --------------------------------------------------------------------

    def user_ids(self) -> list[int]:
        return sorted({u for e in self.engines for u in e.user_ids()})

    def cash(self, user_id: int) -> int:
        """The user's cash over every shard: the allocations plus what trading did on each (a shard the user
        has not traded on yet holds their share of the initial cash)."""
        return sum(e.cash(user_id) for e in self.engines)

    def opening_cash(self, user_id: int) -> int:
        return sum(e.opening_cash(user_id) for e in self.engines)

    def fees(self, user_id: int) -> int:
        return sum(e.fees(user_id) for e in self.engines)

    def position(self, user_id: int, sym: str) -> PositionView:
        return self._of_sym(sym).position(user_id, sym)

    def exposure(self, user_id: int, sym: str) -> tuple[int, int, int]:
        return self._of_sym(sym).exposure(user_id, sym)

    def positions(self, user_id: int) -> list[PositionView]:
        return [p for e in self.engines for p in e.positions(user_id)]

    # Transfers -------------------------------------------------------------------

    def top_up(self, command: Command) -> list[tuple[int, int, int]]:
        """(source shard, destination shard, amount): the moves of the user's free cash from other shards that
        let a buy, or an amend that grows a buy, fit on its shard, the fullest source first; none when it fits
        already, is neither, is malformed, or would not fit even with all the user's free cash (it is refused
        as one engine would refuse it).

        Read from this gateway's replicas: a move planned on a view a command old is checked again by the
        engine (a debit never takes cash that open orders need), and the order by its own shard.
        """
        need = self._buy_need(command) if len(self.engines) > 1 else None
        if need is None:
            return []
        dest, user_id, cost = need
        short = cost - self.engines[dest].available(user_id)
        free = sorted(((e.available(user_id), i) for i, e in enumerate(self.engines) if i != dest), reverse=True)
        if short <= 0 or short > sum(max(cash, 0) for cash, _ in free):
            return []
        moves = []
        for cash, index in free:
            take = min(cash, short)
            moves.append((index, dest, take))
            short -= take
            if not short:
                break
        return moves

    def _buy_need(self, command: Command) -> tuple[int, int, int] | None:
        """(shard, user, cash): what a well-formed buy, or amend of an open buy, must find available on its shard
        beyond what the order commits already (`Engine.buy_cost`, the engine's own measure); None otherwise."""
        if isinstance(command, PlaceOrder):
            dest = self.layout.owner(command.sym) if isinstance(command.sym, str) else None
            qty, price, user_id = command.qty, command.price, command.user_id
            well_formed = (
                dest is not None
                and command.side is Side.BUY
                and type(user_id) is int
                and type(qty) is int
                and qty > 0
                and (price is None if command.type is OrderType.MARKET else type(price) is int and price > 0)
            )
            if not well_formed:
                return None
            assert dest is not None and type(user_id) is int and type(qty) is int
            return dest, user_id, self.engines[dest].buy_cost(user_id, command.sym, qty, price)
        if not isinstance(command, AmendOrder) or type(command.user_id) is not int:
            return None
        order_id, coid = command.order_id, command.client_order_id
        if not (type(order_id) is int or (order_id is None and isinstance(coid, str))):
            return None
        found = self._open_order(command.user_id, order_id, coid)
        if found is None or found[1].side is not Side.BUY or found[1].price is None:
            return None
        dest, order = found
        price = order.price if command.price is None else command.price
        qty = order.qty if command.qty is None else command.qty
        if type(price) is not int or price <= 0 or type(qty) is not int or qty <= order.filled_qty:
            return None
        engine, user_id = self.engines[dest], command.user_id
        now = engine.buy_cost(user_id, order.sym, order.qty - order.filled_qty, order.price)
        return dest, user_id, engine.buy_cost(user_id, order.sym, qty - order.filled_qty, price) - now
