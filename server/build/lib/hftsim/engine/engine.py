"""The engine: one deterministic state machine fed one command at a time.

`apply(command, ts)` validates, changes state and returns every event in
order; nothing else changes state. There is no clock, randomness or I/O in
here: `ts` comes with the command, so the same commands give the same
events and the same `state_hash()`, which is what journaling, replay and
recovery rely on.

A rejection is an ordinary result (`Rejected` event + `Result.rejection`)
that changes nothing but the command sequence number; exceptions are kept
for programming errors (a non-command passed to `apply`, an unknown symbol
passed to a query).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from .accounts import COID_MEMORY, Account
from .book import Book
from .commands import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from .errors import Code
from .events import (
    CancelReason,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderStatus,
    OrderView,
    PositionView,
    Rejected,
    Result,
    StatusChanged,
)
from .instruments import Instrument, cash_decimals, tick_value
from .matching import can_fill_completely, crosses, market_buy_cost, match
from .orders import Order, Registry
from .risk import Limits, funds_breach, order_qty_breach, position_breach
from .validation import STATUSES, amend_fields_error, band_error, place_kind, qty_rule

RULES = 2
"""Version of the engine's rules and state; 2 added buying power and remembered client order ids.

A snapshot records the version it was made under: one made under other rules
lacks state these rules need (cash committed to open buys, used client order
ids), so it cannot be resumed.
"""

RECENT_ORDERS = 500
"""Finished orders remembered per user for `recent_orders` and `order`."""

# Enum members bound once: `OrderStatus.CANCELED` is a descriptor lookup on the
# enum class, several times dearer than reading a module global.
_HALTED = SymbolStatus.HALTED
_CANCELED = OrderStatus.CANCELED
_EXPIRED = OrderStatus.EXPIRED
_USER = CancelReason.USER
_CANCEL_ALL = CancelReason.CANCEL_ALL
_BUY = Side.BUY
_GTC = Tif.GTC
_FOK = Tif.FOK
_LIMIT = OrderType.LIMIT


def _user(value: object) -> int | None:
    return value if type(value) is int else None


class Engine:
    """Books, orders and accounts for a fixed set of instruments."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        limits: Limits,
        initial_cash: int,
        *,
        recent_orders: int = RECENT_ORDERS,
    ) -> None:
        syms = [i.sym for i in instruments]
        if len(set(syms)) != len(syms):
            raise ValueError(f"duplicate symbols in {syms}")
        if recent_orders < 1:
            raise ValueError(f"recent_orders must be at least 1, got {recent_orders}")
        self._instruments = tuple(instruments)
        self.cash_decimals = cash_decimals(self._instruments)
        self._books = {i.sym: Book(i, tick_value(i, self.cash_decimals)) for i in self._instruments}
        self._limits = limits
        self._initial_cash = initial_cash
        self._recent_orders = recent_orders
        self._accounts: dict[int, Account] = {}
        self._registry = Registry(recent_orders)
        self.seq = 0
        self.rules = RULES

    # Commands ---------------------------------------------------------------

    def apply(self, command: Command, ts: int) -> Result:
        """Apply one command; every command, accepted or rejected, takes the next `seq`."""
        handler = _HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"not an engine command: {command!r}")
        self.seq += 1
        return handler(self, command, ts)

    def _reject(
        self,
        code: Code,
        message: str,
        user_id: object,
        sym: object = None,
        client_order_id: object = None,
        is_place: bool = False,
    ) -> Result:
        rejection = Rejected(
            _user(user_id),
            code,
            message,
            sym if isinstance(sym, str) else None,
            client_order_id if isinstance(client_order_id, str) else None,
            is_place,
        )
        return Result(self.seq, [rejection], rejection=rejection)

    def _unknown_symbol(self, sym: object) -> str:
        return f"unknown symbol {sym!r}; known symbols: {', '.join(self._books)}"

    def _place(self, cmd: PlaceOrder, ts: int) -> Result:
        """Validate, then trade, rest or expire a new order.

        The checks run in the documented order of precedence (the first
        broken rule names the rejection). The instrument and risk rules are
        tested inline with plain comparisons, and their functions are called
        only to word a rejection: a new order is the most common command.
        """
        sym = cmd.sym
        book = self._books.get(sym) if isinstance(sym, str) else None
        coid = cmd.client_order_id
        user_id = cmd.user_id
        if book is None:
            return self._reject(Code.UNKNOWN_SYMBOL, self._unknown_symbol(sym), user_id, sym, coid, True)
        if book.status is _HALTED:
            return self._reject(
                Code.SYMBOL_HALTED,
                f"{sym} is halted: new orders are refused until it resumes",
                user_id,
                sym,
                coid,
                True,
            )
        kind = place_kind(cmd)
        if isinstance(kind, str):
            return self._reject(Code.INVALID_FIELD, kind, user_id, sym, coid, True)
        side, order_type, tif = kind
        qty = cmd.qty
        price = cmd.price
        instrument = book.instrument
        if qty % instrument.lot or qty < instrument.min_qty:
            broken = qty_rule(book, qty)
            assert broken is not None
            return self._reject(broken[0], broken[1], user_id, sym, coid, True)
        if price is not None and not book.band_low <= price <= book.band_high:
            error = band_error(book, price)
            assert error is not None
            return self._reject(Code.PRICE_OUT_OF_BAND, error, user_id, sym, coid, True)
        limits = self._limits
        if qty > limits.max_order_qty:
            error = order_qty_breach(limits, qty)
            assert error is not None
            return self._reject(Code.QTY_ABOVE_MAX, error, user_id, sym, coid, True)
        is_buy = side is _BUY
        account = self._accounts.get(user_id)
        position = account.positions.get(sym) if account is not None else None
        # The worst case of risk.position_breach, which words the rejection.
        if position is None:
            worst = qty
        elif is_buy:
            worst = position.qty + position.open_buy + qty
        else:
            worst = position.open_sell + qty - position.qty
        if worst > limits.max_position:
            error = position_breach(limits, sym, is_buy, position, qty)
            assert error is not None
            return self._reject(Code.POSITION_LIMIT, error, user_id, sym, coid, True)
        if is_buy:
            cost = price * qty * book.tick_value if price is not None else market_buy_cost(book, user_id, qty)
            available = account.available() if account is not None else self._initial_cash
            if cost > available:
                message = funds_breach(sym, qty, cost, available, self.cash_decimals)
                return self._reject(Code.INSUFFICIENT_FUNDS, message, user_id, sym, coid, True)
        if coid is not None and account is not None and (coid in account.by_coid or coid in account.coids):
            return self._reject(
                Code.DUPLICATE_CLIENT_ORDER_ID, self._coid_message(account, coid), user_id, sym, coid, True
            )
        opposite = book.asks if is_buy else book.bids
        keys = opposite.keys
        crossing = bool(keys) and (price is None or keys[-1] >= opposite.sign * price)
        if crossing and cmd.post_only:
            return self._reject(
                Code.POST_ONLY_WOULD_CROSS, self._cross_message(book, is_buy, price), user_id, sym, coid, True
            )

        if account is None:
            account = self._accounts[user_id] = Account(user_id, self._initial_cash, self._recent_orders)
        if position is None:
            position = account.position(sym)
        registry = self._registry
        registry.last_order_id = order_id = registry.last_order_id + 1
        order = Order(order_id, coid, sym, side, order_type, price, qty, tif, cmd.post_only, ts, account, position)
        registry.add(order)
        view = order.view()
        events: list[Event] = [OrderAccepted(user_id, view)]
        if crossing and (tif is not _FOK or can_fill_completely(book, order)):
            view = match(order, book, registry, events, ts, view)
            view = self._settle(order, book, events, ts, view)
            delta = book.take_delta()
            if delta is not None:
                events.append(delta)
        elif tif is _GTC and order_type is _LIMIT:
            events.append(book.add_alone(order))
            if is_buy:
                position.open_buy += qty
                account.reserved += cost
            else:
                position.open_sell += qty
        else:
            view = self._expire(order, events, ts)
        return Result(self.seq, events, view, None, [])  # all fields given: skips the default factories

    def _coid_message(self, account: Account, coid: str) -> str:
        live = account.by_coid.get(coid)
        if live is not None:
            return f"client_order_id {coid!r} is already used by live order {live.order_id}"
        return (
            f"client_order_id {coid!r} was already used by order {account.coids[coid]}, now finished; "
            f"a client_order_id names one order (among the user's last {COID_MEMORY:,} orders)"
        )

    def _cross_message(self, book: Book, is_buy: bool, price: int | None) -> str:
        opposite = book.asks.best() if is_buy else book.bids.best()
        assert price is not None and opposite is not None
        to_price = book.instrument.to_price
        return (
            f"post-only {'buy' if is_buy else 'sell'} at {to_price(price)} would trade against the best "
            f"{'ask' if is_buy else 'bid'} {to_price(opposite)}; post-only orders must rest"
        )

    def _settle(self, order: Order, book: Book, events: list[Event], ts: int, view: OrderView) -> OrderView:
        """After matching: finish a filled order, rest a GTC limit remainder, expire any other.

        `view` is the order's latest snapshot; returns its snapshot after settling.
        """
        leaves = order.qty - order.filled
        if not leaves:
            self._registry.finish(order)
        elif order.tif is _GTC and order.type is _LIMIT:
            if order.is_buy:
                book.bids.add(order)
                order.position.open_buy += leaves
                order.account.reserved += _resting_value(order, leaves, book)
            else:
                book.asks.add(order)
                order.position.open_sell += leaves
        else:
            view = self._expire(order, events, ts)
        return view

    def _expire(self, order: Order, events: list[Event], ts: int) -> OrderView:
        """Finish an order whose remainder may not rest (IOC, FOK, market); return its final snapshot."""
        order.status = _EXPIRED
        order.updated_ts = ts
        self._registry.finish(order)
        view = order.view()
        events.append(OrderExpired(order.user_id, view))
        return view

    def _find(self, user_id: object, order_id: object, client_order_id: object) -> Order | tuple[Code, str]:
        """The caller's live order named by id (preferred) or client_order_id, or why not.

        Another user's order answers exactly like a missing one, so order ids
        reveal nothing about other users' orders.
        """
        if type(user_id) is not int:
            return Code.INVALID_FIELD, f"user_id must be an integer, got {user_id!r}"
        if order_id is not None:
            if type(order_id) is not int:
                return Code.INVALID_FIELD, f"order_id must be an integer, got {order_id!r}"
            order = self._registry.live.get(order_id)
            if order is None or order.user_id != user_id:
                return (
                    Code.UNKNOWN_ORDER,
                    f"order {order_id} is not live: unknown, or already filled, canceled or expired",
                )
            return order
        if client_order_id is not None:
            if not isinstance(client_order_id, str):
                return Code.INVALID_FIELD, f"client_order_id must be a string, got {client_order_id!r}"
            account = self._accounts.get(user_id)
            found = account.by_coid.get(client_order_id) if account is not None else None
            if found is None:
                return Code.UNKNOWN_ORDER, f"no live order with client_order_id {client_order_id!r}"
            return found
        return Code.INVALID_FIELD, "name the order with order_id or client_order_id"

    def _remove_resting(self, order: Order, book: Book, ts: int) -> OrderView:
        """Cancel a resting order: off the book, out of the open quantity, into the finished orders."""
        leaves = order.qty - order.filled
        if order.is_buy:
            book.bids.remove(order, leaves)
            order.position.open_buy -= leaves
            order.account.reserved -= _resting_value(order, leaves, book)
        else:
            book.asks.remove(order, leaves)
            order.position.open_sell -= leaves
        order.status = _CANCELED
        order.updated_ts = ts
        self._registry.finish(order)
        return order.view()

    def _cancel(self, cmd: CancelOrder, ts: int) -> Result:
        """Cancel one live order; the common "own order by id" case skips `_find` and the `touched` record."""
        user_id = cmd.user_id
        order_id = cmd.order_id
        order = self._registry.live.get(order_id) if type(order_id) is int else None
        if order is None or type(user_id) is not int or order.user_id != user_id:
            found = self._find(user_id, order_id, cmd.client_order_id)
            if not isinstance(found, Order):
                return self._reject(found[0], found[1], user_id, None, cmd.client_order_id)
            order = found
        leaves = order.qty - order.filled
        book = self._books[order.sym]
        if order.is_buy:
            order.position.open_buy -= leaves
            order.account.reserved -= _resting_value(order, leaves, book)
        else:
            order.position.open_sell -= leaves
        delta = book.remove_alone(order, leaves)
        order.status = _CANCELED
        order.updated_ts = ts
        self._registry.finish(order)
        view = order.view()
        return Result(self.seq, [OrderCanceled(order.user_id, view, _USER), delta], view, None, [])

    def _cancel_all(self, cmd: CancelAll, ts: int) -> Result:
        user_id = cmd.user_id
        sym = cmd.sym
        if type(user_id) is not int:
            return self._reject(Code.INVALID_FIELD, f"user_id must be an integer, got {user_id!r}", None, sym)
        if sym is not None and (not isinstance(sym, str) or sym not in self._books):
            return self._reject(Code.UNKNOWN_SYMBOL, self._unknown_symbol(sym), user_id, sym)
        result = Result(self.seq)
        account = self._accounts.get(user_id)
        if account is None:
            return result
        targets = [o for o in account.orders.values() if sym is None or o.sym == sym]
        events = result.events
        for order in targets:
            view = self._remove_resting(order, self._books[order.sym], ts)
            events.append(OrderCanceled(user_id, view, _CANCEL_ALL))
            result.canceled.append(order.order_id)
        if targets:
            for book in [self._books[sym]] if sym is not None else self._books.values():
                delta = book.take_delta()
                if delta is not None:
                    events.append(delta)
        return result

    def _amend(self, cmd: AmendOrder, ts: int) -> Result:
        found = self._find(cmd.user_id, cmd.order_id, cmd.client_order_id)
        if not isinstance(found, Order):
            return self._reject(found[0], found[1], cmd.user_id, None, cmd.client_order_id)
        order = found
        user_id = order.user_id
        sym = order.sym
        coid = order.client_order_id
        book = self._books[sym]
        if book.status is _HALTED:
            return self._reject(
                Code.SYMBOL_HALTED, f"{sym} is halted: amends are refused until it resumes", user_id, sym, coid
            )
        error = amend_fields_error(cmd, order.filled)
        if error is not None:
            return self._reject(Code.INVALID_FIELD, error, user_id, sym, coid)
        assert order.price is not None
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        broken = qty_rule(book, qty)
        if broken is not None:
            return self._reject(broken[0], broken[1], user_id, sym, coid)
        error = band_error(book, price)
        if error is not None:
            return self._reject(Code.PRICE_OUT_OF_BAND, error, user_id, sym, coid)
        error = order_qty_breach(self._limits, qty)
        if error is not None:
            return self._reject(Code.QTY_ABOVE_MAX, error, user_id, sym, coid)
        is_buy = order.is_buy
        growth = qty - order.qty
        if growth > 0:
            error = position_breach(self._limits, sym, is_buy, order.position, growth)
            if error is not None:
                return self._reject(Code.POSITION_LIMIT, error, user_id, sym, coid)
        if is_buy:
            leaves = order.qty - order.filled
            added = price * (qty - order.filled) * book.tick_value - _resting_value(order, leaves, book)
            available = order.account.available()
            if added > available:
                message = funds_breach(sym, qty - order.filled, added, available, self.cash_decimals)
                return self._reject(Code.INSUFFICIENT_FUNDS, message, user_id, sym, coid)
        new_price = price != order.price
        will_cross = new_price and crosses(book, is_buy, price)
        if will_cross and order.post_only:
            return self._reject(
                Code.POST_ONLY_WOULD_CROSS, self._cross_message(book, is_buy, price), user_id, sym, coid
            )

        events: list[Event] = []
        if not new_price and growth <= 0:
            if growth:
                book.side(is_buy).shrink(order, -growth)
                if is_buy:
                    order.position.open_buy += growth
                    order.account.reserved += _resting_value(order, growth, book)
                else:
                    order.position.open_sell += growth
            order.qty = qty
            order.updated_ts = ts
            view = order.view()
            events.append(OrderAmended(user_id, view))
        else:
            leaves = order.qty - order.filled
            book.side(is_buy).remove(order, leaves)
            if is_buy:
                order.position.open_buy -= leaves
                order.account.reserved -= _resting_value(order, leaves, book)
            else:
                order.position.open_sell -= leaves
            order.price = price
            order.qty = qty
            order.updated_ts = ts
            view = order.view()
            events.append(OrderAmended(user_id, view))
            if will_cross:
                view = match(order, book, self._registry, events, ts, view)
            view = self._settle(order, book, events, ts, view)
        delta = book.take_delta()
        if delta is not None:
            events.append(delta)
        return Result(self.seq, events, view, None, [])

    def _set_status(self, cmd: SetSymbolStatus, ts: int) -> Result:
        sym = cmd.sym
        book = self._books.get(sym) if isinstance(sym, str) else None
        if book is None:
            return self._reject(Code.UNKNOWN_SYMBOL, self._unknown_symbol(sym), None, sym)
        status = STATUSES.get(cmd.status) if isinstance(cmd.status, str) else None
        if status is None:
            return self._reject(
                Code.INVALID_FIELD, f"status must be one of {', '.join(STATUSES)}, got {cmd.status!r}", None, sym
            )
        book.status = status
        book.md_seq += 1
        return Result(self.seq, [StatusChanged(sym, book.md_seq, status)])

    def _open_account(self, cmd: OpenAccount, ts: int) -> Result:
        """Create the account with the given cash; an existing account is left as it is."""
        user_id = cmd.user_id
        if type(user_id) is not int:
            return self._reject(Code.INVALID_FIELD, f"user_id must be an integer, got {user_id!r}", None)
        if type(cmd.cash) is not int or cmd.cash < 0:
            return self._reject(Code.INVALID_FIELD, f"cash must be a non-negative integer, got {cmd.cash!r}", user_id)
        if user_id not in self._accounts:
            self._accounts[user_id] = Account(user_id, cmd.cash, self._recent_orders)
        return Result(self.seq)

    # Queries ----------------------------------------------------------------

    def _book(self, sym: str) -> Book:
        book = self._books.get(sym)
        if book is None:
            raise KeyError(self._unknown_symbol(sym))
        return book

    def instrument(self, sym: str) -> Instrument | None:
        book = self._books.get(sym)
        return book.instrument if book is not None else None

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def initial_cash(self) -> int:
        return self._initial_cash

    def status(self, sym: str) -> SymbolStatus:
        return self._book(sym).status

    def md_seq(self, sym: str) -> int:
        return self._book(sym).md_seq

    def book_levels(self, sym: str, depth: int | None = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        book = self._book(sym)
        return book.bids.depth(depth), book.asks.depth(depth)

    def best_bid_ask(self, sym: str) -> tuple[int | None, int | None]:
        book = self._book(sym)
        return book.bids.best(), book.asks.best()

    def last_price(self, sym: str) -> int | None:
        return self._book(sym).last_price

    def order(self, order_id: int) -> OrderView | None:
        """A live order, or a finished one still among its owner's recent orders."""
        order = self._registry.get(order_id)
        return order.view() if order is not None else None

    def open_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        account = self._accounts.get(user_id)
        if account is None:
            return []
        return [o.view() for o in account.orders.values() if sym is None or o.sym == sym]

    def recent_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        """Open orders plus the user's most recent finished ones (bounded), oldest first."""
        account = self._accounts.get(user_id)
        if account is None:
            return []
        orders = sorted([*account.finished, *account.orders.values()], key=lambda o: o.order_id)
        return [o.view() for o in orders if sym is None or o.sym == sym]

    def user_ids(self) -> list[int]:
        """Users with an account (opened by `OpenAccount` or a first accepted order), ascending."""
        return sorted(self._accounts)

    def cash(self, user_id: int) -> int:
        account = self._accounts.get(user_id)
        return account.cash if account is not None else self._initial_cash

    def opening_cash(self, user_id: int) -> int:
        """The cash the user's account opened with (`OpenAccount` may give more than the initial cash)."""
        account = self._accounts.get(user_id)
        return account.opening_cash if account is not None else self._initial_cash

    def position(self, user_id: int, sym: str) -> PositionView:
        account = self._accounts.get(user_id)
        position = account.positions.get(sym) if account is not None else None
        return position.view() if position is not None else PositionView(user_id, sym, 0, 0, 0)

    def positions(self, user_id: int) -> list[PositionView]:
        """Positions that are open or have realized PnL, in instrument order."""
        account = self._accounts.get(user_id)
        if account is None:
            return []
        views = []
        for sym in self._books:
            position = account.positions.get(sym)
            if position is not None and (position.qty or position.realized):
                views.append(position.view())
        return views

    def carry_on_from(self, previous: Engine) -> None:
        """Continue `previous`'s numbering in this engine, which replaces it (a restored snapshot, a new round).

        The command seq and the order, fill and trade ids never go back, so
        the journal and the read models stay in order; each symbol's
        market-data seq moves one past `previous`'s, so every client sees a
        gap and resyncs its books from a snapshot.
        """
        self.seq = max(self.seq, previous.seq)
        mine, theirs = self._registry, previous._registry
        mine.last_order_id = max(mine.last_order_id, theirs.last_order_id)
        mine.last_fill_id = max(mine.last_fill_id, theirs.last_fill_id)
        mine.last_trade_id = max(mine.last_trade_id, theirs.last_trade_id)
        for sym, book in self._books.items():
            book.md_seq = max(book.md_seq, previous.md_seq(sym)) + 1

    def state_hash(self) -> str:
        """SHA-256 of everything that is state: sequences, ids, books in queue order, orders, accounts.

        Two engines with equal hashes answer every query the same way and
        react to every future command the same way.
        """
        registry = self._registry
        books = [
            (
                book.sym,
                str(book.status),
                book.md_seq,
                book.last_price,
                [(p, [o.order_id for o in book.bids.levels[p].orders()]) for p, _ in book.bids.depth(None)],
                [(p, [o.order_id for o in book.asks.levels[p].orders()]) for p, _ in book.asks.depth(None)],
            )
            for book in self._books.values()
        ]
        orders = [o.key() for _, o in sorted({**registry.live, **registry.finished}.items())]
        accounts = [
            (
                account.user_id,
                account.cash,
                account.opening_cash,
                account.reserved,
                sorted(account.coids.items()),
                [
                    (p.sym, p.qty, p.cost, p.realized, p.open_buy, p.open_sell)
                    for _, p in sorted(account.positions.items())
                ],
                [o.order_id for o in account.finished],
            )
            for _, account in sorted(self._accounts.items())
        ]
        state = (
            self.seq,
            registry.last_order_id,
            registry.last_fill_id,
            registry.last_trade_id,
            books,
            orders,
            accounts,
        )
        return hashlib.sha256(repr(state).encode()).hexdigest()


def _resting_value(order: Order, qty: int, book: Book) -> int:
    """Cash that `qty` units of a resting limit order commit (what `Account.reserved` counts)."""
    assert order.price is not None
    return order.price * qty * book.tick_value


_HANDLERS: dict[type, Callable[[Engine, Any, int], Result]] = {
    PlaceOrder: Engine._place,
    CancelOrder: Engine._cancel,
    CancelAll: Engine._cancel_all,
    AmendOrder: Engine._amend,
    SetSymbolStatus: Engine._set_status,
    OpenAccount: Engine._open_account,
}
"""Dispatch by command type; module-level so an engine pickles (journal snapshots) as plain data."""
