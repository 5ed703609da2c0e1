"""Backtests: a strategy against the server's own engine and agents, in process, faster than real time.

`market-client backtest mybot.py --seed N --minutes M` builds the venue
`hftsim serve` would (the engine, the shipped or given configuration, the
simulated agents with seed N), lets the agents make a market for a warm-up
period, then runs it for M simulated minutes with the strategy attached.
Time is simulated: the agents wake at their own microseconds, as under
`hftsim serve`, and the strategy's timer fires at its own instants between
them; nothing waits on the wall clock, and every hook runs to completion
before the next event, so the same seed gives the same orders, fills and
results every run.

The strategy sees exactly what it sees live: the wire events of
docs/protocol.md (`md.delta`, `md.trade`, `order.filled`, ...) built from the
engine's events, `Order` handles, and the same `Strategy` methods. The
events of each agent's wake-up reach it before the next wake-up, so it can
act between any two of them; its orders reach the engine at once, and the
events they cause are delivered after the hook that placed them returns, as
the live runner's queue does. Needs the `hftsim` server package (it is installed
with the repository's `make setup`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._envelope import JSON, whole_fill
from ._exceptions import OrderRejected, ServerError
from ._orders import Order, OrderTracker, OwnOrders
from ._prices import PriceLike, to_wire_price
from ._strategy import Broker, Strategy, StrategyRunner

if TYPE_CHECKING:
    from hftsim.engine import Engine, Result
    from hftsim.protocol.render import Renderer

TS0 = 1_764_000_000_000
"""The simulated clock's start (ms since the epoch): fixed, so runs are reproducible."""


class BacktestVenue:
    """The in-process market: engine, agents, renderer, simulated clock and the strategy's account."""

    def __init__(self, seed: int, config: Path | None = None) -> None:
        try:
            from hftsim.config import load
            from hftsim.engine import Engine, OpenAccount
            from hftsim.protocol.render import Renderer
            from hftsim.sim import Simulation
        except ImportError as exc:
            raise RuntimeError(
                "a backtest runs the server's engine in process: install the hftsim package (pip install -e server)"
            ) from exc
        settings = load(config)
        instruments = settings.instruments()
        limits = settings.engine_limits()
        probe = Engine(instruments, limits, initial_cash=0)
        initial_cash = int(settings.accounts.initial_cash.scaleb(probe.cash_decimals))
        self.engine: Engine = Engine(instruments, limits, initial_cash=initial_cash)
        self.render: Renderer = Renderer(self.engine)
        self.sim = Simulation(settings.sim, instruments, seed, limits=limits)
        names = self.sim.agent_names()
        self.sim.bind_users({name: i + 1 for i, name in enumerate(names)}, f"backtest{seed}")
        self.user_id = len(names) + 1
        """The strategy's account."""
        self.now = TS0
        """The venue's clock (ms since the epoch): the simulation's, from `TS0`."""
        for opening in self.sim.open_accounts(self.engine.cash_decimals):
            self.engine.apply(opening, self.now)
        self.engine.apply(OpenAccount(self.user_id, initial_cash), self.now)
        self.symbols = [self.render.symbol(i, None) for i in self.engine.instruments]

    def wake(self, until: int) -> list[Result] | None:
        """The results of the agents' next wake-up due by `until` (venue ms), in order.

        None when none is due by then: the clock then stands at `until`.
        """
        sim, engine = self.sim, self.engine
        commands = sim.wake(engine, until - TS0)
        self.now = TS0 + int(sim.sim_time_ms)
        if commands is None:
            return None
        results = []
        for command in commands:
            result = engine.apply(command, self.now)
            sim.on_result(result)
            results.append(result)
        return results


class BacktestBroker(Broker):
    """The strategy's market in a backtest: commands go straight to the engine."""

    def __init__(self, venue: BacktestVenue, wanted: set[str] | None) -> None:
        self.venue = venue
        self.tracker = OrderTracker()
        self.pending: deque[tuple[str, JSON]] = deque()
        """Wire events waiting for the runner, oldest first."""
        self.fills: list[JSON] = []
        self.submitted = 0
        self._orders = OwnOrders()
        self._wanted = wanted
        self._next_id = 0

    # -- events -------------------------------------------------------------------

    def publish(self, result: Result) -> None:
        """Queue the wire events of one engine result: public ones of wanted symbols, the strategy's private ones."""
        from ._wire import private_event, public_event

        render, wanted, me = self.venue.render, self._wanted, self.venue.user_id
        for index, ev in enumerate(result.wire_events()):
            public = public_event(render, ev, (result.seq, index))
            if public is not None:
                if wanted is None or public[0] in wanted:
                    self.pending.append(public[1:])
                continue
            private = private_event(render, ev, (result.seq, index))
            if private is not None and private[0] == me:
                _, op, payload = private
                fill = whole_fill(payload)
                if fill is not None:
                    self.fills.append(fill)
                self.tracker.on_cmd_event(op, payload)
                self.pending.append((op, payload))

    def _apply(self, command: Any, op: str, error: type[ServerError] = ServerError) -> Result:
        venue = self.venue
        result = venue.engine.apply(command, venue.now)
        venue.sim.on_result(result)  # the agents see the strategy's trades too
        self.publish(result)
        if result.rejection is not None:
            raise error(result.rejection.code.value, result.rejection.message, op)
        return result

    def _build(self, kind: Any, values: tuple[Any, ...], op: str, error: type[ServerError], filled: int = 0) -> Any:
        """The command of `kind` from the strategy's `values`, or the engine's refusal of a value of the wrong type
        raised as `error` (a compiled command could not even be built from it)."""
        from hftsim.engine import field_refusal

        known = [i.sym for i in self.venue.engine.instruments]
        refusal = field_refusal(kind, values, known, filled)
        if refusal is not None:
            raise error(refusal.code.value, refusal.message, op)
        return kind(*values)

    def _ticks(self, sym: str, price: PriceLike | None) -> int | None:
        if price is None:
            return None
        instrument = self.venue.engine.instrument(sym)
        if instrument is None:
            raise OrderRejected("UNKNOWN_SYMBOL", f"unknown symbol {sym!r}", "order.place")
        from hftsim.engine.instruments import PriceError

        try:
            return instrument.to_ticks(to_wire_price(price))
        except PriceError as exc:
            raise OrderRejected(exc.code.value, exc.message, "order.place") from None

    # -- Broker ---------------------------------------------------------------------

    async def submit(
        self, sym: str, side: str, price: PriceLike | None, qty: int, *, tif: str, type: str, post_only: bool
    ) -> Order:
        from hftsim.engine import OrderType, PlaceOrder, Side, Tif

        self.submitted += 1
        self._next_id += 1
        coid = f"bt-{self._next_id}"
        wire_price = None if price is None else to_wire_price(price)
        handle = Order(self, coid, {"sym": sym, "side": side, "type": type, "price": wire_price, "qty": qty})
        self.tracker.watch(handle)
        ticks = self._ticks(sym, price)
        kind, time_in_force = OrderType(type), Tif(tif)
        fields = (self.venue.user_id, sym, Side(side), qty, ticks, kind, time_in_force, post_only, coid)
        try:
            command = self._build(PlaceOrder, fields, "order.place", OrderRejected)
            result = self._apply(command, "order.place", OrderRejected)
        except ServerError as exc:
            handle.reject({"code": exc.code, "message": exc.message})
            self.tracker.forget(handle)
            raise
        assert result.order is not None
        self.tracker.on_answer(handle, self.venue.render.order(result.order))
        self._orders.add(handle)
        return handle

    async def cancel_order(
        self, order_id: int | None = None, *, client_order_id: str | None = None, timeout: float = 5.0
    ) -> JSON:
        from hftsim.engine import CancelOrder

        command = self._build(CancelOrder, (self.venue.user_id, order_id, client_order_id), "order.cancel", ServerError)
        result = self._apply(command, "order.cancel")
        assert result.order is not None
        return {"order": self.venue.render.order(result.order)}

    async def amend_order(
        self,
        order_id: int | None = None,
        *,
        price: PriceLike | None = None,
        qty: int | None = None,
        client_order_id: str | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        from hftsim.engine import AmendOrder

        own = self._orders.find({"client_order_id": client_order_id}) if client_order_id is not None else None
        order = self.venue.engine.order(order_id) if order_id is not None else None
        sym = own.sym if own is not None else order.sym if order is not None else ""
        fields = (self.venue.user_id, order_id, client_order_id, self._ticks(sym, price), qty)
        filled = order.filled_qty if order is not None else own.filled_qty if own is not None else 0
        command = self._build(AmendOrder, fields, "order.amend", OrderRejected, filled)
        result = self._apply(command, "order.amend", OrderRejected)
        assert result.order is not None
        return {"order": self.venue.render.order(result.order)}

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[JSON]:
        engine = self.venue.engine
        orders = (
            engine.open_orders(self.venue.user_id, sym)
            if status == "open"
            else engine.recent_orders(self.venue.user_id, sym)
        )
        return [self.venue.render.order(o) for o in orders]

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[JSON]:
        return [f for f in self.fills if sym is None or f["sym"] == sym][-limit:]

    async def cancel_all(self, sym: str | None = None) -> int:
        from hftsim.engine import CancelAll

        command = self._build(CancelAll, (self.venue.user_id, sym), "order.cancel_all", ServerError)
        return len(self._apply(command, "order.cancel_all").canceled)

    def symbols(self) -> list[JSON]:
        return self.venue.symbols

    def book(self, sym: str, depth: int) -> JSON:
        engine, render = self.venue.engine, self.venue.render
        bids, asks = engine.book_levels(sym, depth)
        return {
            "sym": sym,
            "seq": engine.md_seq(sym),
            "status": engine.status(sym).value,
            "bids": render.levels(sym, bids),
            "asks": render.levels(sym, asks),
        }

    def position(self, sym: str) -> int:
        return self.venue.engine.position(self.venue.user_id, sym).qty

    def cash(self) -> Decimal:
        return Decimal(self.venue.render.cash(self.venue.engine.cash(self.venue.user_id)))

    def now_ms(self) -> int:
        return self.venue.now

    def open_orders(self) -> list[Order]:
        return self._orders.live()

    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        return self._orders.find(payload)

    def pnl(self) -> Decimal:
        """Cash gained since the start plus open positions marked to the last trade."""
        engine, me = self.venue.engine, self.venue.user_id
        pnl = engine.cash(me) - engine.opening_cash(me)
        for position in engine.positions(me):
            last = engine.last_price(position.sym)
            pnl += position.cost + self.venue.render.unrealized(position, last)
        return Decimal(self.venue.render.cash(pnl))


@dataclass
class BacktestResult:
    """What a backtest did; equal seeds and strategies give equal results (bar `wall_s`)."""

    seed: int
    minutes: float
    orders: int = 0
    fills: list[JSON] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    cash: str = "0"
    pnl: str = "0"
    hooks: int = 0
    errors: int = 0
    wakes: int = 0
    """The agents' wake-ups while the strategy ran."""
    wall_s: float = 0.0

    @property
    def speedup(self) -> float:
        """Simulated time over wall time."""
        return self.minutes * 60 / self.wall_s if self.wall_s > 0 else float("inf")


async def run_backtest(
    strategy: Strategy,
    *,
    seed: int = 1,
    minutes: float = 5.0,
    warmup_s: float = 30.0,
    config: Path | None = None,
) -> BacktestResult:
    """Run `strategy` for `minutes` of simulated time after a `warmup_s` market warm-up (see the module doc)."""
    started = time.perf_counter()
    venue = BacktestVenue(seed, config)
    while venue.wake(TS0 + int(warmup_s * 1000)) is not None:
        pass
    warm_wakes = venue.sim.wakes
    wanted = set(strategy.symbols) if strategy.symbols is not None else None
    broker = BacktestBroker(venue, wanted)
    runner = StrategyRunner(strategy, broker)

    async def drain() -> None:
        while broker.pending:
            op, payload = broker.pending.popleft()
            await runner.deliver(op, payload)

    await runner.start()
    await drain()
    end = venue.now + int(minutes * 60_000)
    while venue.now < end:
        timer = runner.next_timer
        until = end if timer is None or timer <= venue.now else min(end, timer)
        while (results := venue.wake(until)) is not None:
            for result in results:
                broker.publish(result)
            await drain()
        await runner.tick()
        await drain()
    await runner.stop()  # what stopping cancels is not delivered: the run is over, as live
    engine = venue.engine
    return BacktestResult(
        seed=seed,
        minutes=minutes,
        orders=broker.submitted,
        fills=list(runner.fills),
        positions={p.sym: p.qty for p in engine.positions(venue.user_id) if p.qty},
        cash=str(broker.cash()),
        pnl=str(broker.pnl()),
        hooks=runner.hooks,
        errors=runner.errors,
        wakes=venue.sim.wakes - warm_wakes,
        wall_s=time.perf_counter() - started,
    )
