"""The reference engine: the simplest layout that could be right, to test the fast core against.

exchange-core keeps a naive order book beside its fast one and runs both
through the same tests; this is that idea for the whole engine. A book is a
plain list of resting orders: the best one is found by `min` over the list,
level totals are sums, and a book delta is the difference of two level
snapshots. Accounts are plain attributes; fills are booked the
straightforward way. It is slow (every command scans the book) and meant to
be read.

It shares with the core only what is specification rather than mechanism:
the commands, events and instruments, and the pre-trade rules with their
wording (`core/checks.py`: each rule is written once). Everything the core
optimises — the price ladder, the intrusive queues, the touched-level
record, the in-place bookkeeping — is done here again, naively. The
differential test (tests/engine/test_engine_differential.py) runs generated
command streams through both and requires identical events and an identical
`state()`.

Only `apply`, `state` and `state_hash` exist: the queries live in the core.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .commands import (
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
from .core.accounts import COID_MEMORY
from .core.checks import (
    Refusal,
    amend_fields_rule,
    auction_rule,
    band_rule,
    cash_rule,
    coid_rule,
    credit_rule,
    debit_rule,
    funds_rule,
    kind_rule,
    order_qty_rule,
    order_ref_rule,
    place_fields_rule,
    place_types_rule,
    position_rule,
    post_only_rule,
    qty_rule,
    status_rule,
    symbol_rule,
    trading_rule,
    transfer_fields_rule,
    unknown_order,
    user_rule,
)
from .core.engine import RECENT_ORDERS
from .core.events import (
    BookDelta,
    Event,
    Fill,
    OrderAmended,
    OrderExpired,
    OrderView,
    Rejected,
    Result,
    StatusChanged,
    order_accepted,
    order_canceled,
)
from .instruments import Instrument, cash_decimals, tick_value
from .limits import Limits
from .status import CancelReason, OrderStatus

Levels = dict[tuple[bool, int], int]
"""(is_bid, price) -> total resting quantity."""


@dataclass
class RefOrder:
    order_id: int
    coid: str | None
    user_id: int
    sym: str
    side: Side
    type: OrderType
    price: int | None
    qty: int
    tif: Tif
    post_only: bool
    created_ts: int
    updated_ts: int
    filled: int = 0
    filled_cost: int = 0
    status: OrderStatus = OrderStatus.NEW
    queued: int = 0
    """When the order last joined the back of its price level: time priority."""

    @property
    def is_buy(self) -> bool:
        return self.side is Side.BUY

    @property
    def leaves(self) -> int:
        return self.qty - self.filled

    def view(self) -> OrderView:
        return OrderView(
            self.order_id, self.coid, self.user_id, self.sym, self.side, self.type, self.price, self.qty,
            self.filled, self.filled_cost, self.tif, self.post_only, self.status, self.created_ts, self.updated_ts,
        )  # fmt: skip

    def key(self) -> tuple[object, ...]:
        return (
            self.order_id, self.coid, self.user_id, self.sym, self.side.value, self.type.value, self.price, self.qty,
            self.filled, self.filled_cost, self.tif.value, self.post_only, self.status.value, self.created_ts,
            self.updated_ts,
        )  # fmt: skip


@dataclass
class RefPosition:
    qty: int = 0
    cost: int = 0
    realized: int = 0
    open_buy: int = 0
    open_sell: int = 0


@dataclass
class RefAccount:
    user_id: int
    cash: int
    opening_cash: int
    reserved: int = 0
    fees: int = 0
    coids: dict[str, int] = field(default_factory=dict)
    positions: dict[str, RefPosition] = field(default_factory=dict)
    finished: list[RefOrder] = field(default_factory=list)


@dataclass
class RefBook:
    instrument: Instrument
    tick_value: int
    status: SymbolStatus = SymbolStatus.TRADING
    md_seq: int = 0
    last_price: int | None = None
    resting: list[RefOrder] = field(default_factory=list)

    def side(self, is_bid: bool) -> list[RefOrder]:
        """Resting orders of one side, best first: price, then time."""
        orders = [o for o in self.resting if o.is_buy == is_bid]
        return sorted(orders, key=lambda o: (-o.price if is_bid else o.price, o.queued))  # type: ignore[operator]

    def levels(self) -> Levels:
        totals: Levels = {}
        for o in self.resting:
            assert o.price is not None
            totals[(o.is_buy, o.price)] = totals.get((o.is_buy, o.price), 0) + o.leaves
        return totals


def crosses(is_buy: bool, limit: int | None, price: int) -> bool:
    """Would an order on this side with this limit (None = market) trade at a resting `price`?"""
    return limit is None or (price <= limit if is_buy else price >= limit)


class ReferenceEngine:
    def __init__(
        self,
        instruments: Sequence[Instrument],
        limits: Limits,
        initial_cash: int,
        *,
        recent_orders: int = RECENT_ORDERS,
        coid_memory: int = COID_MEMORY,
    ) -> None:
        decimals = cash_decimals(tuple(instruments))
        self.decimals = decimals
        self.books = {i.sym: RefBook(i, tick_value(i, decimals)) for i in instruments}
        self.limits = limits
        self.initial_cash = initial_cash
        self.recent_orders = recent_orders
        self.coid_memory = coid_memory
        self.accounts: dict[int, RefAccount] = {}
        self.credited: dict[tuple[int, str], int] = {}
        self.orders: dict[int, RefOrder] = {}
        """Live orders and remembered finished ones, by id."""
        self.seq = 0
        self.clock = 0
        """Counts queue arrivals, for time priority."""
        self.last_order_id = 0
        self.last_fill_id = 0
        self.last_trade_id = 0

    # Commands -------------------------------------------------------------------

    def apply(self, command: Command, ts: int) -> Result:
        self.seq += 1
        if isinstance(command, PlaceOrder):
            return self.place(command, ts)
        if isinstance(command, CancelOrder):
            return self.cancel(command, ts)
        if isinstance(command, AmendOrder):
            return self.amend(command, ts)
        if isinstance(command, CancelAll):
            return self.cancel_all(command, ts)
        if isinstance(command, SetSymbolStatus):
            return self.set_status(command, ts)
        if isinstance(command, OpenAccount):
            return self.open_account(command)
        if isinstance(command, DebitCash):
            return self.debit(command)
        if isinstance(command, CreditCash):
            return self.credit(command)
        self.seq -= 1
        raise TypeError(f"not an engine command: {command!r}")

    def reject(
        self, refusal: Refusal, user: object, sym: object = None, coid: object = None, place: bool = False
    ) -> Result:
        rejection = Rejected(
            user if type(user) is int else None,
            refusal.code,
            refusal.message,
            sym if isinstance(sym, str) else None,
            coid if isinstance(coid, str) else None,
            place,
        )
        return Result(self.seq, [rejection], None, rejection)

    def place_refusal(self, cmd: PlaceOrder) -> Refusal | None:
        """The pre-trade rules of a new order, in their order of precedence."""
        refusal = symbol_rule(self.books, cmd.sym)
        if refusal is not None:
            return refusal
        book = self.books[cmd.sym]
        instrument = book.instrument
        refusal = trading_rule(cmd.sym, book.status, "new orders")
        if refusal is not None:
            return refusal
        kind = kind_rule(cmd.side, cmd.type, cmd.tif)
        if isinstance(kind, Refusal):
            return kind
        refusal = place_types_rule(cmd.user_id, cmd.qty) or place_fields_rule(
            kind, cmd.qty, cmd.price, cmd.post_only, cmd.client_order_id
        )
        if refusal is None:
            refusal = auction_rule(cmd.sym, book.status, kind, cmd.post_only)
        if refusal is None:
            refusal = qty_rule(cmd.sym, instrument.lot, instrument.min_qty, cmd.qty)
        if refusal is None and cmd.price is not None:
            refusal = band_rule(instrument, instrument.band_low, instrument.band_high, cmd.price)
        if refusal is not None:
            return refusal
        is_buy = kind.is_buy
        account = self.accounts.get(cmd.user_id)
        position = account.positions.get(cmd.sym) if account is not None else None
        held = position.qty if position is not None else 0
        open_same = (position.open_buy if is_buy else position.open_sell) if position is not None else 0
        refusal = order_qty_rule(self.limits.max_order_qty, cmd.qty) or position_rule(
            self.limits.max_position, cmd.sym, is_buy, held, open_same, cmd.qty
        )
        if refusal is None and is_buy:
            if cmd.price is not None:
                cost = self.commitment(book, cmd.price, cmd.qty)
            else:
                cost = self.market_buy_cost(book, cmd.user_id, cmd.qty)
            available = account.cash - account.reserved if account is not None else self.initial_cash
            refusal = funds_rule(cmd.sym, cmd.qty, cost, available, self.decimals)
        if refusal is None and account is not None and cmd.client_order_id is not None:
            live = [o.order_id for o in self.live_orders(account.user_id) if o.coid == cmd.client_order_id]
            used = account.coids.get(cmd.client_order_id)
            refusal = coid_rule(cmd.client_order_id, live[0] if live else None, used, self.coid_memory)
        if refusal is None and cmd.post_only:
            opposite = book.side(not is_buy)
            best = opposite[0].price if opposite else None
            refusal = post_only_rule(instrument, is_buy, cmd.price, best)
        return refusal

    def place(self, cmd: PlaceOrder, ts: int) -> Result:
        refusal = self.place_refusal(cmd)
        if refusal is not None:
            return self.reject(refusal, cmd.user_id, cmd.sym, cmd.client_order_id, True)
        kind = kind_rule(cmd.side, cmd.type, cmd.tif)
        assert not isinstance(kind, Refusal)
        side, order_type, tif = kind.side, kind.type, kind.tif
        book = self.books[cmd.sym]
        account = self.account(cmd.user_id)
        self.position(account, cmd.sym)
        self.last_order_id += 1
        order = RefOrder(
            self.last_order_id, cmd.client_order_id, cmd.user_id, cmd.sym, side, order_type, cmd.price, cmd.qty, tif,
            cmd.post_only, ts, ts,
        )  # fmt: skip
        self.orders[order.order_id] = order
        if order.coid is not None:
            account.coids[order.coid] = order.order_id
            if len(account.coids) > self.coid_memory:
                del account.coids[next(iter(account.coids))]
        before = book.levels()
        events: list[Event] = [order_accepted(order.view())]
        view = self.trade_or_rest(order, book, events, ts)
        self.publish_delta(book, before, events)
        return Result(self.seq, events, view, None)

    def trade_or_rest(self, order: RefOrder, book: RefBook, events: list[Event], ts: int) -> OrderView:
        """Match what crosses (all or nothing for FOK), then rest a GTC limit remainder or expire it."""
        opposite = book.side(not order.is_buy)
        meets = bool(opposite) and crosses(order.is_buy, order.price, opposite[0].price)  # type: ignore[arg-type]
        meets = meets and book.status is not SymbolStatus.AUCTION
        if meets and (order.tif is not Tif.FOK or self.fok_can_fill(order, book)):
            self.match(order, book, events, ts)
        if order.leaves == 0:
            self.finish(order)
        elif order.tif is Tif.GTC and order.type is OrderType.LIMIT:
            self.rest(order, book)
        else:
            order.status = OrderStatus.EXPIRED
            order.updated_ts = ts
            self.finish(order)
            events.append(OrderExpired(order.user_id, order.view()))
        return order.view()

    def fok_can_fill(self, order: RefOrder, book: RefBook) -> bool:
        makers = [m for m in book.side(not order.is_buy) if m.user_id != order.user_id]
        reachable = [m for m in makers if crosses(order.is_buy, order.price, m.price)]  # type: ignore[arg-type]
        return sum(m.leaves for m in reachable) >= order.leaves

    def market_buy_cost(self, book: RefBook, user_id: int, qty: int) -> int:
        cost = 0
        for maker in book.side(False):
            if maker.user_id != user_id and qty:
                take = min(qty, maker.leaves)
                assert maker.price is not None
                value = maker.price * take * book.tick_value
                cost += value + self.fee(book, value, take, maker=False)
                qty -= take
        return cost

    def fee(self, book: RefBook, value: int, qty: int, *, maker: bool) -> int:
        """instruments.Fees, read literally: notional x bps / 10,000 truncated toward zero, plus lots x per lot."""
        fees = book.instrument.fees
        bps = fees.maker_bps if maker else fees.taker_bps
        per_lot = fees.maker_per_lot if maker else fees.taker_per_lot
        share = int(Fraction(value) * Fraction(bps) / 10_000)
        return share + qty // book.instrument.lot * int(per_lot.scaleb(self.decimals))

    def commitment(self, book: RefBook, price: int, leaves: int) -> int:
        """What a resting buy commits: its value and the dearer of its maker or taker fee (a rebate counts 0)."""
        value = price * leaves * book.tick_value
        worst = max(0, self.fee(book, value, leaves, maker=True), self.fee(book, value, leaves, maker=False))
        return value + worst

    def match(self, taker: RefOrder, book: RefBook, events: list[Event], ts: int) -> None:
        while taker.leaves:
            opposite = book.side(not taker.is_buy)
            if not opposite or not crosses(taker.is_buy, taker.price, opposite[0].price):  # type: ignore[arg-type]
                return
            maker = opposite[0]
            assert maker.price is not None
            if maker.user_id == taker.user_id:  # self-trade prevention: the resting order goes
                self.unrest(maker, book)
                maker.status = OrderStatus.CANCELED
                maker.updated_ts = ts
                self.finish(maker)
                events.append(order_canceled(maker.view(), CancelReason.SELF_TRADE))
                continue
            self.fill(maker, taker, maker.price, min(maker.leaves, taker.leaves), book, events, ts)

    def fill(
        self, maker: RefOrder, taker: RefOrder, price: int, qty: int, book: RefBook, events: list[Event], ts: int
    ) -> None:
        maker_account, taker_account = self.accounts[maker.user_id], self.accounts[taker.user_id]
        maker_position = maker_account.positions[book.instrument.sym]
        taker_position = taker_account.positions[book.instrument.sym]
        self.resting(maker, book, maker.leaves, maker.leaves - qty)
        for order in (maker, taker):
            order.filled += qty
            order.filled_cost += price * qty
            order.updated_ts = ts
            order.status = OrderStatus.FILLED if order.leaves == 0 else OrderStatus.PARTIALLY_FILLED
        self.book_fill(maker_account, maker_position, maker.is_buy, price, qty, book.tick_value)
        self.book_fill(taker_account, taker_position, taker.is_buy, price, qty, book.tick_value)
        value = price * qty * book.tick_value
        fees = {
            maker.order_id: self.fee(book, value, qty, maker=True),
            taker.order_id: self.fee(book, value, qty, maker=False),
        }
        for order, account in ((maker, maker_account), (taker, taker_account)):
            account.cash -= fees[order.order_id]
            account.fees += fees[order.order_id]
        if maker.leaves == 0:
            book.resting.remove(maker)
            self.finish(maker)
        self.last_trade_id += 1
        self.last_fill_id += 2
        book.md_seq += 1
        book.last_price = price
        buyer, seller = (taker, maker) if taker.is_buy else (maker, taker)
        events.append(
            Fill(
                book.instrument.sym, book.md_seq, self.last_trade_id, price, qty, taker.side, ts, buyer.user_id,
                seller.user_id, self.last_fill_id,
                maker.order_id, maker.coid, maker.type, maker.price, maker.qty, maker.filled, maker.filled_cost,
                maker.tif, maker.post_only, maker.status, maker.created_ts, fees[maker.order_id],
                maker_account.cash, maker_account.fees, maker_position.qty, maker_position.cost,
                maker_position.realized,
                taker.order_id, taker.coid, taker.type, taker.price, taker.qty, taker.filled, taker.filled_cost,
                taker.tif, taker.post_only, taker.status, taker.created_ts, fees[taker.order_id],
                taker_account.cash, taker_account.fees, taker_position.qty, taker_position.cost,
                taker_position.realized,
            )
        )  # fmt: skip

    @staticmethod
    def book_fill(account: RefAccount, position: RefPosition, is_buy: bool, price: int, qty: int, tick: int) -> None:
        """Average cost: growing adds to the cost basis; shrinking releases its share and realizes the rest."""
        signed = qty if is_buy else -qty
        account.cash -= signed * price * tick
        if position.qty == 0 or (position.qty > 0) == is_buy:
            position.cost += signed * price * tick
            position.qty += signed
            return
        size = abs(position.qty)
        closing = min(size, qty)
        released = position.cost if closing == size else position.cost * closing // size
        position.realized += (closing if not is_buy else -closing) * price * tick - released
        position.cost -= released
        position.qty += signed
        if qty > closing:
            position.cost = (qty - closing) * price * tick * (1 if is_buy else -1)

    def cancel(self, cmd: CancelOrder, ts: int) -> Result:
        found = self.find(cmd.user_id, cmd.order_id, cmd.client_order_id)
        if isinstance(found, Refusal):
            return self.reject(found, cmd.user_id, None, cmd.client_order_id)
        book = self.books[found.sym]
        before = book.levels()
        canceled = order_canceled(self.cancel_resting(found, book, ts), CancelReason.USER)
        events: list[Event] = [canceled]
        self.publish_delta(book, before, events)
        return Result(self.seq, events, canceled, None)

    def cancel_all(self, cmd: CancelAll, ts: int) -> Result:
        refusal = user_rule(cmd.user_id)
        if refusal is None and cmd.sym is not None:
            refusal = symbol_rule(self.books, cmd.sym)
        if refusal is not None:
            return self.reject(refusal, cmd.user_id, cmd.sym)
        canceled: list[int] = []
        result = Result(self.seq, [], None, None, canceled)
        targets = [o for o in self.live_orders(cmd.user_id) if cmd.sym is None or o.sym == cmd.sym]
        if not targets:
            return result
        books = [self.books[cmd.sym]] if cmd.sym is not None else list(self.books.values())
        before = [book.levels() for book in books]
        for order in targets:
            view = self.cancel_resting(order, self.books[order.sym], ts)
            result.events.append(order_canceled(view, CancelReason.CANCEL_ALL))
            canceled.append(order.order_id)
        for book, levels in zip(books, before, strict=True):
            self.publish_delta(book, levels, result.events)
        return result

    def amend(self, cmd: AmendOrder, ts: int) -> Result:
        found = self.find(cmd.user_id, cmd.order_id, cmd.client_order_id)
        if isinstance(found, Refusal):
            return self.reject(found, cmd.user_id, None, cmd.client_order_id)
        order = found
        book = self.books[order.sym]
        refusal = self.amend_refusal(cmd, order, book)
        if refusal is not None:
            return self.reject(refusal, order.user_id, order.sym, order.coid)
        assert order.price is not None
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        before = book.levels()
        events: list[Event] = []
        if price == order.price and qty <= order.qty:  # shrinks in place, keeping its queue position
            self.resting(order, book, order.leaves, qty - order.filled)
            order.qty = qty
            order.updated_ts = ts
            view = order.view()
            events.append(OrderAmended(order.user_id, view))
        else:
            self.unrest(order, book)
            moved = price != order.price
            order.price, order.qty, order.updated_ts = price, qty, ts
            events.append(OrderAmended(order.user_id, order.view()))
            opposite = book.side(not order.is_buy)
            auction = book.status is SymbolStatus.AUCTION
            if moved and opposite and not auction and crosses(order.is_buy, price, opposite[0].price):  # type: ignore[arg-type]
                self.match(order, book, events, ts)
            view = order.view()
            if order.leaves == 0:
                self.finish(order)
            else:
                self.rest(order, book)
        self.publish_delta(book, before, events)
        return Result(self.seq, events, view, None)

    def amend_refusal(self, cmd: AmendOrder, order: RefOrder, book: RefBook) -> Refusal | None:
        instrument = book.instrument
        refusal = trading_rule(order.sym, book.status, "amends") or amend_fields_rule(cmd.price, cmd.qty, order.filled)
        if refusal is not None:
            return refusal
        assert order.price is not None
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        position = self.accounts[order.user_id].positions[order.sym]
        open_same = position.open_buy if order.is_buy else position.open_sell
        refusal = (
            qty_rule(order.sym, instrument.lot, instrument.min_qty, qty)
            or band_rule(instrument, instrument.band_low, instrument.band_high, price)
            or order_qty_rule(self.limits.max_order_qty, qty)
        )
        if refusal is None and qty > order.qty:
            refusal = position_rule(
                self.limits.max_position, order.sym, order.is_buy, position.qty, open_same, qty - order.qty
            )
        if refusal is None and order.is_buy:
            account = self.accounts[order.user_id]
            added = self.commitment(book, price, qty - order.filled) - self.commitment(book, order.price, order.leaves)
            refusal = funds_rule(order.sym, qty - order.filled, added, account.cash - account.reserved, self.decimals)
        if refusal is None and order.post_only and price != order.price and book.status is not SymbolStatus.AUCTION:
            opposite = book.side(not order.is_buy)
            refusal = post_only_rule(instrument, order.is_buy, price, opposite[0].price if opposite else None)
        return refusal

    def set_status(self, cmd: SetSymbolStatus, ts: int) -> Result:
        refusal = symbol_rule(self.books, cmd.sym) or status_rule(cmd.status)
        if refusal is not None:
            return self.reject(refusal, None, cmd.sym)
        book = self.books[cmd.sym]
        events: list[Event] = []
        if cmd.status == SymbolStatus.TRADING:
            before = book.levels()
            self.uncross(book, events, ts)
            self.publish_delta(book, before, events)
        book.status = SymbolStatus(cmd.status)
        book.md_seq += 1
        events.append(StatusChanged(cmd.sym, book.md_seq, book.status))
        return Result(self.seq, events, None, None)

    def uncross(self, book: RefBook, events: list[Event], ts: int) -> None:
        """core/auction.py's rules, read literally: one price, then pairs in priority order at that price."""
        while self.is_crossed(book):
            price = self.uncross_price(book)
            while True:
                bids, asks = book.side(True), book.side(False)
                if not bids or not asks or bids[0].price < price or asks[0].price > price:  # type: ignore[operator]
                    break
                earlier, later = sorted((bids[0], asks[0]), key=lambda o: o.order_id)
                if earlier.user_id == later.user_id:
                    self.cancel_resting(earlier, book, ts)
                    events.append(order_canceled(earlier.view(), CancelReason.SELF_TRADE))
                    continue
                qty = min(earlier.leaves, later.leaves)
                self.resting(later, book, later.leaves, later.leaves - qty)
                self.fill(earlier, later, price, qty, book, events, ts)
                if later.leaves == 0:
                    book.resting.remove(later)
                    self.finish(later)

    @staticmethod
    def is_crossed(book: RefBook) -> bool:
        bids, asks = book.side(True), book.side(False)
        return bool(bids) and bool(asks) and bids[0].price >= asks[0].price  # type: ignore[operator]

    @staticmethod
    def uncross_price(book: RefBook) -> int:
        reference = book.last_price if book.last_price is not None else book.instrument.ref_price

        def rank(price: int) -> tuple[int, int, int, int]:
            demand = sum(o.leaves for o in book.resting if o.is_buy and (o.price or 0) >= price)
            supply = sum(o.leaves for o in book.resting if not o.is_buy and (o.price or 0) <= price)
            return (min(demand, supply), -abs(demand - supply), -abs(price - reference), -price)

        return max({o.price for o in book.resting if o.price is not None}, key=rank)

    def open_account(self, cmd: OpenAccount) -> Result:
        refusal = user_rule(cmd.user_id)
        if refusal is not None:
            return self.reject(refusal, None)
        refusal = cash_rule(cmd.cash)
        if refusal is not None:
            return self.reject(refusal, cmd.user_id)
        if cmd.user_id not in self.accounts:
            self.accounts[cmd.user_id] = RefAccount(cmd.user_id, cmd.cash, cmd.cash)
        return Result(self.seq, [], None, None)

    def debit(self, cmd: DebitCash) -> Result:
        refusal = user_rule(cmd.user_id) or transfer_fields_rule(cmd.amount, "to", cmd.to)
        if refusal is None:
            account = self.accounts.get(cmd.user_id)
            available = account.cash - account.reserved if account is not None else self.initial_cash
            refusal = debit_rule(cmd.amount, available, self.decimals)
        if refusal is not None:
            return self.reject(refusal, cmd.user_id)
        account = self.account(cmd.user_id)
        account.cash -= cmd.amount
        account.opening_cash -= cmd.amount
        return Result(self.seq, [], None, None)

    def credit(self, cmd: CreditCash) -> Result:
        refusal = user_rule(cmd.user_id) or transfer_fields_rule(cmd.amount, "source", cmd.source)
        if refusal is None:
            refusal = credit_rule(cmd.source, cmd.ref, self.credited.get((cmd.user_id, cmd.source), 0))
        if refusal is not None:
            return self.reject(refusal, cmd.user_id)
        account = self.account(cmd.user_id)
        account.cash += cmd.amount
        account.opening_cash += cmd.amount
        self.credited[cmd.user_id, cmd.source] = cmd.ref
        return Result(self.seq, [], None, None)

    # Helpers --------------------------------------------------------------------

    def account(self, user_id: int) -> RefAccount:
        if user_id not in self.accounts:
            self.accounts[user_id] = RefAccount(user_id, self.initial_cash, self.initial_cash)
        return self.accounts[user_id]

    @staticmethod
    def position(account: RefAccount, sym: str) -> RefPosition:
        return account.positions.setdefault(sym, RefPosition())

    def live_orders(self, user_id: object) -> list[RefOrder]:
        """The user's live orders, oldest first."""
        finished = {o.order_id for a in self.accounts.values() for o in a.finished}
        return [o for _, o in sorted(self.orders.items()) if o.user_id == user_id and o.order_id not in finished]

    def find(self, user_id: object, order_id: object, coid: object) -> RefOrder | Refusal:
        refusal = order_ref_rule(user_id, order_id, coid)
        if refusal is not None:
            return refusal
        live = self.live_orders(user_id)
        if order_id is not None:
            matches = [o for o in live if o.order_id == order_id]
            return matches[0] if matches else unknown_order(order_id, None)  # type: ignore[arg-type]
        matches = [o for o in live if o.coid == coid]
        return matches[0] if matches else unknown_order(None, coid)  # type: ignore[arg-type]

    def resting(self, order: RefOrder, book: RefBook, before: int, after: int) -> None:
        """The order's resting quantity goes from `before` to `after`: so do its side's open quantity and a buy's
        committed cash."""
        position = self.accounts[order.user_id].positions[order.sym]
        if order.is_buy:
            assert order.price is not None
            position.open_buy += after - before
            account = self.accounts[order.user_id]
            account.reserved += self.commitment(book, order.price, after) - self.commitment(book, order.price, before)
        else:
            position.open_sell += after - before

    def rest(self, order: RefOrder, book: RefBook) -> None:
        self.clock += 1
        order.queued = self.clock
        book.resting.append(order)
        self.resting(order, book, 0, order.leaves)

    def unrest(self, order: RefOrder, book: RefBook) -> None:
        book.resting.remove(order)
        self.resting(order, book, order.leaves, 0)

    def cancel_resting(self, order: RefOrder, book: RefBook, ts: int) -> OrderView:
        self.unrest(order, book)
        order.status = OrderStatus.CANCELED
        order.updated_ts = ts
        self.finish(order)
        return order.view()

    def finish(self, order: RefOrder) -> None:
        """Remember the finished order among its owner's most recent ones; forget the oldest beyond that."""
        finished = self.accounts[order.user_id].finished
        finished.append(order)
        if len(finished) > self.recent_orders:
            del self.orders[finished.pop(0).order_id]

    def publish_delta(self, book: RefBook, before: Levels, events: list[Event]) -> None:
        after = book.levels()
        keys = before.keys() | after.keys()
        changed = {key: after.get(key, 0) for key in keys if after.get(key, 0) != before.get(key, 0)}
        if not changed:
            return
        bids = tuple(sorted(((p, q) for (is_bid, p), q in changed.items() if is_bid), reverse=True))
        asks = tuple(sorted((p, q) for (is_bid, p), q in changed.items() if not is_bid))
        book.md_seq += 1
        events.append(BookDelta(book.instrument.sym, book.md_seq, bids, asks))

    # State ----------------------------------------------------------------------

    def state(self) -> tuple[object, ...]:
        """The same plain values as `Engine.state()`, built from this layout."""
        books = []
        for sym, book in self.books.items():
            sides = []
            for is_bid in (True, False):
                queues: dict[int, list[int]] = {}
                for order in book.side(is_bid):
                    assert order.price is not None
                    queues.setdefault(order.price, []).append(order.order_id)
                sides.append(list(queues.items()))
            books.append((sym, book.status.value, book.md_seq, book.last_price, sides[0], sides[1]))
        orders = [o.key() for _, o in sorted(self.orders.items())]
        accounts = [
            (
                a.user_id, a.cash, a.opening_cash, a.reserved, a.fees, list(a.coids.items()),
                [(s, p.qty, p.cost, p.realized, p.open_buy, p.open_sell) for s, p in sorted(a.positions.items())],
                [o.order_id for o in a.finished],
            )
            for _, a in sorted(self.accounts.items())
        ]  # fmt: skip
        return (
            self.seq, self.last_order_id, self.last_fill_id, self.last_trade_id, books, orders, accounts,
            sorted(self.credited.items()),
        )  # fmt: skip

    def state_hash(self) -> str:
        return hashlib.sha256(repr(self.state()).encode()).hexdigest()
