"""StrategyRunner without a venue: which hooks run, in what order, and what survives a raising hook."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from market_client import Broker, Order, Strategy, StrategyRunner
from market_client._prices import PriceLike


class ScriptedBroker(Broker):
    """A broker whose clock and books the test sets; orders are recorded, never matched."""

    def __init__(self) -> None:
        self.clock = 1_000
        self.orders: dict[str, Order] = {}
        self.canceled_all = 0

    async def submit(
        self, sym: str, side: str, price: PriceLike | None, qty: int, *, tif: str, type: str, post_only: bool
    ) -> Order:
        order = Order(self, f"k{len(self.orders)}", {"sym": sym, "side": side, "price": str(price), "qty": qty})
        self.orders[order.client_order_id] = order
        return order

    async def cancel_all(self, sym: str | None = None) -> int:
        self.canceled_all += 1
        return 0

    # What an order handle may ask of its client: the strategies here never do.
    async def cancel_order(self, order_id: int | None = None, **kw: Any) -> dict[str, Any]:
        raise AssertionError("a handle asked to cancel")

    async def amend_order(self, order_id: int | None = None, **kw: Any) -> dict[str, Any]:
        raise AssertionError("a handle asked to amend")

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[dict[str, Any]]:
        raise AssertionError("a handle asked for the orders")

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        raise AssertionError("a handle asked for the fills")

    def symbols(self) -> list[dict[str, Any]]:
        return [{"sym": "ACME", "tick": "0.05"}]

    def book(self, sym: str, depth: int) -> dict[str, Any]:
        return {"sym": sym, "seq": 1, "status": "trading", "bids": [["99.00", 5]], "asks": [["101.00", 2]]}

    def position(self, sym: str) -> int:
        return 3

    def cash(self) -> Decimal:
        return Decimal("10.5")

    def now_ms(self) -> int:
        return self.clock

    def open_orders(self) -> list[Order]:
        return list(self.orders.values())

    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        order = payload.get("order") or {}
        handle = self.orders.get(str(order.get("client_order_id")))
        if handle is not None:
            handle.apply_order(order)
            if "fill" in payload:
                handle.apply_fill(payload["fill"])
        return handle


class Recorder(Strategy):
    symbols = ("ACME",)
    timer_s = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def on_start(self) -> None:
        self.calls.append("start")
        self.placed = await self.buy("ACME", 1, "99.00")

    async def on_book(self, sym: str) -> None:
        self.calls.append(f"book {sym} {self.best_bid_ask(sym)['bid']} {self.mid(sym)}")
        raise RuntimeError("a bug in the strategy")

    async def on_trade(self, trade: dict[str, Any]) -> None:
        self.calls.append(f"trade {trade['qty']}")

    async def on_fill(self, order: Order, fill: dict[str, Any]) -> None:
        self.calls.append(f"fill {order.client_order_id} {fill['qty']} {order.status}")

    async def on_order(self, order: Order) -> None:
        self.calls.append(f"order {order.status}")

    async def on_timer(self) -> None:
        self.calls.append(f"timer {self.now_ms()}")

    async def on_stop(self) -> None:
        self.calls.append("stop")


async def test_hooks_run_in_event_order_and_a_raising_hook_does_not_stop_the_run() -> None:
    broker = ScriptedBroker()
    bot = Recorder()
    runner = StrategyRunner(bot, broker)
    await runner.start()
    await runner.deliver("md.delta", {"sym": "ACME", "seq": 2, "bids": [], "asks": []})
    await runner.deliver("md.delta", {"sym": "BOLT", "seq": 2, "bids": [], "asks": []})  # not subscribed
    await runner.deliver("md.heartbeat", {"seqs": {}})
    await runner.deliver("md.trade", {"sym": "ACME", "qty": 4, "price": "100.00"})
    order = {"client_order_id": "k0", "status": "partially_filled", "filled_qty": 1, "qty": 1}
    await runner.deliver("order.partially_filled", {"order": order, "fill": {"fill_id": 1, "qty": 1}})
    await runner.deliver("order.accepted", {"order": {"client_order_id": "elsewhere", "status": "new"}})
    broker.clock += 1_200  # two timer periods
    await runner.tick()
    await runner.stop()
    assert bot.calls == [
        "start",
        "book ACME 99.00 100.00",
        "trade 4",
        "fill k0 1 partially_filled",
        "order partially_filled",
        "timer 2200",
        "timer 2200",
        "stop",
    ]
    assert runner.errors == 1 and broker.canceled_all == 1
    assert [f["qty"] for f in runner.fills] == [1]
    assert bot.position("ACME") == 3 and bot.cash == Decimal("10.5")
    assert bot.round_price("ACME", Decimal("100.07")) == Decimal("100.05")
    assert bot.round_price("ACME", Decimal("100.07"), up=True) == Decimal("100.10")
    assert bot.open_orders("ACME") == [bot.placed] and bot.open_orders("BOLT") == []
