"""Managing orders: cancel, cancel-all, amend, halt and resume."""

from __future__ import annotations

import pickle

from hftsim.engine import (
    AmendOrder,
    BookDelta,
    CancelAll,
    CancelOrder,
    CancelReason,
    Code,
    Command,
    Engine,
    OrderAmended,
    OrderCanceled,
    OrderFilled,
    OrderStatus,
    OrderView,
    PlaceOrder,
    Result,
    SetSymbolStatus,
    Side,
    StatusChanged,
    SymbolStatus,
    Trade,
    field_refusal,
)
from hftsim.engine.core.events import order_canceled


def run(engine: Engine, command: Command) -> Result:
    return engine.apply(command, 1000 + engine.seq)


def rest(
    engine: Engine, user: int, side: Side, qty: int, price: int, sym: str = "ACME", coid: str | None = None
) -> OrderView:
    result = run(engine, PlaceOrder(user, sym, side, qty, price, client_order_id=coid))
    assert result.order is not None and result.order.leaves_qty, result.rejection
    return result.order


def final(result: Result) -> OrderView:
    assert result.order is not None, result.rejection
    return result.order


def code(result: Result) -> Code | None:
    return result.rejection.code if result.rejection else None


def maker_ids(result: Result) -> list[int]:
    return [e.order.order_id for e in result.wire_events() if isinstance(e, OrderFilled) and e.fill.is_maker]


# Cancel ----------------------------------------------------------------------


def test_cancel_by_order_id(engine: Engine) -> None:
    order = rest(engine, 1, Side.BUY, 10, 9990)
    result = run(engine, CancelOrder(1, order_id=order.order_id))
    canceled = result.wire_events()[0]
    assert isinstance(canceled, OrderCanceled) and canceled.reason is CancelReason.USER
    assert final(result).status is OrderStatus.CANCELED and final(result) == canceled.order
    assert result.wire_events()[1] == BookDelta("ACME", 2, ((9990, 0),), ())
    assert engine.book_levels("ACME") == ([], [])
    assert engine.open_orders(1) == []


def test_a_cancels_event_is_the_orders_snapshot_and_its_result(engine: Engine) -> None:
    """The event is the order as the cancel left it, handed back as the result's order: equal to the query's
    plain view, unequal to another reason's event, and pickled back with its reason."""
    order = rest(engine, 1, Side.BUY, 10, 9990, coid="c")
    result = run(engine, CancelOrder(1, order_id=order.order_id))
    canceled = result.events[0]
    assert isinstance(canceled, OrderCanceled) and canceled.order is canceled and result.order is canceled
    view = engine.order(order.order_id)
    assert view is not None and type(view) is OrderView
    assert canceled == view and view == canceled and canceled.status is OrderStatus.CANCELED
    assert (canceled.user_id, canceled.client_order_id, canceled.leaves_qty) == (1, "c", 0)
    other = pickle.loads(pickle.dumps(view))
    other.updated_ts += 1
    assert canceled != other and other != canceled
    back = pickle.loads(pickle.dumps(canceled))
    assert type(back) is OrderCanceled and back == canceled and back.reason is CancelReason.USER
    assert back != order_canceled(canceled, CancelReason.CANCEL_ALL)


def test_cancel_by_client_order_id_and_never_reuse_it(engine: Engine) -> None:
    rest(engine, 1, Side.SELL, 10, 10010, coid="x")
    live = run(engine, PlaceOrder(1, "ACME", Side.SELL, 1, 10010, client_order_id="x"))
    assert code(live) is Code.DUPLICATE_CLIENT_ORDER_ID and live.rejection and "live order" in live.rejection.message
    assert final(run(engine, CancelOrder(1, client_order_id="x"))).status is OrderStatus.CANCELED
    assert code(run(engine, CancelOrder(1, client_order_id="x"))) is Code.UNKNOWN_ORDER
    again = run(engine, PlaceOrder(1, "ACME", Side.SELL, 1, 10010, client_order_id="x"))
    assert code(again) is Code.DUPLICATE_CLIENT_ORDER_ID and again.rejection
    assert "already used by order 1, now finished" in again.rejection.message


def test_a_filled_client_order_id_never_trades_again(engine: Engine) -> None:
    rest(engine, 2, Side.SELL, 20, 10010)
    assert final(run(engine, PlaceOrder(1, "ACME", Side.BUY, 10, 10010, client_order_id="b"))).filled_qty == 10
    resent = run(engine, PlaceOrder(1, "ACME", Side.BUY, 10, 10010, client_order_id="b"))
    assert code(resent) is Code.DUPLICATE_CLIENT_ORDER_ID
    assert engine.position(1, "ACME").qty == 10


def test_a_rejected_client_order_id_stays_free(engine: Engine) -> None:
    assert code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 10, 1, client_order_id="r"))) is Code.PRICE_OUT_OF_BAND
    assert rest(engine, 1, Side.BUY, 10, 9990, coid="r").client_order_id == "r"


def test_client_order_ids_are_per_user(engine: Engine) -> None:
    rest(engine, 1, Side.SELL, 10, 10010, coid="x")
    rest(engine, 2, Side.SELL, 10, 10010, coid="x")
    assert code(run(engine, CancelOrder(3, client_order_id="x"))) is Code.UNKNOWN_ORDER


def test_cancel_unknown_finished_and_foreign_orders(engine: Engine) -> None:
    order = rest(engine, 1, Side.BUY, 10, 9990)
    assert code(run(engine, CancelOrder(1, order_id=999))) is Code.UNKNOWN_ORDER
    foreign = run(engine, CancelOrder(2, order_id=order.order_id))
    missing = run(engine, CancelOrder(2, order_id=999))
    assert foreign.rejection and missing.rejection and not foreign.rejection.is_place
    assert code(foreign) is Code.UNKNOWN_ORDER
    assert foreign.rejection.message == missing.rejection.message.replace("999", str(order.order_id))
    run(engine, CancelOrder(1, order_id=order.order_id))
    assert code(run(engine, CancelOrder(1, order_id=order.order_id))) is Code.UNKNOWN_ORDER
    assert code(run(engine, CancelOrder(1))) is Code.INVALID_FIELD


def test_cancel_keeps_the_rest_of_the_queue(engine: Engine) -> None:
    a = rest(engine, 1, Side.SELL, 1, 10000)
    b = rest(engine, 2, Side.SELL, 2, 10000)
    c = rest(engine, 3, Side.SELL, 3, 10000)
    run(engine, CancelOrder(2, order_id=b.order_id))
    assert engine.book_levels("ACME") == ([], [(10000, 4)])
    result = run(engine, PlaceOrder(4, "ACME", Side.BUY, 4, 10000))
    assert maker_ids(result) == [a.order_id, c.order_id]


def test_cancel_all_one_symbol(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 10, 9990)
    rest(engine, 1, Side.SELL, 20, 1100, sym="BOLT")
    b = rest(engine, 1, Side.SELL, 10, 10010)
    rest(engine, 2, Side.BUY, 10, 9990)
    result = run(engine, CancelAll(1, "ACME"))
    assert result.canceled == [a.order_id, b.order_id]
    reasons = [e.reason for e in result.wire_events() if isinstance(e, OrderCanceled)]
    assert reasons == [CancelReason.CANCEL_ALL] * 2
    assert result.wire_events()[-1] == BookDelta("ACME", 4, ((9990, 10),), ((10010, 0),))
    assert [o.sym for o in engine.open_orders(1)] == ["BOLT"]


def test_cancel_all_symbols_one_delta_per_book(engine: Engine) -> None:
    rest(engine, 1, Side.BUY, 10, 9990)
    rest(engine, 1, Side.SELL, 20, 1100, sym="BOLT")
    result = run(engine, CancelAll(1))
    assert len(result.canceled) == 2
    deltas = [e for e in result.wire_events() if isinstance(e, BookDelta)]
    assert [(d.sym, d.seq) for d in deltas] == [("ACME", 2), ("BOLT", 2)]
    assert engine.open_orders(1) == []


def test_cancel_all_with_nothing_to_cancel(engine: Engine) -> None:
    assert run(engine, CancelAll(7)).wire_events() == []
    assert code(run(engine, CancelAll(7, "NOPE"))) is Code.UNKNOWN_SYMBOL


# Amend -----------------------------------------------------------------------


def test_amend_qty_down_keeps_priority(engine: Engine) -> None:
    a = rest(engine, 1, Side.SELL, 10, 10000)
    b = rest(engine, 2, Side.SELL, 10, 10000)
    result = run(engine, AmendOrder(1, order_id=a.order_id, qty=4))
    assert isinstance(result.wire_events()[0], OrderAmended)
    assert final(result).qty == 4 and final(result).status is OrderStatus.NEW
    assert result.wire_events()[1] == BookDelta("ACME", 3, (), ((10000, 14),))
    assert maker_ids(run(engine, PlaceOrder(3, "ACME", Side.BUY, 5, 10000))) == [a.order_id, b.order_id]


def test_amend_qty_up_loses_priority(engine: Engine) -> None:
    a = rest(engine, 1, Side.SELL, 10, 10000)
    b = rest(engine, 2, Side.SELL, 10, 10000)
    run(engine, AmendOrder(1, order_id=a.order_id, qty=12))
    assert engine.book_levels("ACME") == ([], [(10000, 22)])
    assert maker_ids(run(engine, PlaceOrder(3, "ACME", Side.BUY, 11, 10000))) == [b.order_id, a.order_id]


def test_amend_price_loses_priority_and_moves_level(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 10, 9990)
    b = rest(engine, 2, Side.BUY, 10, 9995)
    result = run(engine, AmendOrder(1, client_order_id=None, order_id=a.order_id, price=9995))
    assert result.wire_events()[-1] == BookDelta("ACME", 3, ((9995, 20), (9990, 0)), ())
    assert maker_ids(run(engine, PlaceOrder(3, "ACME", Side.SELL, 15, 9995))) == [b.order_id, a.order_id]


def test_amend_to_crossing_price_trades_as_taker(engine: Engine) -> None:
    ask = rest(engine, 1, Side.SELL, 5, 10005)
    bid = rest(engine, 2, Side.BUY, 8, 9995, coid="bid")
    result = run(engine, AmendOrder(2, client_order_id="bid", price=10010))
    names = [type(e).__name__ for e in result.wire_events()]
    assert names == [
        "OrderAmended",
        "OrderFilled",
        "OrderFilled",
        "AccountUpdate",
        "AccountUpdate",
        "Trade",
        "BookDelta",
    ]
    taker = result.wire_events()[2]
    assert isinstance(taker, OrderFilled) and taker.order.order_id == bid.order_id and not taker.fill.is_maker
    trade = result.wire_events()[5]
    assert isinstance(trade, Trade) and trade.price == 10005 and trade.aggressor is Side.BUY
    assert final(result).status is OrderStatus.PARTIALLY_FILLED and final(result).price == 10010
    assert result.wire_events()[-1] == BookDelta("ACME", 4, ((10010, 3), (9995, 0)), ((10005, 0),))
    assert engine.order(ask.order_id) is not None
    assert engine.book_levels("ACME") == ([(10010, 3)], [])


def test_amend_post_only_to_crossing_price_is_rejected(engine: Engine) -> None:
    rest(engine, 1, Side.SELL, 5, 10005)
    result = run(engine, PlaceOrder(2, "ACME", Side.BUY, 5, 9995, post_only=True))
    order = final(result)
    rejected = run(engine, AmendOrder(2, order_id=order.order_id, price=10005))
    assert code(rejected) is Code.POST_ONLY_WOULD_CROSS
    assert rejected.rejection and rejected.rejection.sym == "ACME"
    assert engine.order(order.order_id) == order
    assert engine.book_levels("ACME") == ([(9995, 5)], [(10005, 5)])


def test_amend_qty_must_exceed_filled(engine: Engine) -> None:
    a = rest(engine, 1, Side.SELL, 10, 10000)
    run(engine, PlaceOrder(2, "ACME", Side.BUY, 4, 10000))
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=4))) is Code.INVALID_FIELD
    assert code(run(engine, AmendOrder(1, order_id=a.order_id))) is Code.INVALID_FIELD
    result = run(engine, AmendOrder(1, order_id=a.order_id, qty=5))
    assert final(result).leaves_qty == 1 and final(result).filled_qty == 4
    assert engine.book_levels("ACME") == ([], [(10000, 1)])


def test_amend_validates_like_a_new_order(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 20, 1000, sym="BOLT")
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=25))) is Code.QTY_NOT_LOT_MULTIPLE
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=10))) is Code.QTY_BELOW_MIN
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, price=1300))) is Code.PRICE_OUT_OF_BAND
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=1010))) is Code.QTY_ABOVE_MAX
    assert code(run(engine, AmendOrder(2, order_id=a.order_id, qty=30))) is Code.UNKNOWN_ORDER
    assert code(run(engine, AmendOrder(1, order_id=99, qty=30))) is Code.UNKNOWN_ORDER
    assert engine.order(a.order_id) == a


def test_amend_position_limit_counts_growth_only(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 1000, 9990)
    rest(engine, 1, Side.BUY, 900, 9980)
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=1000, price=9985))) is None
    assert code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 101, 9970))) is Code.POSITION_LIMIT
    b = rest(engine, 1, Side.BUY, 100, 9970)
    assert code(run(engine, AmendOrder(1, order_id=b.order_id, qty=101))) is Code.POSITION_LIMIT
    assert code(run(engine, AmendOrder(1, order_id=b.order_id, qty=50))) is None


def test_unchanged_amend_is_accepted_in_place(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 10, 9990)
    result = run(engine, AmendOrder(1, order_id=a.order_id, price=9990, qty=10))
    assert [type(e).__name__ for e in result.wire_events()] == ["OrderAmended"]


# Halt and resume --------------------------------------------------------------


def test_halt_refuses_orders_and_amends_but_accepts_cancels(engine: Engine) -> None:
    a = rest(engine, 1, Side.BUY, 10, 9990)
    b = rest(engine, 1, Side.BUY, 10, 9980)
    result = run(engine, SetSymbolStatus("ACME", SymbolStatus.HALTED))
    assert result.wire_events() == [StatusChanged("ACME", 3, SymbolStatus.HALTED)]
    assert engine.status("ACME") is SymbolStatus.HALTED
    assert engine.book_levels("ACME") == ([(9990, 10), (9980, 10)], [])
    assert code(run(engine, PlaceOrder(2, "ACME", Side.SELL, 5, 9990))) is Code.SYMBOL_HALTED
    assert code(run(engine, AmendOrder(1, order_id=a.order_id, qty=5))) is Code.SYMBOL_HALTED
    assert final(run(engine, CancelOrder(1, order_id=a.order_id))).status is OrderStatus.CANCELED
    assert run(engine, CancelAll(1, "ACME")).canceled == [b.order_id]
    assert final(run(engine, PlaceOrder(2, "BOLT", Side.SELL, 20, 1000))).status is OrderStatus.NEW
    run(engine, SetSymbolStatus("ACME", SymbolStatus.TRADING))
    assert engine.status("ACME") is SymbolStatus.TRADING
    assert engine.md_seq("ACME") == 6
    assert final(run(engine, PlaceOrder(2, "ACME", Side.SELL, 5, 9990))).status is OrderStatus.NEW


def test_status_command_rejections(engine: Engine) -> None:
    assert code(run(engine, SetSymbolStatus("NOPE", SymbolStatus.HALTED))) is Code.UNKNOWN_SYMBOL
    refusal = field_refusal(SetSymbolStatus, ("ACME", "paused"), ["ACME"])
    assert refusal is not None and refusal.code is Code.INVALID_FIELD
    assert refusal.message == "status must be one of trading, halted, auction, got 'paused'"
    assert engine.md_seq("ACME") == 0


def test_client_order_ids_are_remembered_for_a_bounded_number_of_orders(engine: Engine) -> None:
    engine = type(engine)(engine.instruments, engine.limits, engine.initial_cash, coid_memory=3)
    live = rest(engine, 1, Side.BUY, 1, 9900, coid="live")
    for coid in ("a", "b", "c", "d"):
        rest(engine, 1, Side.BUY, 1, 9901, coid=coid)
        run(engine, CancelOrder(1, client_order_id=coid))
    assert (
        code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9902, client_order_id="b")))
        is Code.DUPLICATE_CLIENT_ORDER_ID
    )
    assert (
        code(run(engine, PlaceOrder(1, "ACME", Side.BUY, 1, 9902, client_order_id="live")))
        is Code.DUPLICATE_CLIENT_ORDER_ID
    )
    assert rest(engine, 1, Side.BUY, 1, 9902, coid="a").client_order_id == "a"  # fell out of the memory
    assert engine.order(live.order_id) == live


def test_a_restored_engine_forgets_the_oldest_client_order_id_first(engine: Engine) -> None:
    """The memory's order (oldest first) survives a snapshot: a restored engine forgets what it would have."""
    engine = type(engine)(engine.instruments, engine.limits, engine.initial_cash, coid_memory=2)
    for coid in ("a", "b"):
        rest(engine, 1, Side.BUY, 1, 9901, coid=coid)
        run(engine, CancelOrder(1, client_order_id=coid))
    restored = pickle.loads(pickle.dumps(engine))
    rest(restored, 1, Side.BUY, 1, 9901, coid="c")
    assert (
        code(run(restored, PlaceOrder(1, "ACME", Side.BUY, 1, 9902, client_order_id="b")))
        is Code.DUPLICATE_CLIENT_ORDER_ID
    )
    assert rest(restored, 1, Side.BUY, 1, 9902, coid="a").client_order_id == "a"  # fell out of the memory
