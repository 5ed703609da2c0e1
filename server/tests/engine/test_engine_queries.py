"""Read-side API, exports, construction errors and the state hash."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

import hftsim.engine as engine_package
from hftsim.engine import (
    AmendOrder,
    CancelOrder,
    Engine,
    Instrument,
    Limits,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    SymbolStatus,
    Tif,
)


def test_exports_are_complete_and_unique() -> None:
    exported = engine_package.__all__
    assert len(exported) == len(set(exported))
    public = {name for name in vars(engine_package) if not name.startswith("_")}
    modules = {"commands", "core", "errors", "instruments", "limits", "pure", "queries", "reference", "status"}
    assert set(exported) == public - modules
    for name in (
        "Engine",
        "Limits",
        "Instrument",
        "Code",
        "PlaceOrder",
        "CancelOrder",
        "CancelAll",
        "AmendOrder",
        "SetSymbolStatus",
        "Result",
    ):
        assert name in exported


def test_instruments_and_symbol_queries(engine: Engine) -> None:
    assert [i.sym for i in engine.instruments] == ["ACME", "BOLT"]
    acme = engine.instrument("ACME")
    assert acme is not None and acme.tick == Decimal("0.01")
    assert engine.instrument("NOPE") is None
    assert engine.status("BOLT") is SymbolStatus.TRADING
    assert engine.last_price("ACME") is None
    assert engine.best_bid_ask("ACME") == (None, None)
    for query in (engine.status, engine.md_seq, engine.book_levels, engine.best_bid_ask, engine.last_price):
        with pytest.raises(KeyError, match="NOPE"):
            query("NOPE")


def test_book_levels_depth_best_first(engine: Engine) -> None:
    for i, price in enumerate((9990, 9995, 9980, 9985)):
        engine.apply(PlaceOrder(1, "ACME", Side.BUY, 1 + i, price), i)
    for i, price in enumerate((10010, 10005, 10020)):
        engine.apply(PlaceOrder(2, "ACME", Side.SELL, 1, price), 10 + i)
    engine.apply(PlaceOrder(3, "ACME", Side.SELL, 4, 10005), 20)
    assert engine.book_levels("ACME") == (
        [(9995, 2), (9990, 1), (9985, 4), (9980, 3)],
        [(10005, 5), (10010, 1), (10020, 1)],
    )
    assert engine.book_levels("ACME", 2) == ([(9995, 2), (9990, 1)], [(10005, 5), (10010, 1)])
    assert engine.book_levels("ACME", 0) == ([], [])
    assert engine.best_bid_ask("ACME") == (9995, 10005)


def test_open_orders_oldest_first_with_symbol_filter(engine: Engine) -> None:
    engine.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9990), 1)
    engine.apply(PlaceOrder(1, "BOLT", Side.BUY, 20, 990), 2)
    engine.apply(PlaceOrder(1, "ACME", Side.SELL, 1, 10010), 3)
    assert [o.order_id for o in engine.open_orders(1)] == [1, 2, 3]
    assert [o.order_id for o in engine.open_orders(1, "ACME")] == [1, 3]
    assert engine.open_orders(2) == [] and engine.recent_orders(2) == []


def test_exposure_is_the_position_and_the_open_orders_leaves_per_side(engine: Engine) -> None:
    """The totals the agents size their orders by: the same as adding up the open orders, as they change."""

    def summed(user_id: int, sym: str) -> tuple[int, int, int]:
        orders = engine.open_orders(user_id, sym)
        buys = sum(o.leaves_qty for o in orders if o.side is Side.BUY)
        return engine.position(user_id, sym).qty, buys, sum(o.leaves_qty for o in orders) - buys

    assert engine.exposure(1, "ACME") == (0, 0, 0)
    engine.apply(PlaceOrder(1, "ACME", Side.BUY, 5, 9990), 1)
    engine.apply(PlaceOrder(1, "ACME", Side.BUY, 3, 9980), 2)
    engine.apply(PlaceOrder(1, "ACME", Side.SELL, 4, 10010), 3)
    engine.apply(PlaceOrder(1, "BOLT", Side.BUY, 20, 990), 4)
    assert engine.exposure(1, "ACME") == (0, 8, 4) == summed(1, "ACME")
    engine.apply(PlaceOrder(2, "ACME", Side.SELL, 2, 9990), 5)  # fills 2 of the first buy
    engine.apply(AmendOrder(1, order_id=2, price=9985), 6)
    engine.apply(CancelOrder(1, order_id=3), 7)
    assert engine.exposure(1, "ACME") == (2, 6, 0) == summed(1, "ACME")
    assert engine.exposure(2, "ACME") == (-2, 0, 0) == summed(2, "ACME")
    assert engine.exposure(1, "BOLT") == (0, 20, 0) == summed(1, "BOLT")


def test_recent_orders_are_bounded_per_user(engine: Engine) -> None:
    small = type(engine)(engine.instruments, engine.limits, engine.initial_cash, recent_orders=3)
    for i in range(6):
        small.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9990 + i), i)
    for order_id in (1, 2, 3, 4):
        small.apply(CancelOrder(1, order_id=order_id), 10 + order_id)
    recent = small.recent_orders(1)
    assert [o.order_id for o in recent] == [2, 3, 4, 5, 6]
    assert [o.status for o in recent] == [OrderStatus.CANCELED] * 3 + [OrderStatus.NEW] * 2
    assert small.order(1) is None
    canceled = small.order(2)
    assert canceled is not None and canceled.status is OrderStatus.CANCELED and canceled.updated_ts == 12
    assert [o.order_id for o in small.recent_orders(1, "BOLT")] == []


def test_a_forgotten_order_leaves_no_trace_in_the_order_that_reuses_it(engine: Engine) -> None:
    """The core reuses the object of an order its owner's memory dropped for the next new order (any user's).

    Nothing of the old order may show through: not in the new order, not in
    the old one's earlier snapshots, not in what its owner's memory keeps.
    """
    small = type(engine)(engine.instruments, engine.limits, engine.initial_cash, recent_orders=1)
    first = small.apply(PlaceOrder(1, "ACME", Side.BUY, 5, 9990, client_order_id="a"), 1).order
    small.apply(CancelOrder(1, order_id=1), 2)
    small.apply(PlaceOrder(1, "ACME", Side.BUY, 3, 9991, client_order_id="b"), 3)
    small.apply(CancelOrder(1, order_id=2), 4)  # order 1 falls out of user 1's memory
    third = small.apply(PlaceOrder(2, "BOLT", Side.SELL, 20, 1010), 5).order
    assert small.order(1) is None
    assert first is not None and (first.order_id, first.user_id, first.client_order_id) == (1, 1, "a")
    assert first.status is OrderStatus.NEW and first.qty == 5
    assert third is not None and small.order(3) == third
    assert (third.user_id, third.sym, third.side, third.client_order_id) == (2, "BOLT", "sell", None)
    assert third.filled_qty == 0 and third.status is OrderStatus.NEW
    assert small.queue_position(2, 3) == 0 and small.queue_position(1, 3) is None
    assert [o.order_id for o in small.recent_orders(1)] == [2]
    again = small.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9990, client_order_id="a"), 6)
    assert again.rejection is not None and again.rejection.code == "DUPLICATE_CLIENT_ORDER_ID"
    assert small.book_levels("BOLT") == ([], [(1010, 20)]) and small.book_levels("ACME") == ([], [])


def test_old_and_forgotten_orders_keep_the_order_index_exact_and_small(engine: Engine) -> None:
    """The index by id is paged (core/orders.py): pages of forgotten orders are dropped and the list sheds them.

    One resting order placed first keeps its page while some 20,000 orders
    after it expire and are forgotten one by one; every id still answers
    right, the list of pages stays short, and a snapshot holding one old
    order and recent ones restores to the same state and answers.
    """
    small = type(engine)(engine.instruments, engine.limits, engine.initial_cash, recent_orders=1)
    small.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9000), 0)
    n = 20_000
    for i in range(n):  # IOC buys below the empty ask side: each expires, and user 2 forgets the one before
        small.apply(PlaceOrder(2, "ACME", Side.BUY, 1, 9001, tif=Tif.IOC), i)
    last = n + 1
    assert (small.order(1) or pytest.fail("the resting order is lost")).status is OrderStatus.NEW
    assert [small.order(i) for i in (2, 300, last - 1, last + 1, 0, -1, 2**70)] == [None] * 7
    assert (small.order(last) or pytest.fail("the newest order is lost")).status is OrderStatus.EXPIRED
    assert len(small._registry.pages) < 200  # 79 pages of ids went by; 2 hold orders
    restored = pickle.loads(pickle.dumps(small, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored.state_hash() == small.state_hash()
    assert [restored.order(i) for i in (1, 2, last)] == [small.order(i) for i in (1, 2, last)]
    small.apply(CancelOrder(1, order_id=1), n)
    small.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9000, tif=Tif.IOC), n + 1)  # user 1 forgets order 1: its page goes
    assert small.order(1) is None and small.order(last + 1) is not None
    assert len(small._registry.pages) < 70  # the dropped pages in front are shed


def test_construction_errors(engine_class: type[Engine]) -> None:
    acme = Instrument("ACME", Decimal("0.01"), 1, 1, 10000, Decimal(10))
    with pytest.raises(ValueError, match="duplicate"):
        engine_class([acme, acme], Limits(1, 1), 0)
    with pytest.raises(ValueError, match="recent_orders"):
        engine_class([acme], Limits(1, 1), 0, recent_orders=0)
    with pytest.raises(ValueError, match="coid_memory"):
        engine_class([acme], Limits(1, 1), 0, coid_memory=0)
    with pytest.raises(ValueError, match="positive"):
        Limits(0, 10)
    fine = engine_class([acme, Instrument("MILLI", Decimal("0.001"), 1, 1, 5000, Decimal(5))], Limits(1, 1), 0)
    assert fine.cash_decimals == 3


def test_apply_refuses_non_commands_without_taking_a_seq(engine: Engine) -> None:
    with pytest.raises(TypeError):
        engine.apply("cancel everything", 1)  # type: ignore[arg-type]
    assert engine.seq == 0


def test_state_hash_tracks_state(engine: Engine) -> None:
    twin = type(engine)(engine.instruments, engine.limits, engine.initial_cash)
    assert engine.state_hash() == twin.state_hash()
    commands = [PlaceOrder(1, "ACME", Side.BUY, 5, 9990), PlaceOrder(2, "ACME", Side.SELL, 3, 9990)]
    for i, command in enumerate(commands):
        assert engine.apply(command, i) == twin.apply(command, i)
    assert engine.state_hash() == twin.state_hash()
    engine.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9980), 5)
    twin.apply(PlaceOrder(1, "ACME", Side.BUY, 1, 9980), 6)
    assert engine.state_hash() != twin.state_hash()


def test_user_ids_lists_accounts(engine: Engine) -> None:
    engine.apply(PlaceOrder(5, "ACME", Side.BUY, 5, 9990), 1)
    engine.apply(PlaceOrder(2, "ACME", Side.BUY, 0, 9990), 2)
    engine.apply(PlaceOrder(3, "ACME", Side.BUY, 1, None, OrderType.MARKET), 3)
    assert engine.user_ids() == [3, 5]


def test_pickle_round_trip_with_a_long_queue(engine: Engine) -> None:
    """Journal snapshots pickle the engine; a deep FIFO queue must not recurse once per order."""
    for i in range(5000):
        engine.apply(PlaceOrder(1 + i % 3, "ACME", Side.SELL, 1, 10001, client_order_id=f"o{i}"), i)
    restored = pickle.loads(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored.state_hash() == engine.state_hash()
    sweep = PlaceOrder(9, "ACME", Side.BUY, 1000, 10001)
    assert restored.apply(sweep, 9000) == engine.apply(sweep, 9000)
    assert restored.state_hash() == engine.state_hash()
    assert restored.book_levels("ACME") == ([], [(10001, 4000)])


def test_queue_position_counts_what_is_ahead_at_the_level(engine: Engine) -> None:
    def rest(user: int, qty: int, price: int = 9990) -> int:
        result = engine.apply(PlaceOrder(user, "ACME", Side.BUY, qty, price), engine.seq + 1)
        assert result.order is not None and result.rejection is None
        return result.order.order_id

    first, second, third = rest(1, 5), rest(2, 7), rest(3, 4)
    elsewhere = rest(4, 9, 9980)
    assert [engine.queue_position(u, o) for u, o in ((1, first), (2, second), (3, third))] == [0, 5, 12]
    assert engine.queue_position(4, elsewhere) == 0
    engine.apply(PlaceOrder(9, "ACME", Side.SELL, 3, 9990), engine.seq + 1)  # fills 3 of the first
    assert engine.queue_position(2, second) == 2 and engine.queue_position(3, third) == 9
    engine.apply(CancelOrder(2, second), engine.seq + 1)  # a cancel ahead
    assert engine.queue_position(3, third) == 2
    engine.apply(AmendOrder(1, first, qty=4), engine.seq + 1)  # shrinking keeps its place, and lowers what is ahead
    assert engine.queue_position(1, first) == 0 and engine.queue_position(3, third) == 1
    engine.apply(AmendOrder(1, first, qty=6), engine.seq + 1)  # growing goes to the back
    assert engine.queue_position(1, first) == 4 and engine.queue_position(3, third) == 0
    assert engine.queue_position(2, third) is None  # another user's order answers like a missing one
    assert engine.queue_position(2, second) is None  # canceled
    assert engine.queue_position(1, 10**6) is None
