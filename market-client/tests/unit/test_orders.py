"""OrderTracker and Order without sockets: events, answers, fills and the queue estimate."""

from __future__ import annotations

from typing import Any

import pytest

from market_client._orders import Order, OrderTracker


class Trader:
    """Answers the handle's requests from a script; records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.orders: list[dict[str, Any]] = []
        self.fills: list[dict[str, Any]] = []

    async def cancel_order(self, order_id: int | None = None, **kw: Any) -> dict[str, Any]:
        self.asked.append(("cancel", kw))
        return {"order": {**self.orders[-1], "status": "canceled", "leaves_qty": 0}}

    async def amend_order(self, order_id: int | None = None, **kw: Any) -> dict[str, Any]:
        self.asked.append(("amend", kw))
        return {"order": {**self.orders[-1], "qty": kw["qty"], "leaves_qty": kw["qty"]}}

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[dict[str, Any]]:
        return self.orders

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        return self.fills


def order(status: str, filled: int = 0, qty: int = 10) -> dict[str, Any]:
    return {
        "order_id": 7, "client_order_id": "k1", "sym": "ACME", "side": "buy", "price": "100.00",
        "qty": qty, "filled_qty": filled, "leaves_qty": 0 if status in ("filled", "canceled") else qty - filled,
        "status": status,
    }  # fmt: skip


def handle(trader: Trader | None = None) -> tuple[Order, OrderTracker]:
    tracker = OrderTracker()
    h = Order(trader or Trader(), "k1", {"sym": "ACME", "side": "buy", "price": "100.00", "qty": 10})
    tracker.watch(h)
    return h, tracker


def test_events_before_the_answer_update_the_handle_and_an_older_answer_does_not_undo_them() -> None:
    h, tracker = handle()
    assert h.status == "pending" and h.order_id is None
    tracker.on_cmd_event("order.accepted", {"order": order("new")})
    fill = {"fill_id": 1, "order_id": 7, "qty": 4, "price": "100.00"}
    tracker.on_cmd_event("order.partially_filled", {"order": order("partially_filled", 4), "fill": fill})
    tracker.on_cmd_event("order.partially_filled", {"order": order("partially_filled", 4), "fill": fill})  # again
    tracker.on_answer(h, order("new"))  # an answer older than the fill
    assert (h.status, h.filled_qty, h.leaves_qty, len(h.fills)) == ("partially_filled", 4, 6, 1)
    tracker.on_cmd_event("order.filled", {"order": order("filled", 10), "fill": {**fill, "fill_id": 2, "qty": 6}})
    assert h.is_done and [f["qty"] for f in h.fills] == [4, 6]
    assert tracker.live() == []  # a final order is no longer tracked
    h.apply_order(order("new"))
    assert h.status == "filled"


def test_events_of_other_orders_are_ignored_and_a_rejection_ends_the_handle() -> None:
    h, tracker = handle()
    assert tracker.on_cmd_event("order.accepted", {"order": {**order("new"), "client_order_id": "other"}}) is None
    assert h.status == "pending"
    error = {"code": "PRICE_OUT_OF_BAND", "message": "x"}
    tracker.on_cmd_event("order.rejected", {"client_order_id": "k1", "error": error})
    assert h.status == "rejected" and h.error is not None and h.error["code"] == "PRICE_OUT_OF_BAND"


def test_queue_estimate_follows_trades_and_shrinking_levels() -> None:
    h, tracker = handle()
    tracker.on_answer(h, order("new"))
    tracker.seed_queue(h, 25)  # 25 rest ahead at 100.00 (the book may not show this order yet)
    assert h.queue_ahead == 25
    tracker.on_md_event("md.delta", {"sym": "ACME", "bids": [["100.00", 35]], "asks": []})  # now it does
    assert h.queue_ahead == 25
    tracker.on_md_event("md.trade", {"sym": "ACME", "side": "sell", "price": "100.00", "qty": 5})
    assert h.queue_ahead == 20
    tracker.on_md_event("md.trade", {"sym": "ACME", "side": "buy", "price": "100.00", "qty": 5})  # hit the asks
    tracker.on_md_event("md.trade", {"sym": "BOLT", "side": "sell", "price": "100.00", "qty": 5})
    assert h.queue_ahead == 20
    tracker.on_md_event("md.delta", {"sym": "ACME", "bids": [["100.0", 18]], "asks": []})  # cancels ahead
    assert h.queue_ahead == 8


async def test_cancel_amend_and_refresh_go_through_the_trader() -> None:
    trader = Trader()
    trader.orders = [order("new")]
    h, _ = handle(trader)
    await h.amend(qty=6)
    assert h.qty == 6
    assert trader.asked[0] == ("amend", {"client_order_id": "k1", "price": None, "qty": 6, "timeout": 5.0})
    await h.refresh()
    trader.orders = [order("partially_filled", 2)]
    trader.fills = [{"fill_id": 9, "order_id": 7, "qty": 2}, {"fill_id": 10, "order_id": 8, "qty": 1}]
    await h.refresh()
    assert h.filled_qty == 2 and [f["fill_id"] for f in h.fills] == [9]
    await h.cancel()
    assert h.status == "canceled"
    assert (await h.done(timeout=0.1)) is h


async def test_done_times_out_while_live() -> None:
    h, tracker = handle()
    tracker.on_answer(h, order("new"))
    with pytest.raises(TimeoutError):
        await h.done(timeout=0.01)
