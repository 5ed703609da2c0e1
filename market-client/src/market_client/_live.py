"""Running a strategy against a live server: `market-client run` and `run_live`.

`LiveBroker` is the strategy's market over one `MarketClient`: orders are
`submit_order` handles, books are the client's MD-maintained books,
positions and cash start from `account.get` and follow `account.update`
events. `run_live` connects, queues every MD and CMD event for one task
that feeds the `StrategyRunner` (a hook that awaits its own order never
holds up the socket readers), fires the timer, and on the way out calls
`on_stop`, cancels the strategy's orders and closes the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._client import MarketClient
from ._envelope import JSON
from ._orders import Order, OwnOrders
from ._prices import PriceLike
from ._strategy import Broker, ReportedAccount, Strategy, StrategyRunner


class LiveBroker(Broker):
    """A strategy's market over a connected MarketClient."""

    def __init__(self, client: MarketClient) -> None:
        self.client = client
        self._symbols: list[JSON] = []
        self._orders = OwnOrders()
        self._reported = ReportedAccount()
        self.account: JSON = {}
        """The newest `account.get` answer (for PnL)."""
        self.latencies_ms: deque[float] = deque(maxlen=200)
        """Round trips of the strategy's order requests, newest last."""
        self.submitted = 0
        """Orders the strategy sent (refused ones included)."""

    async def load(self) -> None:
        """Read symbols, cash and positions from the server (at start)."""
        self._symbols = await self.client.get_symbols()
        await self.refresh_account()

    async def refresh_account(self) -> None:
        """Ask the server for cash, PnL and positions now (the view does, once a second)."""
        self.account = await self.client.get_account()
        self._reported.load(self.account)

    async def submit(
        self, sym: str, side: str, price: PriceLike | None, qty: int, *, tif: str, type: str, post_only: bool
    ) -> Order:
        self.submitted += 1
        started = time.perf_counter()
        order = await self.client.submit_order(sym, side, price, qty, tif, type=type, post_only=post_only)
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self._orders.add(order)
        return order

    async def cancel_all(self, sym: str | None = None) -> int:
        return int((await self.client.cancel_all(sym))["count"])

    def symbols(self) -> list[JSON]:
        return self._symbols

    def book(self, sym: str, depth: int) -> JSON:
        return self.client.book_snapshot(sym, depth)

    def position(self, sym: str) -> int:
        return self._reported.positions.get(sym, 0)

    def cash(self) -> Decimal:
        return self._reported.cash

    def positions(self) -> dict[str, int]:
        """Every symbol's signed position, as last reported."""
        return dict(self._reported.positions)

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def open_orders(self) -> list[Order]:
        return self._orders.live()

    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        if op == "account.update":
            self._reported.update(payload)
            return None
        return self._orders.find(payload)

    def latency(self) -> dict[str, float | None]:
        """{last, median, p99} of the order round trips in ms (None before the first)."""
        values = list(self.latencies_ms)
        if not values:
            return {"last": None, "median": None, "p99": None}
        ordered = sorted(values)
        return {
            "last": values[-1],
            "median": statistics.median(values),
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        }


@dataclass
class RunSummary:
    """What a run did, printed at its end and returned to callers."""

    hooks: int = 0
    errors: int = 0
    orders: int = 0
    fills: list[JSON] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    cash: str = "0"
    canceled_on_exit: bool = True
    last_error: str | None = None
    """What the newest raising hook raised (a refusal such as RATE_LIMITED names its code)."""


async def run_live(
    strategy: Strategy,
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    stop: asyncio.Event | None = None,
    duration_s: float | None = None,
    on_tick: Callable[[LiveBroker, StrategyRunner], Awaitable[None] | None] | None = None,
    record: str | Path | None = None,
) -> RunSummary:
    """Run `strategy` on the server at `url` until `stop` is set or `duration_s` passes.

    Logs in as `username` (a new guest when None). `on_tick` is called
    about every 0.2 s with the broker and runner (the terminal view uses
    it). `record` writes the session's frames to that file (see
    `MarketClient.record`) for `market-client replay`. Every event reaches
    the hooks, in arrival order (none is merged away), so a replay of the
    recording sees what the live run saw. On the way out: `on_stop`, then every resting order of the user is
    canceled, then the client is closed, whatever happened before.
    """
    stop = stop if stop is not None else asyncio.Event()
    queue: asyncio.Queue[tuple[str, JSON]] = asyncio.Queue()

    def event(event: JSON) -> None:
        queue.put_nowait((str(event.get("op")), event.get("payload") or {}))

    client = MarketClient(url, on_md_event=event, username=username, password=password)
    recording = client.record(record) if record is not None else None
    try:
        await client.__aenter__()
    except BaseException:
        if recording is not None:
            recording.close()
        raise
    client.set_event_hook(event)
    broker = LiveBroker(client)
    runner = StrategyRunner(strategy, broker)
    loop = asyncio.get_running_loop()
    ends = loop.time() + duration_s if duration_s is not None else None
    try:
        await broker.load()
        await runner.start()
        next_view = loop.time()
        while not stop.is_set() and (ends is None or loop.time() < ends):
            with contextlib.suppress(TimeoutError):
                op, payload = await asyncio.wait_for(queue.get(), _until_timer(runner, broker))
                await runner.deliver(op, payload)
            await runner.tick()
            if on_tick is not None and loop.time() >= next_view:
                next_view = loop.time() + 0.2
                result = on_tick(broker, runner)
                if result is not None:
                    await result
    finally:
        summary = RunSummary()
        try:
            await runner.stop()
            with contextlib.suppress(Exception):
                await broker.refresh_account()
                summary.canceled_on_exit = not await client.list_orders()
        finally:
            await client.aclose()
            if recording is not None:
                recording.close()
        summary.hooks, summary.errors, summary.fills = runner.hooks, runner.errors, runner.fills
        summary.orders = broker.submitted
        summary.last_error = runner.last_error
        summary.positions = {s: q for s, q in broker.positions().items() if q}
        summary.cash = str(broker.cash())
    return summary


def _until_timer(runner: StrategyRunner, broker: LiveBroker) -> float:
    """How long to wait for an event: until the strategy's timer is due, 0.05 s at most (the view's pace)."""
    due = runner.next_timer
    return 0.05 if due is None else min(0.05, max(0.0, (due - broker.now_ms()) / 1000))
