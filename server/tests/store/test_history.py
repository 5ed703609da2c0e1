"""Candles from one-second bars: aggregation, holes and limits."""

from __future__ import annotations

import pytest

from hftsim.engine import Side, Trade
from hftsim.store.history import FillHistory, MarketHistory


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
    from hftsim.engine import FillView

    fills = FillHistory(per_user=3)
    for i in range(5):
        fills.on_fill(
            FillView(
                fill_id=i,
                order_id=i,
                client_order_id=None,
                user_id=1,
                sym="ACME",
                side=Side.BUY,
                price=100,
                qty=1,
                is_maker=False,
                trade_id=i,
                ts=i,
            )
        )
    assert [f.fill_id for f in fills.fills(1, None, 10)] == [2, 3, 4]
    assert fills.fills(2, None, 10) == []
