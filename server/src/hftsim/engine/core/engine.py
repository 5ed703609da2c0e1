"""The engine: one deterministic state machine fed one command at a time.

`apply(command, ts)` runs the command through three stages and returns
every event in order; nothing else changes state:

1. pre-trade checks (`checks.py`): every rule, in order of precedence; the
   first broken one refuses the command and nothing changes;
2. matching (`matching.py`): a marketable order trades against the book,
   each fill handed to
3. settlement (`settlement.py`): cash, positions, commitments and the fill's
   record.

There is no clock, randomness or I/O in here: `ts` comes with the command,
so the same commands give the same events and the same `state_hash()`,
which is what journaling, replay and recovery rely on. `state()` is that
state as plain values: the hash digests it, a snapshot pickles it (an
`Engine` pickles as its configuration plus `state()`), and the reference
engine (`reference.py`) builds the same tuple from its own layout.

A rejection is an ordinary result (`Rejected` event + `Result.rejection`)
that changes nothing but the command sequence number; exceptions are kept
for programming errors (a non-command passed to `apply`, an unknown symbol
passed to a query).

This package is compiled with mypyc when the build has a C compiler (see
`engine/build.py`), and runs as plain Python otherwise: the same source.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Sequence
from typing import Final

from ..commands import (
    TYPED,
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreditCash,
    DebitCash,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from ..instruments import Instrument, cash_decimals, tick_value
from ..limits import Limits
from ..status import CancelReason, OrderStatus
from .accounts import COID_MEMORY, Account, Accounts, Position
from .auction import crossed, uncross
from .book import Book
from .checks import STATUSES, Checks, Refusal, buy_cost, symbol_rule, user_rule
from .checks import cash_rule as cash_rule
from .checks import status_rule as status_rule
from .events import (
    Event,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderView,
    PositionView,
    Rejected,
    Result,
    StatusChanged,
)
from .matching import can_fill_completely, match
from .orders import Order, Registry, is_live
from .settlement import commit, move_cash, release, reserve

RULES: Final = 6
"""Version of the engine's rules and state; 2 added buying power and remembered client order ids,
3 the snapshot as `state()`, 4 fees, 5 cash transfers (the credits taken per source), 6 the credits taken
kept by the engine rather than the account, so that they outlive a new round or a restore.

A snapshot records the version it was made under: one made under other rules
lacks state these rules need, so it cannot be resumed.
"""

RECENT_ORDERS: Final = 500
"""Finished orders remembered per user for `recent_orders` and `order`."""

CANCELED: Final = OrderStatus.CANCELED
EXPIRED: Final = OrderStatus.EXPIRED
USER: Final = CancelReason.USER
CANCEL_ALL: Final = CancelReason.CANCEL_ALL
GTC: Final = Tif.GTC
FOK: Final = Tif.FOK
LIMIT: Final = OrderType.LIMIT
TRADING: Final = SymbolStatus.TRADING
AUCTION: Final = SymbolStatus.AUCTION


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
        coid_memory: int = COID_MEMORY,
    ) -> None:
        syms = [i.sym for i in instruments]
        if len(set(syms)) != len(syms):
            raise ValueError(f"duplicate symbols in {syms}")
        if recent_orders < 1 or coid_memory < 1:
            raise ValueError(f"recent_orders and coid_memory must be at least 1, got {recent_orders}, {coid_memory}")
        self._instruments = tuple(instruments)
        self.cash_decimals = cash_decimals(self._instruments)
        self._books: dict[str, Book] = {
            i.sym: Book(i, number, tick_value(i, self.cash_decimals), self.cash_decimals)
            for number, i in enumerate(self._instruments)
        }
        self._limits = limits
        self._initial_cash = initial_cash
        self._recent_orders = recent_orders
        self._accounts = Accounts()
        self._coid_memory = coid_memory
        self._registry = Registry(coid_memory)
        self._credited: dict[tuple[int, str], int] = {}
        """(user, source of transfers) -> the `ref` of the last credit taken (`CreditCash`): a copy is refused.
        Not the account's: a market that replaces this one (a new round, a restore) keeps it (`carry_on_from`),
        since a source's refs only grow and a copy may arrive after any reset."""
        self._checks = Checks(
            self._books, self._accounts, self._registry, limits, initial_cash, self.cash_decimals, coid_memory,
            self._credited,
        )  # fmt: skip
        self.seq = 0
        self.rules = RULES

    # Commands ---------------------------------------------------------------

    def apply(self, command: Command, ts: int) -> Result:
        """Apply one command; every command, accepted or rejected, takes the next `seq`.

        Each kind is tested by its class as imported: compiled with the commands, that test compares the
        command's type with the class's, where a class held in another name (a final alias) was a generic
        `isinstance` call of about 70 instructions, two for a cancel.
        """
        self.seq += 1
        if isinstance(command, PlaceOrder):
            return self._place(command, ts)
        if isinstance(command, CancelOrder):
            return self._cancel(command, ts)
        if isinstance(command, AmendOrder):
            return self._amend(command, ts)
        if isinstance(command, CancelAll):
            return self._cancel_all(command, ts)
        if isinstance(command, SetSymbolStatus):
            return self._set_status(command, ts)
        if isinstance(command, OpenAccount):
            return self._open_account(command)
        if isinstance(command, DebitCash):
            return self._debit(command)
        if isinstance(command, CreditCash):
            return self._credit(command)
        self.seq -= 1
        raise TypeError(f"not an engine command: {command!r}")

    def _reject(
        self, refusal: Refusal, user_id: object, sym: object = None, coid: object = None, is_place: bool = False
    ) -> Result:
        rejection = Rejected(_user(user_id), refusal.code, refusal.message, _text(sym), _text(coid), is_place)
        return Result(self.seq, [rejection], None, rejection)

    def _place(self, cmd: PlaceOrder, ts: int) -> Result:
        """Checks, then trade, rest or expire a new order."""
        new = self._checks.place(cmd)
        if isinstance(new, Refusal):
            return self._reject(new, cmd.user_id, cmd.sym, cmd.client_order_id, True)
        book = new.book
        account = new.account
        position = new.position
        kind = new.kind
        user_id = new.user_id
        if account is None:
            account = self._open(user_id, self._initial_cash)
        if position is None:
            position = account.position(book.number, new.sym)
        registry = self._registry
        order = registry.new_order()
        accepted = order.start(
            registry.next_order_id(), new.coid, book, kind.side, kind.type, new.price, new.qty, kind.tif,
            new.post_only, ts, account, position,
        )  # fmt: skip
        registry.add(order)
        view: OrderView = accepted
        tif = kind.tif
        if new.crossing and (tif is not FOK or can_fill_completely(book, order)):
            events: list[Event] = [accepted]
            view = match(order, book, registry, events, ts, view)
            view = self._after_match(order, book, events, ts, view)
            delta = book.take_delta()
            if delta is not None:
                events.append(delta)
        elif tif is GTC and kind.type is LIMIT:
            events = [accepted, book.add_alone(order)]  # built whole: the commonest result, without a list resize
            reserve(order, order.qty, new.cost)
        else:
            events = [accepted]
            view = self._expire(order, events, ts)
        return Result(self.seq, events, view, None)

    def _after_match(self, order: Order, book: Book, events: list[Event], ts: int, view: OrderView) -> OrderView:
        """Finish a filled order, rest a GTC limit remainder, expire any other; return its latest snapshot."""
        leaves = order.qty - order.filled
        if not leaves:
            self._registry.finish(order)
        elif order.tif is GTC and order.type is LIMIT:
            book.side(order.is_buy).add(order)
            commit(order, leaves, book)
        else:
            view = self._expire(order, events, ts)
        return view

    def _expire(self, order: Order, events: list[Event], ts: int) -> OrderView:
        """Finish an order whose remainder may not rest (IOC, FOK, market); return its final snapshot."""
        order.status = EXPIRED
        order.updated_ts = ts
        self._registry.finish(order)
        view = order.view()
        events.append(OrderExpired(order.user_id, view))
        return view

    def _cancel_resting(self, order: Order, book: Book, ts: int, reason: CancelReason) -> OrderCanceled:
        """Cancel a resting order: out of the commitments, into the finished orders (the caller unqueues it)."""
        release(order, order.qty - order.filled, 0, book)
        order.status = CANCELED
        order.updated_ts = ts
        self._registry.finish(order)
        return order.canceled(reason)

    def _cancel(self, cmd: CancelOrder, ts: int) -> Result:
        """Cancel one live order; the common "own order by id" case skips `find` and the `touched` record."""
        order_id: object = cmd.order_id
        order = self._registry.live(order_id) if type(order_id) is int else None
        if order is None or not (TYPED or type(cmd.user_id) is int) or order.user_id != cmd.user_id:
            user_id: object = cmd.user_id
            coid: object = cmd.client_order_id
            found = self._checks.find(user_id, order_id, coid)
            if isinstance(found, Refusal):
                return self._reject(found, user_id, None, coid)
            order = found
        book = order.book
        delta = book.remove_alone(order, order.qty - order.filled)
        canceled = self._cancel_resting(order, book, ts, USER)
        return Result(self.seq, [canceled, delta], canceled, None)

    def _cancel_all(self, cmd: CancelAll, ts: int) -> Result:
        user_id: object = cmd.user_id
        sym: object = cmd.sym
        refusal = self._checks.cancel_all(user_id, sym)
        if refusal is not None:
            return self._reject(refusal, user_id, sym)
        assert type(user_id) is int and (sym is None or isinstance(sym, str))
        canceled: list[int] = []
        result = Result(self.seq, [], None, None, canceled)
        account = self._accounts.get(user_id)
        if account is None:
            return result
        targets = [o for o in account.live_orders() if sym is None or o.sym == sym]
        events = result.events
        for order in targets:
            book = order.book
            book.side(order.is_buy).remove(order, order.qty - order.filled)
            events.append(self._cancel_resting(order, book, ts, CANCEL_ALL))
            canceled.append(order.order_id)
        if targets:
            for book in [self._books[sym]] if sym is not None else self._books.values():
                delta = book.take_delta()
                if delta is not None:
                    events.append(delta)
        return result

    def _amend(self, cmd: AmendOrder, ts: int) -> Result:
        user_id: object = cmd.user_id
        coid: object = cmd.client_order_id
        found = self._checks.find(user_id, cmd.order_id, coid)
        if isinstance(found, Refusal):
            return self._reject(found, user_id, None, coid)
        order = found
        book = order.book
        refusal = self._checks.amend(cmd, order, book)
        if refusal is not None:
            return self._reject(refusal, order.user_id, order.sym, order.client_order_id)
        old_price = order.price
        assert old_price is not None
        price: int = old_price if cmd.price is None else cmd.price
        qty: int = order.qty if cmd.qty is None else cmd.qty
        is_buy = order.is_buy
        side = book.side(is_buy)
        events: list[Event] = []
        if price == old_price and qty <= order.qty:
            if qty < order.qty:  # shrinks in place, keeping its queue position
                side.shrink(order, order.qty - qty)
                release(order, order.qty - order.filled, qty - order.filled, book)
            order.qty = qty
            order.updated_ts = ts
            view = order.view()
            events.append(OrderAmended(order.user_id, view))
        else:  # a new price or more quantity: to the back of the queue, and it may trade
            leaves = order.qty - order.filled
            side.remove(order, leaves)
            release(order, leaves, 0, book)
            order.price = price
            order.qty = qty
            order.updated_ts = ts
            view = order.view()
            events.append(OrderAmended(order.user_id, view))
            if price != old_price and book.status is not AUCTION and book.crosses(is_buy, price):
                view = match(order, book, self._registry, events, ts, view)
            view = self._after_match(order, book, events, ts, view)
        delta = book.take_delta()
        if delta is not None:
            events.append(delta)
        return Result(self.seq, events, view, None)

    def _set_status(self, cmd: SetSymbolStatus, ts: int) -> Result:
        sym: object = cmd.sym
        given_status: object = cmd.status
        refusal = symbol_rule(self._books, sym) or status_rule(given_status)
        if refusal is not None:
            return self._reject(refusal, None, sym)
        assert isinstance(sym, str) and isinstance(given_status, str)
        book = self._books[sym]
        status = STATUSES[given_status]
        events: list[Event] = []
        if status is TRADING and crossed(book):  # the end of a call auction
            uncross(book, self._registry, events, ts)
            delta = book.take_delta()
            if delta is not None:
                events.append(delta)
        book.status = status
        book.md_seq += 1
        events.append(StatusChanged(sym, book.md_seq, status))
        return Result(self.seq, events, None, None)

    def _open_account(self, cmd: OpenAccount) -> Result:
        """Create the account with the given cash; an existing account is left as it is."""
        user_id: object = cmd.user_id
        cash: object = cmd.cash
        refusal = user_rule(user_id)
        if refusal is not None:
            return self._reject(refusal, None)
        refusal = cash_rule(cash)
        if refusal is not None:
            return self._reject(refusal, user_id)
        assert type(user_id) is int and type(cash) is int
        if self._accounts.get(user_id) is None:
            self._open(user_id, cash)
        return Result(self.seq, [], None, None)

    def _debit(self, cmd: DebitCash) -> Result:
        """Take free cash out of the user's account (opened with the initial cash if it is new)."""
        refusal = self._checks.debit(cmd)
        if refusal is not None:
            return self._reject(refusal, cmd.user_id)
        move_cash(self._account(cmd.user_id), -cmd.amount)
        return Result(self.seq, [], None, None)

    def _credit(self, cmd: CreditCash) -> Result:
        """Add a transfer's cash to the user's account and remember it as the last taken from its source."""
        refusal = self._checks.credit(cmd)
        if refusal is not None:
            return self._reject(refusal, cmd.user_id)
        move_cash(self._account(cmd.user_id), cmd.amount)
        self._credited[cmd.user_id, cmd.source] = cmd.ref
        return Result(self.seq, [], None, None)

    def _account(self, user_id: int) -> Account:
        account = self._accounts.get(user_id)
        if account is None:
            account = self._open(user_id, self._initial_cash)
        return account

    def _open(self, user_id: int, cash: int) -> Account:
        """A new account for a user who has none, held from now on."""
        account = Account(user_id, cash, self._recent_orders, len(self._books))
        self._accounts.add(account)
        return account

    # Queries ----------------------------------------------------------------

    def _book(self, sym: str) -> Book:
        book = self._books.get(sym)
        if book is None:
            refusal = symbol_rule(self._books, sym)
            raise KeyError(refusal.message if refusal is not None else sym)
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

    def queue_position(self, user_id: int, order_id: int) -> int | None:
        """For a live order of `user_id`'s, the quantity ahead of it at its price level; None for any other id.

        What must trade (or be canceled) in front of the order before it
        fills: the leaves of the orders queued before it at its price. Fills
        and cancels ahead lower it; an amend that moves the order to the back
        of its level raises it. Another user's order answers like a missing
        one.
        """
        order = self._registry.live(order_id)
        if order is None or order.user_id != user_id or order.price is None:
            return None
        return order.book.side(order.is_buy).at(order.price).ahead_of(order)

    def open_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        account = self._accounts.get(user_id)
        if account is None:
            return []
        return [o.view() for o in account.live_orders() if sym is None or o.sym == sym]

    def resting(self, user_id: int) -> tuple[int, int]:
        """The user's open orders and their leaves quantity over every symbol, in O(symbols)."""
        account = self._accounts.get(user_id)
        if account is None:
            return 0, 0
        return account.live, sum(p.open_buy + p.open_sell for p in account.held())

    def recent_orders(self, user_id: int, sym: str | None = None) -> list[OrderView]:
        """Open orders plus the user's most recent finished ones (bounded), oldest first."""
        account = self._accounts.get(user_id)
        if account is None:
            return []
        orders = sorted([*account.finished.oldest_first(), *account.live_orders()], key=_order_id)
        return [o.view() for o in orders if sym is None or o.sym == sym]

    def user_ids(self) -> list[int]:
        """Users with an account (opened by `OpenAccount` or a first accepted order), ascending."""
        return sorted(self._accounts.by_user)

    def fees(self, user_id: int) -> int:
        """Fees the user has paid, in cash units (rebates count negative); `cash` is already net of them."""
        account = self._accounts.get(user_id)
        return account.fees if account is not None else 0

    def buy_cost(self, user_id: int, sym: str, qty: int, price: int | None) -> int:
        """What a new buy of `qty` (`price` None: at market) must find available now to be accepted."""
        return buy_cost(self._book(sym), user_id, qty, price)

    def available(self, user_id: int) -> int:
        """Cash not committed to open buy orders: what a new buy may spend, and a transfer may move out."""
        account = self._accounts.get(user_id)
        return account.available() if account is not None else self._initial_cash

    def credited(self, user_id: int, source: str) -> int:
        """The `ref` of the last transfer from `source` credited to the user (0 for none)."""
        return self._credited.get((user_id, source), 0)

    def cash(self, user_id: int) -> int:
        account = self._accounts.get(user_id)
        return account.cash if account is not None else self._initial_cash

    def opening_cash(self, user_id: int) -> int:
        """The cash the user's account opened with (`OpenAccount` may give more than the initial cash)."""
        account = self._accounts.get(user_id)
        return account.opening_cash if account is not None else self._initial_cash

    def position(self, user_id: int, sym: str) -> PositionView:
        position = self._position(user_id, sym)
        return position.view() if position is not None else PositionView(user_id, sym, 0, 0, 0)

    def exposure(self, user_id: int, sym: str) -> tuple[int, int, int]:
        """The user's position in `sym` and the leaves of its resting buy and sell orders there: what the
        position limit counts, read from the running totals instead of a view per open order."""
        position = self._position(user_id, sym)
        if position is None:
            return 0, 0, 0
        return position.qty, position.open_buy, position.open_sell

    def _position(self, user_id: int, sym: str) -> Position | None:
        """The user's position in `sym`, None before its first order there (or for a symbol not traded here)."""
        account = self._accounts.get(user_id)
        book = self._books.get(sym)
        return account.positions[book.number] if account is not None and book is not None else None

    def positions(self, user_id: int) -> list[PositionView]:
        """Positions that are open or have realized PnL, in instrument order."""
        account = self._accounts.get(user_id)
        if account is None:
            return []
        return [position.view() for position in account.held() if position.qty or position.realized]

    def carry_on_from(self, previous: Engine) -> None:
        """Continue `previous`'s numbering in this engine, which replaces it (a restored snapshot, a new round).

        The command seq and the order, fill and trade ids never go back, so
        the journal and the read models stay in order; each symbol's
        market-data seq moves one past `previous`'s, so every client sees a
        gap and resyncs its books from a snapshot. The credits taken stay
        taken: a copy of one that reaches this market is refused as before.
        """
        self.seq = max(self.seq, previous.seq)
        mine, theirs = self._registry, previous._registry
        mine.last_order_id = max(mine.last_order_id, theirs.last_order_id)
        mine.last_fill_id = max(mine.last_fill_id, theirs.last_fill_id)
        mine.last_trade_id = max(mine.last_trade_id, theirs.last_trade_id)
        for sym, book in self._books.items():
            book.md_seq = max(book.md_seq, previous.md_seq(sym)) + 1
        for key, ref in previous._credited.items():
            if ref > self._credited.get(key, 0):
                self._credited[key] = ref

    def adopt(self, source: Engine) -> None:
        """Hold `source`'s market from now on (books, orders, accounts, numbering), so whoever refers to this
        engine sees it: how a restored snapshot or a new round replaces the running market in place."""
        self._instruments = source._instruments
        self.cash_decimals = source.cash_decimals
        self._books = source._books
        self._limits = source._limits
        self._initial_cash = source._initial_cash
        self._recent_orders = source._recent_orders
        self._coid_memory = source._coid_memory
        self._accounts = source._accounts
        self._registry = source._registry
        self._credited = source._credited
        self._checks = source._checks
        self.seq = source.seq
        self.rules = source.rules

    # State --------------------------------------------------------------------

    def state(self) -> tuple[object, ...]:
        """Everything that is state, as plain values in a fixed order (see `reference.py` for its shape).

        Sequences and id counters; per book its status, md sequence, last
        price and the queues in priority order; every remembered order by
        id; per account its cash, commitments, remembered client order ids
        (oldest first: the oldest is forgotten first), positions, finished
        orders; and per user and source of transfers the last credit taken. Two engines with equal
        states answer every query the same way and react to every future
        command the same way.
        """
        registry = self._registry
        books = [
            (
                book.sym,
                book.status.value,
                book.md_seq,
                book.last_price,
                [(p, [o.order_id for o in level.orders()]) for p, level in book.bids.levels(None)],
                [(p, [o.order_id for o in level.orders()]) for p, level in book.asks.levels(None)],
            )
            for book in self._books.values()
        ]
        orders = [o.key() for o in registry.all()]
        accounts = [
            (
                account.user_id,
                account.cash,
                account.opening_cash,
                account.reserved,
                account.fees,
                list(account.coids.items()),
                sorted([(p.sym, p.qty, p.cost, p.realized, p.open_buy, p.open_sell) for p in account.held()]),
                [o.order_id for o in account.finished.oldest_first()],
            )
            for _, account in sorted(self._accounts.by_user.items())
        ]
        return (
            self.seq,
            registry.last_order_id,
            registry.last_fill_id,
            registry.last_trade_id,
            books,
            orders,
            accounts,
            sorted(self._credited.items()),
        )

    def state_hash(self) -> str:
        """SHA-256 of `state()`."""
        return hashlib.sha256(repr(self.state()).encode()).hexdigest()

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle as configuration plus `state()`: plain values, whichever build made the snapshot."""
        config = (
            self._instruments, self._limits, self._initial_cash, self._recent_orders, self._coid_memory, self.rules
        )  # fmt: skip
        return restore, (config, self.state())

    def load(self, state: tuple[object, ...]) -> None:
        """Take over `state` (from `state()` of an engine with the same configuration)."""
        seq, last_order, last_fill, last_trade, books, orders, accounts, credited = state
        assert isinstance(seq, int) and isinstance(last_order, int)
        assert isinstance(last_fill, int) and isinstance(last_trade, int)
        assert isinstance(books, list) and isinstance(orders, list) and isinstance(accounts, list)
        assert isinstance(credited, list)
        for (credited_user, source), ref in credited:
            self._credited[credited_user, source] = ref
        self.seq = seq
        registry = self._registry
        registry.last_order_id = last_order
        registry.last_fill_id = last_fill
        registry.last_trade_id = last_trade
        for entry in accounts:
            user_id, cash, opening_cash, reserved, fees, coids, positions, _ = entry
            account = self._open(user_id, opening_cash)
            account.cash = cash
            account.reserved = reserved
            account.fees = fees
            account.coids = dict(coids)
            account.coid_order = deque(account.coids)
            for sym, qty, cost, realized, open_buy, open_sell in positions:
                position = account.position(self._books[sym].number, sym)
                position.qty, position.cost, position.realized = qty, cost, realized
                position.open_buy, position.open_sell = open_buy, open_sell
        by_id: dict[int, Order] = {}
        for key in orders:
            order = _order_from_key(key, self._accounts.by_user, self._books)
            by_id[order.order_id] = order
            registry.index(order)
        for entry in accounts:
            account = self._accounts.by_user[entry[0]]
            for order_id in entry[7]:
                account.finished.push(by_id[order_id])
        for order in by_id.values():
            if is_live(order):
                order.account.link(order)
                if order.client_order_id is not None:
                    order.account.by_coid[order.client_order_id] = order
        for sym, status, md_seq, last_price, bids, asks in books:
            book = self._books[sym]
            book.status = STATUSES[status]
            book.md_seq = md_seq
            assert last_price is None or isinstance(last_price, int)
            book.last = last_price if last_price is not None else 0
            for side, levels in ((book.bids, bids), (book.asks, asks)):
                for _, queue in reversed(levels):
                    for order_id in queue:
                        side.add(by_id[order_id])
                side.touched.clear()


def _order_id(order: Order) -> int:
    return order.order_id


def _order_from_key(key: tuple[object, ...], accounts: dict[int, Account], books: dict[str, Book]) -> Order:
    (order_id, coid, user_id, sym, side, order_type, price, qty, filled, filled_cost, tif, post_only, status,
     created_ts, updated_ts) = key  # fmt: skip
    assert isinstance(order_id, int) and isinstance(user_id, int) and isinstance(sym, str)
    assert isinstance(qty, int) and isinstance(filled, int) and isinstance(filled_cost, int)
    assert isinstance(created_ts, int) and isinstance(updated_ts, int) and isinstance(post_only, bool)
    assert isinstance(side, str) and isinstance(order_type, str) and isinstance(tif, str)
    assert isinstance(status, str) and (coid is None or isinstance(coid, str))
    assert price is None or isinstance(price, int)
    account = accounts[user_id]
    book = books[sym]
    order = Order()
    order.start(
        order_id, coid, book, Side(side), OrderType(order_type), price, qty, Tif(tif), post_only, created_ts,
        account, account.position(book.number, sym),
    )  # fmt: skip
    order.filled = filled
    order.filled_cost = filled_cost
    order.status = OrderStatus(status)
    order.updated_ts = updated_ts
    return order


def restore(config: tuple[object, ...], state: tuple[object, ...]) -> Engine:
    """An engine built from `config` holding `state`: how a pickled engine comes back."""
    instruments, limits, initial_cash, recent_orders, coid_memory, rules = config
    assert isinstance(instruments, tuple) and isinstance(limits, Limits) and isinstance(initial_cash, int)
    assert isinstance(recent_orders, int) and isinstance(coid_memory, int) and isinstance(rules, int)
    engine = Engine(instruments, limits, initial_cash, recent_orders=recent_orders, coid_memory=coid_memory)
    engine.rules = rules
    if rules == RULES:
        engine.load(state)
    return engine
