"""Replays: a recording fed to a strategy, the same way every run.

`market-client replay FILE --strategy bot.py` reads a recording made with
`client.record(path)` (or `market-client run --record FILE`), rebuilds the
books from its MD frames exactly as the client did (same sequence rule,
same resyncs), and delivers its events to the strategy's hooks in the
recorded order, on the recorded clock: `now_ms()` is the frame's time, and
each `on_timer` fires at its own due time exactly (its `now_ms()` is that
time), before the first frame recorded after it. The strategy cannot change a recorded market, so
its orders are answered from the recording: its n-th `order.place` gets the
answer of the n-th recorded one, when it asks for the same thing; then the
recorded events of that order update its handle. A decision that differs
from the recording (another order, or one too many) is refused with
`NOT_IN_RECORDING` and counted in `divergences`. Nothing depends on the
wall clock, so a replay gives the same decisions and fills every run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ._envelope import JSON, EnvelopeError, Event, Response, parse
from ._exceptions import OrderRejected
from ._market import MarketState
from ._orders import Order, OrderTracker, OwnOrders
from ._prices import PriceLike, to_wire_price
from ._record import read_recording
from ._strategy import Broker, ReportedAccount, Strategy, StrategyRunner

ORDER_OPS = ("order.place", "order.cancel", "order.amend", "order.cancel_all")


class ReplayBroker(Broker):
    """The strategy's market in a replay: books from the recorded MD, answers from the recorded CMD."""

    def __init__(self, frames: list[JSON], started_ms: float) -> None:
        self.market = MarketState()
        self.tracker = OrderTracker()
        self.now = int(started_ms)
        self.decisions: list[str] = []
        """What the strategy asked for, in order (`op sym side qty price` or `op ref`)."""
        self.divergences: list[str] = []
        self._orders = OwnOrders()
        self._answers: dict[str, Response] = {}
        self._asked: dict[str, deque[tuple[str, JSON]]] = {op: deque() for op in ORDER_OPS}
        self._symbols: list[JSON] = []
        self._reported = ReportedAccount()
        for entry in frames:
            frame = entry.get("frame")
            if entry.get("sock") != "cmd":
                continue
            if entry.get("dir") == "out":
                if isinstance(frame, dict) and frame.get("op") in self._asked:
                    self._asked[frame["op"]].append((str(frame.get("msg_id")), frame.get("payload") or {}))
                continue
            answer = received(entry)
            if isinstance(answer, Response):
                self._answers[str(answer.corr_id)] = answer
                if answer.ok and answer.op == "symbols.list" and not self._symbols:
                    self._symbols = list(answer.payload.get("symbols", []))
                if answer.ok and answer.op == "account.get" and not self._reported.positions:
                    self._reported.load(answer.payload)

    def _recorded(self, op: str, asked: JSON, same: list[str]) -> JSON:
        """The recorded answer to the strategy's request, when the recording holds the same request next."""
        queue = self._asked[op]
        summary = f"{op} " + " ".join(str(asked.get(k)) for k in same)
        self.decisions.append(summary)
        if not queue:
            self.divergences.append(f"{summary}: the recording has no further {op}")
            raise OrderRejected("NOT_IN_RECORDING", f"the recording has no further {op}", op)
        msg_id, recorded = queue[0]
        if any(_norm(recorded.get(k)) != _norm(asked.get(k)) for k in same):
            self.divergences.append(f"{summary}: the recording has {' '.join(str(recorded.get(k)) for k in same)}")
            raise OrderRejected("NOT_IN_RECORDING", f"the recording's next {op} differs", op)
        queue.popleft()
        answer = self._answers.get(msg_id)
        if answer is None:
            raise OrderRejected("NOT_IN_RECORDING", f"the recording ends before the answer of {op}", op)
        if not answer.ok:
            raise answer.error()
        return {"client_order_id": recorded.get("client_order_id"), **answer.payload}

    # -- feeding ----------------------------------------------------------------------

    def feed_md(self, message: Response | Event) -> bool:
        """Apply one recorded MD message to the books; True when it is an event the strategy should see."""
        if isinstance(message, Response):
            if message.ok and message.op == "md.snapshot":
                self.market.on_snapshot(message.payload)
            return False
        self.market.on_event(message)
        return True

    # -- Broker -------------------------------------------------------------------------

    async def submit(
        self, sym: str, side: str, price: PriceLike | None, qty: int, *, tif: str, type: str, post_only: bool
    ) -> Order:
        wire_price = None if price is None else to_wire_price(price)
        asked = {"sym": sym, "side": side, "type": type, "price": wire_price, "qty": qty}
        answer = self._recorded("order.place", asked, ["sym", "side", "type", "price", "qty"])
        handle = Order(self, str(answer["client_order_id"]), asked)
        self.tracker.watch(handle)
        self.tracker.on_answer(handle, answer["order"])
        self._orders.add(handle)
        return handle

    async def cancel_order(
        self, order_id: int | None = None, *, client_order_id: str | None = None, timeout: float = 5.0
    ) -> JSON:
        asked = {"order_id": order_id, "client_order_id": client_order_id}
        answer = self._recorded("order.cancel", asked, ["client_order_id"] if client_order_id else ["order_id"])
        return {"order": answer["order"]}

    async def amend_order(
        self,
        order_id: int | None = None,
        *,
        price: PriceLike | None = None,
        qty: int | None = None,
        client_order_id: str | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        wire_price = None if price is None else to_wire_price(price)
        asked = {"order_id": order_id, "client_order_id": client_order_id, "price": wire_price, "qty": qty}
        answer = self._recorded("order.amend", asked, ["client_order_id", "price", "qty"])
        return {"order": answer["order"]}

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[JSON]:
        return [o.data for o in self._orders.live() if sym is None or o.sym == sym]

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[JSON]:
        return []

    async def cancel_all(self, sym: str | None = None) -> int:
        if not self._asked["order.cancel_all"]:
            return 0  # the run's own clean-up, when the recording has none
        return int(self._recorded("order.cancel_all", {"sym": sym}, ["sym"]).get("count", 0))

    def symbols(self) -> list[JSON]:
        return self._symbols

    def book(self, sym: str, depth: int) -> JSON:
        book = self.market.book(sym)
        if book is None:
            raise KeyError(f"no market data for {sym!r} in the recording")
        return book.snapshot(depth)

    def position(self, sym: str) -> int:
        return self._reported.positions.get(sym, 0)

    def cash(self) -> Decimal:
        return self._reported.cash

    def now_ms(self) -> int:
        return self.now

    def open_orders(self) -> list[Order]:
        return self._orders.live()

    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        if op == "account.update":
            self._reported.update(payload)
            return None
        self.tracker.on_cmd_event(op, payload)
        return self._orders.find(payload)


def received(entry: Mapping[str, Any]) -> Response | Event | None:
    """A recorded incoming frame read by the SDK's own parser (None when it is not an envelope)."""
    frame = entry.get("frame")
    try:
        return parse(frame if isinstance(frame, str) else orjson.dumps(frame))
    except EnvelopeError:
        return None


def _norm(value: Any) -> Any:
    """Prices compare as decimals ("100.5" is "100.50")."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


@dataclass
class ReplayResult:
    """What a replay did; replaying the same file with the same strategy gives an equal result."""

    events: int = 0
    decisions: list[str] = field(default_factory=list)
    divergences: list[str] = field(default_factory=list)
    fills: list[JSON] = field(default_factory=list)
    hooks: int = 0
    errors: int = 0


async def run_replay(strategy: Strategy, path: str | Path) -> ReplayResult:
    """Feed the recording at `path` to `strategy` (see the module docstring)."""
    header, frames = read_recording(path)
    broker = ReplayBroker(frames, float(header.get("started", 0)))
    runner = StrategyRunner(strategy, broker)
    result = ReplayResult()
    # The live runner starts the strategy once its account is read (the first account.get answer); what
    # arrived before waits in its queue and comes right after on_start. A plain client's recording has no
    # such answer: the strategy starts at the first event.
    incoming = [(entry, message) for entry in frames if entry.get("dir") == "in" and (message := received(entry))]
    loaded = any(isinstance(m, Response) and m.op == "account.get" for e, m in incoming if e.get("sock") == "cmd")
    waiting: list[tuple[str, JSON]] | None = []
    for entry, message in incoming:
        # a timer due before this frame fired live before the frame arrived: before its book change too
        await _timers_until(runner, broker, max(broker.now, int(entry.get("t", broker.now))))
        is_event = isinstance(message, Event)
        if entry.get("sock") == "md":
            is_event = broker.feed_md(message)
        starts = isinstance(message, Response) and message.op == "account.get" if loaded else is_event
        if waiting is not None and starts:
            await runner.start()
            queued, waiting = waiting, None
            for op, payload in queued:
                await runner.deliver(op, payload)
        if not is_event:
            continue
        result.events += 1
        op, payload = message.op, message.payload
        if waiting is not None:
            waiting.append((op, payload))
            continue
        await runner.deliver(op, payload)
    if waiting is None:
        await runner.stop()
    result.decisions, result.divergences = broker.decisions, broker.divergences
    result.fills, result.hooks, result.errors = runner.fills, runner.hooks, runner.errors
    return result


async def _timers_until(runner: StrategyRunner, broker: ReplayBroker, t: int) -> None:
    """Fire every timer due up to `t`, each with the clock at its due time: as live, before the frame at `t`."""
    while (due := runner.next_timer) is not None and due <= t:
        broker.now = due
        await runner.tick()
    broker.now = t
