"""Placing orders: resting, price-time priority, order types, TIFs, post-only, self-trade prevention."""

from __future__ import annotations

import pickle

from hftsim.engine import (
    AccountUpdate,
    BookDelta,
    CancelOrder,
    CancelReason,
    Code,
    Engine,
    Fill,
    FillView,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    OrderType,
    OrderView,
    PlaceOrder,
    PositionView,
    Result,
    Side,
    Tif,
    Trade,
)


def run(engine: Engine, command: PlaceOrder) -> Result:
    return engine.apply(command, 1000 + engine.seq)


def buy(
    engine: Engine,
    user: int,
    qty: int,
    price: int | None,
    *,
    sym: str = "ACME",
    order_type: OrderType = OrderType.LIMIT,
    tif: Tif = Tif.GTC,
    post_only: bool = False,
    coid: str | None = None,
) -> Result:
    return run(engine, PlaceOrder(user, sym, Side.BUY, qty, price, order_type, tif, post_only, coid))


def sell(
    engine: Engine,
    user: int,
    qty: int,
    price: int | None,
    *,
    sym: str = "ACME",
    order_type: OrderType = OrderType.LIMIT,
    tif: Tif = Tif.GTC,
    post_only: bool = False,
    coid: str | None = None,
) -> Result:
    return run(engine, PlaceOrder(user, sym, Side.SELL, qty, price, order_type, tif, post_only, coid))


def final(result: Result) -> OrderView:
    """The order a successful command left behind."""
    assert result.order is not None, result.rejection
    return result.order


def status(engine: Engine, order_id: int) -> OrderStatus:
    view = engine.order(order_id)
    assert view is not None
    return view.status


def kinds(result: Result) -> list[str]:
    return [type(e).__name__ for e in result.wire_events()]


def fills(result: Result) -> list[OrderFilled]:
    return [e for e in result.wire_events() if isinstance(e, OrderFilled)]


def test_limit_order_rests_and_publishes_one_delta(engine: Engine) -> None:
    result = buy(engine, 1, 10, 9990, coid="b1")
    assert result.seq == 1
    assert kinds(result) == ["OrderAccepted", "BookDelta"]
    accepted = result.wire_events()[0]
    assert isinstance(accepted, OrderAccepted)
    assert accepted.order.order_id == 1 and accepted.order.status is OrderStatus.NEW
    assert final(result) == accepted.order
    assert final(result).leaves_qty == 10 and final(result).client_order_id == "b1"
    assert result.wire_events()[1] == BookDelta("ACME", 1, ((9990, 10),), ())
    assert engine.book_levels("ACME") == ([(9990, 10)], [])
    assert engine.best_bid_ask("ACME") == (9990, None)
    assert engine.md_seq("ACME") == 1 and engine.md_seq("BOLT") == 0


def test_a_one_level_delta_is_held_flat_and_reads_as_tuples(engine: Engine) -> None:
    """A resting order, a cancel and a match that touch one level give a flat delta, equal to the same levels in
    tuples, read as tuples and pickled as them."""
    deltas = [
        buy(engine, 1, 10, 9990).wire_events()[1],
        engine.apply(CancelOrder(user_id=1, order_id=1), 1001).wire_events()[1],
        sell(engine, 2, 5, 10010).wire_events()[1],
        buy(engine, 3, 2, 10010, tif=Tif.IOC).wire_events()[-1],
    ]
    tupled = [
        BookDelta("ACME", 1, ((9990, 10),), ()),
        BookDelta("ACME", 2, ((9990, 0),), ()),
        BookDelta("ACME", 3, (), ((10010, 5),)),
        BookDelta("ACME", 5, (), ((10010, 3),)),  # the trade took seq 4
    ]
    for delta, expected in zip(deltas, tupled, strict=True):
        assert isinstance(delta, BookDelta) and delta.single
        assert delta == expected and (delta.bids, delta.asks) == (expected.bids, expected.asks)
        assert pickle.loads(pickle.dumps(delta)) == expected


def test_price_time_priority_and_trade_at_resting_price(engine: Engine) -> None:
    first = final(sell(engine, 1, 5, 10001))
    second = final(sell(engine, 2, 5, 10001))
    better = final(sell(engine, 3, 5, 10000))
    result = buy(engine, 4, 12, 10002)
    assert kinds(result) == (
        ["OrderAccepted"]
        + ["OrderFilled", "OrderFilled", "AccountUpdate", "AccountUpdate", "Trade"] * 3
        + ["BookDelta"]
    )
    makers = [f for f in fills(result) if f.fill.is_maker]
    assert [(f.order.order_id, f.fill.price, f.fill.qty) for f in makers] == [
        (better.order_id, 10000, 5),
        (first.order_id, 10001, 5),
        (second.order_id, 10001, 2),
    ]
    trades = [e for e in result.wire_events() if isinstance(e, Trade)]
    assert [(t.price, t.qty, t.aggressor, t.buyer_id, t.seller_id) for t in trades] == [
        (10000, 5, Side.BUY, 4, 3),
        (10001, 5, Side.BUY, 4, 1),
        (10001, 2, Side.BUY, 4, 2),
    ]
    assert [t.seq for t in trades] == [4, 5, 6]
    delta = result.wire_events()[-1]
    assert delta == BookDelta("ACME", 7, (), ((10000, 0), (10001, 3)))
    assert final(result).status is OrderStatus.FILLED and final(result).filled_cost == 5 * 10000 + 7 * 10001
    assert engine.last_price("ACME") == 10001
    assert status(engine, second.order_id) is OrderStatus.PARTIALLY_FILLED


def test_a_fill_is_one_record_that_the_wire_tells_as_five_events(engine: Engine) -> None:
    """The result keeps each fill once; `wire_events` tells it as the wire numbers it (an event's index is its gidx):
    the two sides' OrderFilled, their AccountUpdate, the Trade."""
    sell(engine, 1, 5, 10000)
    sell(engine, 3, 5, 10001)
    result = buy(engine, 2, 8, 10001)
    assert [type(e).__name__ for e in result.events] == ["OrderAccepted", "Fill", "Fill", "BookDelta"]
    first, second = result.events[1:3]
    assert isinstance(first, Fill) and isinstance(second, Fill)
    told = result.wire_events()
    assert told == [result.events[0], *first.wire(), *second.wire(), result.events[-1]]
    assert kinds(result)[1:6] == ["OrderFilled", "OrderFilled", "AccountUpdate", "AccountUpdate", "Trade"]
    for record in (first, second):
        maker, taker, maker_update, taker_update, trade = record.wire()
        assert isinstance(maker, OrderFilled) and isinstance(taker, OrderFilled)
        assert isinstance(maker_update, AccountUpdate) and isinstance(taker_update, AccountUpdate)
        assert (record.fill(True), record.fill(False)) == (maker.fill, taker.fill)
        assert (record.maker_id, record.taker_id) == (maker.user_id, taker.user_id)
        assert (maker_update.user_id, taker_update.user_id) == (maker.user_id, 2)
        assert trade == record.trade() and type(trade) is Trade and record.aggressor is taker.side is Side.BUY
    assert (second.maker_id, second.fill_id, second.taker_filled_qty, second.taker_status) == (
        3,
        4,
        8,
        OrderStatus.FILLED,
    )
    resting = sell(engine, 1, 1, 10005)
    assert resting.wire_events() is resting.events  # nothing filled: told as it is


def test_fill_event_order_and_ids(engine: Engine) -> None:
    sell(engine, 1, 5, 10000)
    result = buy(engine, 2, 5, 10000)
    maker, taker, update_maker, update_taker, trade = result.wire_events()[1:6]
    assert isinstance(maker, OrderFilled) and maker.user_id == 1 and maker.fill.is_maker
    assert isinstance(taker, OrderFilled) and taker.user_id == 2 and not taker.fill.is_maker
    assert isinstance(update_maker, AccountUpdate) and update_maker.user_id == 1
    assert isinstance(update_taker, AccountUpdate) and update_taker.user_id == 2
    assert isinstance(trade, Trade)
    assert (maker.fill.fill_id, taker.fill.fill_id, trade.trade_id) == (1, 2, 1)
    assert maker.fill.trade_id == taker.fill.trade_id == 1
    assert maker.order.status is taker.order.status is OrderStatus.FILLED


def test_partial_fill_then_rest(engine: Engine) -> None:
    sell(engine, 1, 4, 10000)
    result = buy(engine, 2, 10, 10001)
    assert final(result).status is OrderStatus.PARTIALLY_FILLED and final(result).leaves_qty == 6
    assert result.wire_events()[-1] == BookDelta("ACME", 3, ((10001, 6),), ((10000, 0),))
    assert engine.book_levels("ACME") == ([(10001, 6)], [])


def test_market_order_sweeps_and_expires_remainder(engine: Engine) -> None:
    sell(engine, 1, 3, 10000)
    sell(engine, 1, 3, 10500)
    result = buy(engine, 2, 10, None, order_type=OrderType.MARKET)
    assert [f.fill.price for f in fills(result) if not f.fill.is_maker] == [10000, 10500]
    assert kinds(result)[-2:] == ["OrderExpired", "BookDelta"]
    order = final(result)
    assert order.status is OrderStatus.EXPIRED
    assert order.filled_qty == 6 and order.leaves_qty == 0 and order.price is None
    assert engine.book_levels("ACME") == ([], [])
    assert engine.open_orders(2) == []


def test_market_order_on_empty_book_expires_without_delta(engine: Engine) -> None:
    result = sell(engine, 1, 10, None, order_type=OrderType.MARKET)
    assert kinds(result) == ["OrderAccepted", "OrderExpired"]
    assert engine.md_seq("ACME") == 0


def test_ioc_fills_what_it_can_and_never_rests(engine: Engine) -> None:
    sell(engine, 1, 4, 10000)
    sell(engine, 1, 4, 10002)
    result = buy(engine, 2, 10, 10001, tif=Tif.IOC)
    assert [f.fill.qty for f in fills(result) if not f.fill.is_maker] == [4]
    expired = result.wire_events()[-2]
    assert isinstance(expired, OrderExpired) and expired.order.filled_qty == 4
    assert engine.book_levels("ACME") == ([], [(10002, 4)])


def test_fok_without_enough_quantity_expires_untouched(engine: Engine) -> None:
    sell(engine, 1, 4, 10000)
    sell(engine, 1, 4, 10002)
    before = engine.book_levels("ACME")
    result = buy(engine, 2, 5, 10001, tif=Tif.FOK)  # one short within the limit
    assert kinds(result) == ["OrderAccepted", "OrderExpired"]
    assert final(result).filled_qty == 0 and final(result).status is OrderStatus.EXPIRED
    assert engine.book_levels("ACME") == before


def test_fok_with_enough_quantity_fills_completely(engine: Engine) -> None:
    sell(engine, 1, 4, 10000)
    sell(engine, 3, 4, 10001)
    result = buy(engine, 2, 6, 10001, tif=Tif.FOK)
    assert final(result).status is OrderStatus.FILLED
    assert engine.book_levels("ACME") == ([], [(10001, 2)])


def test_fok_does_not_count_own_orders_and_leaves_them_alone(engine: Engine) -> None:
    own = final(sell(engine, 2, 5, 10000))
    sell(engine, 1, 3, 10000)
    result = buy(engine, 2, 5, 10000, tif=Tif.FOK)
    assert kinds(result) == ["OrderAccepted", "OrderExpired"]
    assert status(engine, own.order_id) is OrderStatus.NEW


def test_fok_fills_past_own_orders_canceling_them(engine: Engine) -> None:
    own = final(sell(engine, 2, 5, 10000))
    sell(engine, 1, 3, 10000)
    result = buy(engine, 2, 3, 10000, tif=Tif.FOK)
    assert kinds(result)[1] == "OrderCanceled"
    assert final(result).status is OrderStatus.FILLED
    assert status(engine, own.order_id) is OrderStatus.CANCELED


def test_market_fok(engine: Engine) -> None:
    sell(engine, 1, 3, 10900)
    assert final(buy(engine, 2, 4, None, order_type=OrderType.MARKET, tif=Tif.FOK)).status is OrderStatus.EXPIRED
    assert final(buy(engine, 2, 3, None, order_type=OrderType.MARKET, tif=Tif.FOK)).status is OrderStatus.FILLED


def test_post_only_rests_when_it_does_not_cross(engine: Engine) -> None:
    sell(engine, 1, 5, 10001)
    result = buy(engine, 2, 5, 10000, post_only=True)
    assert final(result).post_only and final(result).status is OrderStatus.NEW


def test_post_only_rejected_when_it_would_cross(engine: Engine) -> None:
    sell(engine, 1, 5, 10001)
    result = buy(engine, 2, 5, 10001, post_only=True)
    assert result.rejection and result.rejection.code is Code.POST_ONLY_WOULD_CROSS
    assert "100.01" in result.rejection.message
    assert result.rejection.is_place and result.order is None
    assert engine.book_levels("ACME") == ([], [(10001, 5)])


def test_self_trade_cancels_resting_and_matching_goes_on(engine: Engine) -> None:
    own = final(sell(engine, 1, 5, 10000))
    other = final(sell(engine, 2, 5, 10000))
    result = buy(engine, 1, 5, 10000)
    assert kinds(result) == [
        "OrderAccepted",
        "OrderCanceled",
        "OrderFilled",
        "OrderFilled",
        "AccountUpdate",
        "AccountUpdate",
        "Trade",
        "BookDelta",
    ]
    canceled = result.wire_events()[1]
    assert isinstance(canceled, OrderCanceled)
    assert canceled.reason is CancelReason.SELF_TRADE and canceled.order.order_id == own.order_id
    assert canceled.order.status is OrderStatus.CANCELED and canceled.order.leaves_qty == 0
    assert fills(result)[0].order.order_id == other.order_id
    assert result.wire_events()[-1] == BookDelta("ACME", 4, (), ((10000, 0),))


def test_self_trade_only_order_left_rests_taker(engine: Engine) -> None:
    sell(engine, 1, 5, 10000)
    result = buy(engine, 1, 5, 10000)
    assert kinds(result) == ["OrderAccepted", "OrderCanceled", "BookDelta"]
    assert result.wire_events()[-1] == BookDelta("ACME", 2, ((10000, 5),), ((10000, 0),))
    assert engine.book_levels("ACME") == ([(10000, 5)], [])


def test_bolt_lot_and_tick_value(engine: Engine) -> None:
    sell(engine, 1, 30, 1000, sym="BOLT")
    result = buy(engine, 2, 20, 1001, sym="BOLT")
    trade = next(e for e in result.wire_events() if isinstance(e, Trade))
    assert (trade.sym, trade.price, trade.qty) == ("BOLT", 1000, 20)
    assert engine.cash(2) == engine.initial_cash - 1000 * 20 * 5
    assert engine.cash(1) == engine.initial_cash + 1000 * 20 * 5
    assert engine.md_seq("ACME") == 0 and engine.md_seq("BOLT") == 3


def test_fill_events_read_late_show_the_fill_as_it_happened(engine: Engine) -> None:
    """A fill's record and its events hold their state flat and build views on first read: reading late changes nothing.

    The maker's order object is reused for a later order once its owner's
    memory drops it; the fill events taken before must still show the fill
    as it was, and their views, pickled, must come back equal.
    """
    small = type(engine)(engine.instruments, engine.limits, engine.initial_cash, recent_orders=1)
    small.apply(PlaceOrder(1, "ACME", Side.SELL, 5, 10010, client_order_id="m"), 1)
    taken = small.apply(PlaceOrder(2, "ACME", Side.BUY, 5, 10010), 2)
    small.apply(PlaceOrder(1, "ACME", Side.SELL, 4, 10020), 3)
    small.apply(CancelOrder(1, order_id=3), 4)  # order 1 falls out of user 1's memory; its object is spare
    small.apply(PlaceOrder(3, "BOLT", Side.BUY, 20, 990, client_order_id="x"), 5)  # ... and reused here
    maker, taker, maker_update, taker_update, trade = taken.wire_events()[1:6]
    assert isinstance(maker, OrderFilled) and isinstance(taker, OrderFilled)
    assert maker.order == OrderView(
        1, "m", 1, "ACME", Side.SELL, OrderType.LIMIT, 10010, 5, 5, 50050, Tif.GTC, False, OrderStatus.FILLED, 1, 2
    )
    assert maker.fill == FillView(1, 1, "m", 1, "ACME", Side.SELL, 10010, 5, True, 1, 2, 0)
    assert taker.order == taken.order and taker.order is taker.order
    assert taker.fill == FillView(2, 2, None, 2, "ACME", Side.BUY, 10010, 5, False, 1, 2, 0)
    assert isinstance(maker_update, AccountUpdate) and isinstance(taker_update, AccountUpdate)
    assert maker_update.position == PositionView(1, "ACME", -5, -50050, 0)
    assert taker_update.position == PositionView(2, "ACME", 5, 50050, 0)
    assert isinstance(trade, Trade) and (trade.trade_id, trade.buyer_id, trade.seller_id) == (1, 2, 1)
    for event in (maker, taker, maker_update, taker_update, taken.events[1]):
        assert pickle.loads(pickle.dumps(event)) == event
