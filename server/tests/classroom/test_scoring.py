"""Scoring rules, unit level: marks, marked PnL, drawdown, Sharpe, breaches."""

from __future__ import annotations

import pytest

from hftsim.classroom.scoring import RoundBook, mark_prices, marked_pnl, max_drawdown, scores, sharpe
from hftsim.config import load
from hftsim.engine import Engine, PlaceOrder, Side


def engine() -> Engine:
    settings = load()
    return Engine(settings.instruments(), settings.engine_limits(), initial_cash=10**12)


def test_mark_is_last_trade_else_mid_else_reference() -> None:
    e = engine()
    ref = {i.sym: i.ref_price for i in e.instruments}
    assert mark_prices(e)["ACME"] == ref["ACME"]
    e.apply(PlaceOrder(user_id=1, sym="ACME", side=Side.BUY, qty=1, price=9_990), 1)
    assert mark_prices(e)["ACME"] == ref["ACME"]  # one side only
    e.apply(PlaceOrder(user_id=2, sym="ACME", side=Side.SELL, qty=1, price=10_005), 2)
    assert mark_prices(e)["ACME"] == (9_990 + 10_005) // 2
    e.apply(PlaceOrder(user_id=3, sym="ACME", side=Side.BUY, qty=1, price=10_005), 3)
    assert mark_prices(e)["ACME"] == 10_005


def test_pnl_counts_cash_and_positions_at_the_marks_and_breaches() -> None:
    e = engine()
    book = RoundBook()
    book.on_result(e.apply(PlaceOrder(user_id=1, sym="ACME", side=Side.SELL, qty=4, price=10_100), 1), e)
    book.on_result(e.apply(PlaceOrder(user_id=2, sym="ACME", side=Side.BUY, qty=4, price=10_100), 2), e)
    book.on_result(e.apply(PlaceOrder(user_id=2, sym="ACME", side=Side.BUY, qty=10**9, price=10_100), 3), e)
    marks = {**mark_prices(e), "ACME": 10_050}
    tick = 10  # 0.01 in cash units of 3 decimals
    assert marked_pnl(e, 2, marks) == 4 * (10_050 - 10_100) * tick
    assert marked_pnl(e, 1, marks) == -marked_pnl(e, 2, marks)
    rows = {s.user_id: s for s in scores(book, e, marks)}
    assert rows[2].volume == 4 and rows[2].fills == 1 and rows[2].notional == 4 * 10_100 * tick
    assert rows[2].breaches == 1 and rows[1].breaches == 0
    assert scores(book, e, marks)[0].user_id == 1


def test_drawdown_and_sharpe() -> None:
    assert max_drawdown([0, 5, 2, 8, 1, 3]) == 7
    assert max_drawdown([3, 2, 1]) == 2 and max_drawdown([]) == 0
    assert sharpe([0, 1]) is None and sharpe([0, 1, 2, 3]) is None
    assert sharpe([0, 2, 2, 6]) == pytest.approx((6 / 3) / 2.0)
