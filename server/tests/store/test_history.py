"""Candles from one-second bars: aggregation, holes and limits; the users' fills and fees as kept per fill."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hftsim.engine import FillView, Side, Trade
from hftsim.store.history import MarketHistory

from .history_market import INSTRUMENTS, USERS, Order, trade_in


def trade(ts: int, price: int, qty: int = 1) -> Trade:
    return Trade(
        sym="ACME", seq=0, trade_id=ts, price=price, qty=qty, aggressor=Side.BUY, ts=ts, buyer_id=1, seller_id=2
    )


def test_candles_aggregate_seconds_and_fill_holes_at_the_previous_close() -> None:
    history = MarketHistory(["ACME"])
    for ts, price, qty in [(10_100, 100, 2), (10_900, 104, 1), (11_500, 98, 3), (14_200, 101, 5)]:
        history.on_trade(trade(ts, price, qty))
    bars = history.candles("ACME", interval_ms=2000, depth=4, now_ms=15_000)
    assert [(b.t, b.o, b.h, b.l, b.c, b.v) for b in bars] == [
        (10_000, 100, 104, 98, 98, 6),
        (12_000, 98, 98, 98, 98, 0),
        (14_000, 101, 101, 101, 101, 5),
    ]
    assert history.first_price("ACME") == 100
    assert [t.price for t in history.trades("ACME", 2)] == [98, 101]


def test_intervals_before_the_first_trade_are_omitted_and_later_ones_stay_flat() -> None:
    history = MarketHistory(["ACME"])
    assert history.candles("ACME", 1000, 10, now_ms=50_000) == []
    history.on_trade(trade(40_500, 100))
    bars = history.candles("ACME", 1000, 3, now_ms=50_000)
    assert [(b.t, b.c, b.v) for b in bars] == [(48_000, 100, 0), (49_000, 100, 0), (50_000, 100, 0)]


@pytest.mark.parametrize(("interval", "depth"), [(500, 10), (1500, 10), (0, 10), (1000, 0), (1000, 5000)])
def test_candle_limits(interval: int, depth: int) -> None:
    with pytest.raises(ValueError):
        MarketHistory(["ACME"]).candles("ACME", interval, depth, now_ms=10_000)


def test_fill_history_is_per_user_and_bounded() -> None:
    (_, fills), records = trade_in([(1, "ACME", Side.SELL, 9, 0), *[(2, "ACME", Side.BUY, 0, 0)] * 5], per_user=3)
    assert [r.taker_id for r in records] == [2] * 5
    assert [f.fill_id for f in fills.fills(1, None, 10)] == [r.fill_id - 1 for r in records[2:]]
    assert [f.fill_id for f in fills.fills(2, None, 10)] == [r.fill_id for r in records[2:]]
    assert fills.fills(3, None, 10) == []


orders = st.lists(
    st.tuples(st.sampled_from(USERS), st.sampled_from(list(INSTRUMENTS)), st.sampled_from(Side), st.integers(0, 4),
              st.integers(-3, 3)),
    max_size=80,
)  # fmt: skip


@given(orders, st.integers(1, 6))
def test_the_fills_kept_answer_as_each_sides_view_did(placed: list[Order], per_user: int) -> None:
    """Both users' histories keep the engine's record of a fill; what `fills.list`, `account.get`'s fees and
    `trades.list` answer is what each side's `FillView` and the fill's `Trade`, kept as they were before, gave."""
    (history, fills), records = trade_in(placed, per_user)
    views: dict[int, list[FillView]] = {}
    fees: dict[int, dict[str, int]] = {}
    for record in records:
        for maker in (True, False):
            view = record.fill(maker)
            views.setdefault(view.user_id, []).append(view)
            fees.setdefault(view.user_id, {})
            fees[view.user_id][view.sym] = fees[view.user_id].get(view.sym, 0) + view.fee
    for user_id in USERS:
        kept = views.get(user_id, [])[-per_user:]
        for sym in (None, *INSTRUMENTS):
            for limit in (1, 2, 1000):
                assert fills.fills(user_id, sym, limit) == [v for v in kept if sym in (None, v.sym)][-limit:]
        assert fills.fees(user_id) == fees.get(user_id, {})
    for sym in INSTRUMENTS:
        trades = [r.trade() for r in records if r.sym == sym]
        assert history.trades(sym, 1000) == trades
        assert history.first_price(sym) == (trades[0].price if trades else None)
