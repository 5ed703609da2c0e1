"""Property tests: random command sequences over several users and two symbols.

After every command a `Checker` compares the engine with what its events
said and with naive recomputations (the reference check): books never
crossed at rest and equal to the sum of open orders, FIFO within a level,
quantities and cash conserved, positions summing to zero, the worst-case
position within the limit, contiguous market-data sequences, rejections
changing nothing. At the end the same commands replayed into a fresh
engine must give identical results and state hash, and so must a pickled
snapshot taken half-way (the journal's recovery path) fed the rest.

Prices are drawn within a few ticks of the reference, mostly on the passive
side, so books have two sides and orders still cross often;
quantities include invalid ones so every rule is exercised.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hftsim.engine import (
    AccountUpdate,
    AmendOrder,
    BookDelta,
    CancelAll,
    CancelOrder,
    Code,
    Command,
    Engine,
    Event,
    Fees,
    Instrument,
    Limits,
    OrderAccepted,
    OrderAmended,
    OrderFilled,
    OrderStatus,
    OrderType,
    OrderView,
    PlaceOrder,
    Rejected,
    Result,
    SetSymbolStatus,
    Side,
    StatusChanged,
    SymbolStatus,
    Tif,
    Trade,
)
from hftsim.engine.instruments import cash_decimals, tick_value

from .conftest import BUILDS

INSTRUMENTS = (
    Instrument(
        "ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10), Fees(maker_bps=Decimal("-1.5"), taker_bps=Decimal("3.25"))
    ),
    Instrument(
        "BOLT",
        Decimal("0.05"),
        10,
        20,
        1000,
        Decimal(20),
        Fees(Decimal(0), Decimal(1), Decimal("-0.01"), Decimal("0.02")),
    ),
)
"""ACME pays makers a rebate and charges takers a share; BOLT charges per lot (a rebate for makers) and a share."""
LIMITS = Limits(max_order_qty=60, max_position=100)
INITIAL_CASH = 500_000
"""Less than the largest ACME buy (60 at up to 110.00), so buying power binds often."""
USERS = (1, 2, 3, 4)
SYMS = ("ACME", "BOLT")
REFS = {i.sym: i.ref_price for i in INSTRUMENTS}
QTYS = {"ACME": st.sampled_from([1, 2, 3, 5, 8, 13]), "BOLT": st.sampled_from([20, 30, 50])}
BAD_QTYS = st.sampled_from([0, -1, 15, 10, 70])
COIDS = st.sampled_from([None, None, None, "a", "b", "c"])
ORDER_IDS = st.integers(1, 60)
LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
TICK_VALUE = {i.sym: tick_value(i, cash_decimals(INSTRUMENTS)) for i in INSTRUMENTS}
BY_SYM = {i.sym: i for i in INSTRUMENTS}


def fee(sym: str, value: int, qty: int, *, maker: bool) -> int:
    """One fill's fee as instruments.Fees states it (share rounded toward zero, plus lots x per lot)."""
    instrument = BY_SYM[sym]
    fees = instrument.fees
    share = int(Fraction(value) * Fraction(fees.maker_bps if maker else fees.taker_bps) / 10_000)
    per_lot = (fees.maker_per_lot if maker else fees.taker_per_lot).scaleb(cash_decimals(INSTRUMENTS))
    return share + qty // instrument.lot * int(per_lot)


def commitment(sym: str, price: int, leaves: int) -> int:
    """What a resting buy commits: its value and the dearer of its two fees (a rebate counts as 0)."""
    value = price * leaves * TICK_VALUE[sym]
    return value + max(0, fee(sym, value, leaves, maker=True), fee(sym, value, leaves, maker=False))


@st.composite
def places(draw: st.DrawFn) -> PlaceOrder:
    """Mostly valid GTC limits near the touch; some market, IOC, FOK, post-only and invalid ones."""
    sym = draw(st.sampled_from(SYMS))
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    kind = draw(st.integers(0, 19))
    market = kind < 3
    offset = draw(st.integers(-4, 1))  # ticks towards the other side: mostly passive, so both sides fill up
    price = None if market else REFS[sym] + (offset if side is Side.BUY else -offset)
    qty = draw(QTYS[sym])
    tif = Tif.GTC
    post_only = False
    if kind == 3:
        tif = Tif.IOC
    elif kind == 4:
        tif = Tif.FOK
    elif kind == 5:
        post_only = True
    elif kind == 6:
        qty = draw(BAD_QTYS)
    elif kind == 7:
        price = draw(st.sampled_from([50000, 1, None]))
    elif kind == 8:
        tif, post_only = draw(st.sampled_from([Tif.IOC, Tif.FOK])), draw(st.booleans())
    return PlaceOrder(
        draw(st.sampled_from(USERS)),
        sym,
        side,
        qty,
        price,
        OrderType.MARKET if market else OrderType.LIMIT,
        tif,
        post_only,
        draw(COIDS),
    )


@dataclass(frozen=True)
class Target:
    """A cancel or amend aimed at whichever order is open when it runs.

    Random order ids would mostly miss, so the test resolves `pick` against
    the open orders at run time into a concrete command (which is what gets
    replayed). `stranger` sends it as another user; `shift` moves the price
    by ticks towards the other side (so amends cross often) and `grow` the
    total qty by lots (None: unchanged).
    """

    amend: bool
    pick: int
    by_coid: bool
    stranger: bool
    shift: int | None
    grow: int | None

    def resolve(self, open_orders: list[OrderView], engine: Engine) -> Command:
        if not open_orders:
            return CancelOrder(USERS[self.pick % len(USERS)], order_id=self.pick)
        order = open_orders[self.pick % len(open_orders)]
        user = order.user_id % len(USERS) + 1 if self.stranger else order.user_id
        by_coid = self.by_coid and order.client_order_id is not None
        order_id = None if by_coid else order.order_id
        coid = order.client_order_id if by_coid else None
        if not self.amend:
            return CancelOrder(user, order_id, coid)
        instrument = engine.instrument(order.sym)
        assert instrument is not None and order.price is not None
        price = None if self.shift is None else order.price + (self.shift if order.side is Side.BUY else -self.shift)
        qty = None if self.grow is None else order.qty + self.grow * instrument.lot
        return AmendOrder(user, order_id, coid, price, qty)


@st.composite
def targets(draw: st.DrawFn) -> Target:
    amend = draw(st.booleans())
    return Target(
        amend,
        draw(st.integers(0, 50)),
        draw(st.integers(0, 3)) == 0,
        draw(st.integers(0, 7)) == 0,
        draw(st.one_of(st.none(), st.integers(-3, 8))) if amend else None,
        draw(st.one_of(st.none(), st.integers(-6, 4))) if amend else None,
    )


@st.composite
def commands(draw: st.DrawFn) -> Command | Target:
    """Weighted mix: places dominate, then cancels and amends; halts are rare."""
    kind = draw(st.integers(0, 39))
    if kind < 24:
        return draw(places())
    if kind < 36:
        return draw(targets())
    if kind < 37:
        return CancelOrder(draw(st.sampled_from(USERS)), draw(ORDER_IDS), draw(COIDS))
    if kind < 39:
        return CancelAll(draw(st.sampled_from(USERS)), draw(st.sampled_from([None, *SYMS])))
    status = draw(st.sampled_from([SymbolStatus.HALTED, SymbolStatus.TRADING, SymbolStatus.TRADING]))
    return SetSymbolStatus(draw(st.sampled_from(SYMS)), status)


def new_engine(engine_class: type[Engine]) -> Engine:
    return engine_class(INSTRUMENTS, LIMITS, INITIAL_CASH)


def observable(engine: Engine) -> tuple[object, ...]:
    """Everything a client can read, to show a rejection changed nothing."""
    return (
        [(engine.book_levels(s), engine.md_seq(s), engine.status(s), engine.last_price(s)) for s in SYMS],
        [(engine.recent_orders(u), engine.cash(u), engine.positions(u)) for u in USERS],
    )


class Checker:
    """What the events said so far, and the checks run after each command."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = 0
        self.md_seq = dict.fromkeys(SYMS, 0)
        self.stamp: dict[int, int] = {}
        """order_id -> command seq at which the order last joined the back of its level."""
        self.views: dict[int, OrderView] = {}
        self.filled: dict[int, int] = defaultdict(int)
        self.cost: dict[int, int] = defaultdict(int)
        self.traded = {s: {Side.BUY: 0, Side.SELL: 0} for s in SYMS}
        self.md_book: dict[str, dict[Side, dict[int, int]]] = {s: {Side.BUY: {}, Side.SELL: {}} for s in SYMS}
        """Each book as a market-data client rebuilds it from the deltas alone."""
        self.coids: dict[int, set[str]] = defaultdict(set)
        """Every client_order_id each user ever had accepted."""

    def apply(self, command: Command, ts: int) -> Result:
        before = observable(self.engine)
        open_before = self.all_open()
        result = self.engine.apply(command, ts)
        self.seq += 1
        assert result.seq == self.seq == self.engine.seq
        if result.rejection is not None:
            assert result.events == [result.rejection] and result.order is None
            assert observable(self.engine) == before
            self.check_rejection_is_due(command, result.rejection, open_before)
            return result
        self.check_events(command, result)
        self.check_state()
        if result.order is not None:
            assert self.engine.order(result.order.order_id) == result.order
        if isinstance(command, PlaceOrder):
            self.check_outcome(command, result)
        return result

    def check_rejection_is_due(self, command: Command, rejection: Rejected, open_before: list[OrderView]) -> None:
        """Recompute, from what was visible before, why the rules refused the command."""
        engine = self.engine
        code = rejection.code
        if not isinstance(command, (PlaceOrder, CancelOrder, AmendOrder)):
            return
        user = command.user_id
        mine = [o for o in open_before if o.user_id == user]
        if isinstance(command, PlaceOrder):
            sym, is_buy, price, added = command.sym, command.side is Side.BUY, command.price, command.qty
            if code is Code.DUPLICATE_CLIENT_ORDER_ID:
                assert command.client_order_id in self.coids[user]
        else:
            order_id, coid = command.order_id, command.client_order_id
            named = [o for o in mine if o.order_id == order_id or (order_id is None and o.client_order_id == coid)]
            if code is Code.UNKNOWN_ORDER:
                assert not named
            if not named or isinstance(command, CancelOrder):
                return
            target = named[0]
            assert target.price is not None
            sym, is_buy = target.sym, target.side is Side.BUY
            price = command.price if command.price is not None else target.price
            added = 0 if command.qty is None else command.qty - target.qty
        if code is Code.SYMBOL_HALTED:
            assert engine.status(sym) is SymbolStatus.HALTED
        elif code is Code.POST_ONLY_WOULD_CROSS:
            bid, ask = engine.best_bid_ask(sym)
            assert price is not None
            assert ask is not None and price >= ask if is_buy else bid is not None and price <= bid
        elif code is Code.INSUFFICIENT_FUNDS:
            assert is_buy
            self.check_unaffordable(command, open_before, sym, price, added)
        elif code is Code.POSITION_LIMIT:
            held = engine.position(user, sym).qty
            same = sum(o.leaves_qty for o in mine if o.sym == sym and (o.side is Side.BUY) == is_buy)
            worst = held + same + added if is_buy else same + added - held
            assert worst > LIMITS.max_position

    def check_unaffordable(
        self, command: PlaceOrder | AmendOrder, open_before: list[OrderView], sym: str, price: int | None, added: int
    ) -> None:
        """A buy refused for money cost more than the cash not committed to the user's resting buys."""
        user = command.user_id
        committed = sum(
            commitment(o.sym, o.price, o.leaves_qty)
            for o in open_before
            if o.user_id == user and o.side is Side.BUY and o.price is not None
        )
        if isinstance(command, AmendOrder):
            target = next(
                o
                for o in open_before
                if o.order_id == command.order_id
                or (command.order_id is None and o.user_id == user and o.client_order_id == command.client_order_id)
            )
            assert price is not None and target.price is not None
            new_leaves = (target.qty + added) - target.filled_qty
            cost = commitment(sym, price, new_leaves) - commitment(sym, target.price, target.leaves_qty)
        elif price is not None:
            cost = commitment(sym, price, added)
        else:
            cost = self.walk_asks(open_before, user, sym, added)
        assert cost > self.engine.cash(user) - committed

    @staticmethod
    def walk_asks(open_before: list[OrderView], user: int, sym: str, qty: int) -> int:
        """What a market buy would pay: other users' asks, best price first, oldest first."""
        asks = sorted(
            (o for o in open_before if o.sym == sym and o.side is Side.SELL and o.user_id != user),
            key=lambda o: (o.price, o.order_id),
        )
        cost = 0
        for ask in asks:
            assert ask.price is not None
            take = min(ask.leaves_qty, qty)
            value = ask.price * take * TICK_VALUE[sym]
            cost += value + fee(sym, value, take, maker=False)
            qty -= take
        return cost

    def check_outcome(self, command: PlaceOrder, result: Result) -> None:
        """What each order type and TIF promises about the order's end state."""
        order = result.order
        assert order is not None
        own_fills = [
            e for e in result.wire_events() if isinstance(e, OrderFilled) and e.order.order_id == order.order_id
        ]
        if command.tif is Tif.FOK:
            assert order.status is OrderStatus.FILLED or (order.status is OrderStatus.EXPIRED and not own_fills)
        if command.type is OrderType.MARKET or command.tif is not Tif.GTC:
            assert order.status in (OrderStatus.FILLED, OrderStatus.EXPIRED)
        else:
            assert order.status is not OrderStatus.EXPIRED
        if command.post_only:
            assert not own_fills

    def check_events(self, command: Command, result: Result) -> None:
        events = result.wire_events()
        assert not any(isinstance(e, Rejected) for e in events)
        deltas = [e for e in events if isinstance(e, BookDelta)]
        assert len({d.sym for d in deltas}) == len(deltas)
        if isinstance(command, PlaceOrder):
            assert isinstance(events[0], OrderAccepted) and events[0].order.status is OrderStatus.NEW
        for i, event in enumerate(events):
            if isinstance(event, (Trade, BookDelta, StatusChanged)):
                self.md_seq[event.sym] += 1
                assert event.seq == self.md_seq[event.sym]
            if isinstance(event, BookDelta):
                assert all(not isinstance(e, (OrderFilled, Trade)) for e in events[i:])
                assert list(event.bids) == sorted(event.bids, reverse=True) and list(event.asks) == sorted(event.asks)
                for side, changes in ((Side.BUY, event.bids), (Side.SELL, event.asks)):
                    levels = self.md_book[event.sym][side]
                    for price, total in changes:
                        assert total >= 0 and levels.get(price, 0) != total, "delta for an unchanged level"
                        if total:
                            levels[price] = total
                        else:
                            del levels[price]
            if isinstance(event, Trade):
                self.check_trade(events[i - 4 : i + 1])
            view = getattr(event, "order", None)
            if isinstance(view, OrderView):
                self.record(result.seq, view, event)
        for sym in SYMS:
            assert self.engine.md_seq(sym) == self.md_seq[sym]
            assert self.traded[sym][Side.BUY] == self.traded[sym][Side.SELL]
            bids, asks = self.md_book[sym][Side.BUY], self.md_book[sym][Side.SELL]
            assert self.engine.book_levels(sym) == (sorted(bids.items(), reverse=True), sorted(asks.items()))

    def record(self, seq: int, view: OrderView, event: Event) -> None:
        """Follow one order snapshot: queue stamp, fills, and its quantity accounting."""
        previous = self.views.get(view.order_id)
        if isinstance(event, OrderAccepted):
            self.stamp[view.order_id] = seq
            if view.client_order_id is not None:
                assert view.client_order_id not in self.coids[view.user_id], "client_order_id reused"
                self.coids[view.user_id].add(view.client_order_id)
        elif isinstance(event, OrderAmended):
            assert previous is not None and previous.price is not None
            if view.price != previous.price or view.qty > previous.qty:
                self.stamp[view.order_id] = seq
        if isinstance(event, OrderFilled):
            fill = event.fill
            assert fill.order_id == view.order_id and fill.user_id == view.user_id == event.user_id
            self.filled[view.order_id] += fill.qty
            self.cost[view.order_id] += fill.price * fill.qty
            self.traded[view.sym][view.side] += fill.qty
        assert view.filled_qty == self.filled[view.order_id] and view.filled_cost == self.cost[view.order_id]
        if view.status is OrderStatus.NEW:
            assert view.filled_qty == 0
        elif view.status is OrderStatus.PARTIALLY_FILLED:
            assert 0 < view.filled_qty < view.qty
        elif view.status is OrderStatus.FILLED:
            assert view.filled_qty == view.qty
        else:
            assert view.filled_qty < view.qty and view.leaves_qty == 0
        self.views[view.order_id] = view

    def check_trade(self, window: list[Event]) -> None:
        """A fill pair, both account updates and the trade agree; the maker was first in its queue."""
        maker, taker, maker_update, taker_update, trade = window
        assert isinstance(maker, OrderFilled) and isinstance(taker, OrderFilled) and isinstance(trade, Trade)
        assert isinstance(maker_update, AccountUpdate) and maker_update.user_id == maker.user_id
        assert isinstance(taker_update, AccountUpdate) and taker_update.user_id == taker.user_id
        assert maker.fill.is_maker and not taker.fill.is_maker
        assert maker.user_id != taker.user_id
        assert maker.fill.trade_id == taker.fill.trade_id == trade.trade_id
        assert maker.fill.qty == taker.fill.qty == trade.qty > 0
        assert maker.fill.price == taker.fill.price == trade.price == maker.order.price
        assert maker.order.side is not taker.order.side and trade.aggressor is taker.order.side
        if taker.order.price is not None:
            assert trade.price <= taker.order.price if trade.aggressor is Side.BUY else trade.price >= taker.order.price
        buyer, seller = (taker, maker) if trade.aggressor is Side.BUY else (maker, taker)
        assert (trade.buyer_id, trade.seller_id) == (buyer.user_id, seller.user_id)
        # FIFO: no order older in the maker's queue may still be resting there.
        maker_stamp = self.stamp[maker.order.order_id]
        for order in self.all_open():
            if order.sym == maker.order.sym and order.side is maker.order.side and order.price == trade.price:
                assert self.stamp[order.order_id] >= maker_stamp

    def all_open(self) -> list[OrderView]:
        return [o for u in USERS for o in self.engine.open_orders(u)]

    def check_state(self) -> None:
        engine = self.engine
        open_orders = self.all_open()
        for sym in SYMS:
            bids, asks = engine.book_levels(sym)
            if bids and asks:
                assert bids[0][0] < asks[0][0], "book crossed at rest"
            naive: dict[Side, dict[int, int]] = {Side.BUY: defaultdict(int), Side.SELL: defaultdict(int)}
            for order in open_orders:
                if order.sym == sym:
                    assert order.price is not None
                    naive[order.side][order.price] += order.leaves_qty
            assert bids == sorted(naive[Side.BUY].items(), reverse=True)
            assert asks == sorted(naive[Side.SELL].items())
            assert engine.best_bid_ask(sym) == (bids[0][0] if bids else None, asks[0][0] if asks else None)
            assert sum(engine.position(u, sym).qty for u in USERS) == 0
        assert sum(engine.cash(u) + engine.fees(u) for u in USERS) == len(USERS) * INITIAL_CASH
        for order in open_orders:
            assert order.status in LIVE and order.leaves_qty == order.qty - order.filled_qty > 0
            assert order.type is OrderType.LIMIT and order.tif is Tif.GTC
            assert self.views[order.order_id] == order
        for user in USERS:
            views = [engine.position(user, s) for s in SYMS]
            assert (
                engine.cash(user) + sum(v.cost for v in views) - sum(v.realized_pnl for v in views) + engine.fees(user)
                == INITIAL_CASH
            )
            for view in views:
                mine = [o for o in open_orders if o.user_id == user and o.sym == view.sym]
                open_buy = sum(o.leaves_qty for o in mine if o.side is Side.BUY)
                open_sell = sum(o.leaves_qty for o in mine if o.side is Side.SELL)
                assert view.qty + open_buy <= LIMITS.max_position and open_sell - view.qty <= LIMITS.max_position
                assert (view.qty == 0) == (view.cost == 0)
            coids = [o.client_order_id for o in open_orders if o.user_id == user and o.client_order_id]
            assert len(coids) == len(set(coids))
            committed = sum(
                commitment(o.sym, o.price, o.leaves_qty)
                for o in open_orders
                if o.user_id == user and o.side is Side.BUY and o.price is not None
            )
            assert engine.cash(user) >= committed >= 0, "buys spent or committed more cash than the user had"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.parametrize("engine_class", list(BUILDS.values()), ids=list(BUILDS))
@given(st.lists(commands(), min_size=20, max_size=150))
def test_random_sequences_keep_invariants_and_replay_identically(
    engine_class: type[Engine], steps: list[Command | Target]
) -> None:
    checker = Checker(new_engine(engine_class))
    applied: list[Command] = []
    results = []
    middle = len(steps) // 2
    snapshot = b""
    for i, drawn in enumerate(steps):
        if i == middle:
            snapshot = pickle.dumps(checker.engine, protocol=pickle.HIGHEST_PROTOCOL)
        command = drawn.resolve(checker.all_open(), checker.engine) if isinstance(drawn, Target) else drawn
        applied.append(command)
        results.append(checker.apply(command, 1000 + i))
    replay = new_engine(engine_class)
    assert [replay.apply(command, 1000 + i) for i, command in enumerate(applied)] == results
    assert replay.state_hash() == checker.engine.state_hash()
    # Recovery as the journal does it: snapshot, then replay the commands after it.
    restored = pickle.loads(snapshot)
    assert [restored.apply(applied[i], 1000 + i) for i in range(middle, len(applied))] == results[middle:]
    assert restored.state_hash() == checker.engine.state_hash()
