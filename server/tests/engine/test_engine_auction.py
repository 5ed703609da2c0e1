"""The call auction: orders collect without trading, then one uncrossing price, then continuous trading."""

from __future__ import annotations

import pytest

from hftsim.engine import (
    AmendOrder,
    BookDelta,
    CancelReason,
    Code,
    Engine,
    OrderCanceled,
    OrderFilled,
    OrderType,
    PlaceOrder,
    Result,
    SetSymbolStatus,
    Side,
    StatusChanged,
    SymbolStatus,
    Tif,
    Trade,
)

AUCTION = SetSymbolStatus("ACME", SymbolStatus.AUCTION)
TRADING = SetSymbolStatus("ACME", SymbolStatus.TRADING)


def run(engine: Engine, command: PlaceOrder | AmendOrder | SetSymbolStatus) -> Result:
    return engine.apply(command, 1000 + engine.seq)


def rest(engine: Engine, user: int, side: Side, qty: int, price: int) -> int:
    result = run(engine, PlaceOrder(user, "ACME", side, qty, price))
    assert result.rejection is None and result.order is not None, result.rejection
    return result.order.order_id


def naive_price(orders: list[tuple[Side, int, int]], reference: int) -> int:
    """The rules read literally: most volume, then least imbalance, then nearest the reference, then lower."""

    def key(p: int) -> tuple[int, int, int, int]:
        demand = sum(q for s, q, price in orders if s is Side.BUY and price >= p)
        supply = sum(q for s, q, price in orders if s is Side.SELL and price <= p)
        return (min(demand, supply), -abs(demand - supply), -abs(p - reference), -p)

    return max({price for _, _, price in orders}, key=key)


def test_orders_collect_without_trading(engine: Engine) -> None:
    run(engine, AUCTION)
    rest(engine, 1, Side.BUY, 10, 10100)
    crossing = run(engine, PlaceOrder(2, "ACME", Side.SELL, 10, 9900))
    assert crossing.rejection is None and not any(isinstance(ev, Trade) for ev in crossing.wire_events())
    assert engine.best_bid_ask("ACME") == (10100, 9900)  # crossed while the auction lasts
    for refused in (
        PlaceOrder(3, "ACME", Side.BUY, 1, None, OrderType.MARKET),
        PlaceOrder(3, "ACME", Side.BUY, 1, 10000, tif=Tif.IOC),
        PlaceOrder(3, "ACME", Side.BUY, 1, 9000, post_only=True),
    ):
        rejection = run(engine, refused).rejection
        assert rejection is not None and rejection.code is Code.INVALID_FIELD
        assert "call auction" in rejection.message
    moved = run(engine, AmendOrder(2, order_id=2, price=9800))  # amends move orders without trading
    assert moved.rejection is None and not any(isinstance(ev, Trade) for ev in moved.wire_events())


def test_the_uncross_trades_the_most_volume_at_one_price(engine: Engine) -> None:
    run(engine, AUCTION)
    orders = [(Side.BUY, 10, 10100), (Side.BUY, 5, 10000), (Side.SELL, 8, 9900), (Side.SELL, 6, 10000)]
    ids = [rest(engine, user, side, qty, price) for user, (side, qty, price) in enumerate(orders, start=1)]
    result = run(engine, TRADING)
    trades = [ev for ev in result.wire_events() if isinstance(ev, Trade)]
    assert {t.price for t in trades} == {naive_price(orders, 10000)} == {10000}
    assert sum(t.qty for t in trades) == 14  # demand 15 and supply 14 at 100.00: the most at any price
    assert [(t.qty, t.buyer_id, t.seller_id) for t in trades] == [(8, 1, 3), (2, 1, 4), (4, 2, 4)]
    # the later order of each pair is the taker: the sells (3, then 4) against buy 1, buy 2 against sell 4
    takers = [ev.fill.order_id for ev in result.wire_events() if isinstance(ev, OrderFilled) and not ev.fill.is_maker]
    assert takers == [ids[2], ids[3], ids[3]]
    assert isinstance(result.events[-2], BookDelta) and isinstance(result.events[-1], StatusChanged)
    assert result.events[-1].status is SymbolStatus.TRADING
    assert engine.book_levels("ACME") == ([(10000, 1)], [])
    assert engine.last_price("ACME") == 10000
    assert sum(engine.position(u, "ACME").qty for u in (1, 2, 3, 4)) == 0


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        # equal volume (5) at 99.90 and 100.02, both balanced: the one nearer the reference (100.00)
        ([(Side.BUY, 5, 10002), (Side.SELL, 5, 9990)], 10002),
        # equally near (99.99 and 100.01): the lower
        ([(Side.BUY, 5, 10001), (Side.SELL, 5, 9999)], 9999),
        # volume 5 at 99.95, 100.00 and 100.05; the least imbalance (5, at 100.05) wins over the nearest price
        ([(Side.BUY, 10, 10005), (Side.BUY, 5, 10000), (Side.SELL, 5, 9995), (Side.SELL, 10, 10010)], 10005),
    ],
)
def test_tie_rules(engine: Engine, orders: list[tuple[Side, int, int]], expected: int) -> None:
    run(engine, AUCTION)
    for user, (side, qty, price) in enumerate(orders, start=1):
        rest(engine, user, side, qty, price)
    trades = [ev for ev in run(engine, TRADING).wire_events() if isinstance(ev, Trade)]
    assert naive_price(orders, 10000) == expected
    assert trades and {t.price for t in trades} == {expected}


def test_the_reference_is_the_last_trade_once_there_is_one(engine: Engine) -> None:
    rest(engine, 1, Side.BUY, 1, 10003)
    run(engine, PlaceOrder(2, "ACME", Side.SELL, 1, 10003))  # last price 100.03
    run(engine, AUCTION)
    orders = [(Side.BUY, 5, 10004), (Side.SELL, 5, 9996)]
    for user, (side, qty, price) in enumerate(orders, start=3):
        rest(engine, user, side, qty, price)
    trades = [ev for ev in run(engine, TRADING).wire_events() if isinstance(ev, Trade)]
    assert {t.price for t in trades} == {naive_price(orders, 10003)} == {10004}


def test_self_trade_prevention_cancels_the_earlier_order(engine: Engine) -> None:
    run(engine, AUCTION)
    early = rest(engine, 1, Side.SELL, 5, 9990)
    rest(engine, 1, Side.BUY, 5, 10010)
    rest(engine, 2, Side.SELL, 3, 10000)
    result = run(engine, TRADING)
    canceled = [ev for ev in result.wire_events() if isinstance(ev, OrderCanceled)]
    assert [(ev.order.order_id, ev.reason) for ev in canceled] == [(early, CancelReason.SELF_TRADE)]
    trades = [ev for ev in result.wire_events() if isinstance(ev, Trade)]
    assert [(t.qty, t.buyer_id, t.seller_id) for t in trades] == [(3, 1, 2)]
    bid, ask = engine.best_bid_ask("ACME")
    assert ask is None or bid is None or bid < ask


def test_a_halt_after_the_auction_uncrosses_when_trading_resumes(engine: Engine) -> None:
    run(engine, AUCTION)
    rest(engine, 1, Side.BUY, 5, 10010)
    rest(engine, 2, Side.SELL, 5, 9990)
    halted = run(engine, SetSymbolStatus("ACME", SymbolStatus.HALTED))
    assert not any(isinstance(ev, Trade) for ev in halted.wire_events())
    trades = [ev for ev in run(engine, TRADING).wire_events() if isinstance(ev, Trade)]
    assert sum(t.qty for t in trades) == 5
    assert engine.status("ACME") is SymbolStatus.TRADING
