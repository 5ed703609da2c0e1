"""Strategies: one class, run live, in a backtest or from a recording without change.

A strategy subclasses `Strategy` and overrides the hooks it needs. It
trades and reads the market only through its own methods (`buy`, `sell`,
`cancel`, `book`, `position`, `now_ms`, ...), which delegate to a `Broker`:
the live broker wraps a `MarketClient`, the backtest broker an in-process
engine, the replay broker a recording. `StrategyRunner` turns wire events
(`{op, payload}` as the protocol defines them, whichever the source) into
hook calls, one at a time and in arrival order, so a hook may await its own
orders without another hook running meanwhile.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ._envelope import JSON, whole_fill
from ._orders import Order
from ._prices import PriceLike

logger = logging.getLogger("market_client.strategy")


class ReportedAccount:
    """Cash and positions as the server reports them: an `account.get` answer, then `account.update` events."""

    def __init__(self) -> None:
        self.cash = Decimal(0)
        self.positions: dict[str, int] = {}
        """Signed position per symbol."""

    def load(self, account: Mapping[str, Any]) -> None:
        """Take everything from an `account.get` answer."""
        self.cash = Decimal(str(account.get("cash", "0")))
        self.positions = {str(p["sym"]): int(p.get("qty", 0)) for p in account.get("positions", [])}

    def update(self, payload: Mapping[str, Any]) -> None:
        """Follow one `account.update` event (cash, and the position it names)."""
        self.cash = Decimal(str(payload.get("cash", self.cash)))
        position = payload.get("position") or {}
        if "sym" in position:
            self.positions[str(position["sym"])] = int(position.get("qty", 0))


class Broker(ABC):
    """Where a strategy's orders go and its market view comes from (live, backtest or replay)."""

    @abstractmethod
    async def submit(
        self, sym: str, side: str, price: PriceLike | None, qty: int, *, tif: str, type: str, post_only: bool
    ) -> Order:
        """Place an order; returns its handle (raises OrderRejected when refused)."""

    @abstractmethod
    async def cancel_all(self, sym: str | None = None) -> int:
        """Cancel every live order of the strategy's user (of one symbol); returns how many."""

    @abstractmethod
    def symbols(self) -> list[JSON]:
        """The market's symbols as `symbols.list` describes them."""

    @abstractmethod
    def book(self, sym: str, depth: int) -> JSON:
        """{sym, seq, status, bids, asks} as `book.get` answers."""

    @abstractmethod
    def position(self, sym: str) -> int:
        """The strategy's signed position in `sym`."""

    @abstractmethod
    def cash(self) -> Decimal:
        """The strategy's cash."""

    @abstractmethod
    def now_ms(self) -> int:
        """The venue's clock: wall time live, simulated time in a backtest, recorded time in a replay."""

    @abstractmethod
    def open_orders(self) -> list[Order]:
        """The strategy's live order handles."""

    @abstractmethod
    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        """Learn from a private event (positions, cash); returns the strategy's order it concerns, if any."""


class Strategy:
    """Base class of a trading strategy; override the `on_*` hooks you need.

    ```python
    class MyBot(Strategy):
        symbols = ["ACME"]
        timer_s = 1.0

        async def on_timer(self) -> None:
            top = self.best_bid_ask("ACME")
            if top["bid"] is not None and self.position("ACME") < 10:
                await self.buy("ACME", 1, top["bid"])
    ```

    Hooks are awaited one at a time, in event order. Only the methods of
    this class touch the market, so the same file runs live (`market-client
    run`), in a backtest (`market-client backtest`) and over a recording
    (`market-client replay`). Avoid the wall clock and `asyncio.sleep` in a
    strategy that must backtest deterministically: use `now_ms()` and
    `on_timer`.
    """

    symbols: Sequence[str] | None = None
    """The symbols whose books and trades the hooks receive (None: every symbol)."""
    timer_s: float | None = None
    """Seconds (venue time) between `on_timer` calls; None: no timer."""

    def __init__(self) -> None:
        self._broker: Broker | None = None
        self.log = logging.getLogger(f"market_client.strategy.{type(self).__name__}")
        """A logger named after the strategy class."""

    # -- hooks -------------------------------------------------------------------

    async def on_start(self) -> None:
        """Called once, before any other hook; the market is readable."""

    async def on_book(self, sym: str) -> None:
        """A book of one of `symbols` changed; read it with `book(sym)` or `best_bid_ask(sym)`."""

    async def on_trade(self, trade: JSON) -> None:
        """A public trade: {sym, seq, trade_id, price, qty, side (aggressor), ts}."""

    async def on_fill(self, order: Order, fill: JSON) -> None:
        """One of the strategy's orders traded: the fill object; `order` is already updated."""

    async def on_order(self, order: Order) -> None:
        """One of the strategy's orders changed (accepted, filled, canceled, expired, amended, rejected)."""

    async def on_timer(self) -> None:
        """Every `timer_s` seconds of venue time."""

    async def on_stop(self) -> None:
        """Called once at the end; the runner cancels the strategy's orders after it."""

    # -- acting --------------------------------------------------------------------

    @property
    def broker(self) -> Broker:
        """The runner's broker (live, backtest or replay); RuntimeError before the run starts."""
        if self._broker is None:
            raise RuntimeError("the strategy is not attached to a runner yet (use it from on_start on)")
        return self._broker

    async def buy(
        self,
        sym: str,
        qty: int,
        price: PriceLike | None = None,
        *,
        tif: str = "GTC",
        post_only: bool = False,
    ) -> Order:
        """Buy `qty`: a limit order at `price`, or a market order when `price` is None."""
        return await self._order(sym, "buy", qty, price, tif, post_only)

    async def sell(
        self,
        sym: str,
        qty: int,
        price: PriceLike | None = None,
        *,
        tif: str = "GTC",
        post_only: bool = False,
    ) -> Order:
        """Sell `qty`: a limit order at `price`, or a market order when `price` is None."""
        return await self._order(sym, "sell", qty, price, tif, post_only)

    async def _order(self, sym: str, side: str, qty: int, price: PriceLike | None, tif: str, post_only: bool) -> Order:
        kind = "limit" if price is not None else "market"
        return await self.broker.submit(
            sym, side, price, qty, tif=tif if price is not None else "IOC", type=kind, post_only=post_only
        )

    async def cancel(self, order: Order) -> Order:
        """Cancel one of the strategy's orders (exactly once)."""
        return await order.cancel()

    async def cancel_all(self, sym: str | None = None) -> int:
        """Cancel every live order (of one symbol); returns how many were canceled."""
        return await self.broker.cancel_all(sym)

    # -- reading -------------------------------------------------------------------

    def book(self, sym: str, depth: int = 10) -> JSON:
        """{sym, seq, status, bids, asks}, levels [price, qty] best first."""
        return self.broker.book(sym, depth)

    def best_bid_ask(self, sym: str) -> JSON:
        """{sym, bid, bid_qty, ask, ask_qty} (None for an empty side)."""
        book = self.broker.book(sym, 1)
        bid = book["bids"][0] if book["bids"] else [None, None]
        ask = book["asks"][0] if book["asks"] else [None, None]
        return {"sym": sym, "bid": bid[0], "bid_qty": bid[1], "ask": ask[0], "ask_qty": ask[1]}

    def mid(self, sym: str) -> Decimal | None:
        """Mid price of a two-sided book, else None."""
        top = self.best_bid_ask(sym)
        if top["bid"] is None or top["ask"] is None:
            return None
        return (Decimal(top["bid"]) + Decimal(top["ask"])) / 2

    def instrument(self, sym: str) -> JSON:
        """The symbol's `symbols.list` entry: tick, lot, min_qty, ref_price, band_pct, ..."""
        for symbol in self.broker.symbols():
            if symbol["sym"] == sym:
                return symbol
        raise KeyError(f"unknown symbol {sym!r}")

    def round_price(self, sym: str, price: Decimal, *, up: bool = False) -> Decimal:
        """`price` on the symbol's tick (down, or up), so an order is not refused with PRICE_NOT_ON_TICK."""
        tick = Decimal(str(self.instrument(sym)["tick"]))
        steps = (price / tick).to_integral_value(rounding="ROUND_CEILING" if up else "ROUND_FLOOR")
        return (steps * tick).quantize(tick)

    def position(self, sym: str) -> int:
        """Signed position (negative: short)."""
        return self.broker.position(sym)

    @property
    def cash(self) -> Decimal:
        """The strategy's cash, as the venue last reported it."""
        return self.broker.cash()

    def open_orders(self, sym: str | None = None) -> list[Order]:
        """The strategy's live orders."""
        return [o for o in self.broker.open_orders() if sym is None or o.sym == sym]

    def now_ms(self) -> int:
        """Venue time in ms (simulated in a backtest)."""
        return self.broker.now_ms()


class StrategyRunner:
    """Feeds wire events to one strategy's hooks, in order; counts what its hooks raised.

    The source (live client, backtest driver, replay) calls `start`, then
    `deliver` for every MD and CMD event and `tick` for the timer, then
    `stop`. A hook that raises is logged and counted in `errors`; the run
    goes on.
    """

    def __init__(self, strategy: Strategy, broker: Broker) -> None:
        self.strategy = strategy
        self.broker = broker
        strategy._broker = broker
        self.errors = 0
        self.last_error: str | None = None
        """What the newest raising hook raised, e.g. "on_timer: OrderRejected: ... RATE_LIMITED: ..."."""
        self.hooks = 0
        self.fills: list[JSON] = []
        """Every fill of the strategy's orders, in order (what `backtest` and `replay` report)."""
        self._wanted = set(strategy.symbols) if strategy.symbols is not None else None
        self._next_timer: int | None = None

    async def start(self) -> None:
        """Call `on_start` and arm the timer."""
        await self._call("on_start")
        if self.strategy.timer_s is not None:
            self._next_timer = self.broker.now_ms() + int(self.strategy.timer_s * 1000)

    async def deliver(self, op: str, payload: Mapping[str, Any]) -> None:
        """One event as the protocol names it (`md.delta`, `order.filled`, `account.update`, ...)."""
        if op.startswith("md."):
            sym = payload.get("sym")
            if op == "md.heartbeat" or (self._wanted is not None and sym not in self._wanted):
                return
            if op in ("md.delta", "md.snapshot"):
                await self._call("on_book", str(sym))
            elif op == "md.trade":
                await self._call("on_trade", dict(payload))
            return
        order = self.broker.on_cmd_event(op, payload)
        if order is None:
            return
        fill = whole_fill(dict(payload))
        if fill is not None:
            self.fills.append(fill)
            await self._call("on_fill", order, dict(fill))
        await self._call("on_order", order)

    @property
    def next_timer(self) -> int | None:
        """When (venue ms) `on_timer` is due next; None without a timer."""
        return self._next_timer

    async def tick(self) -> None:
        """Call `on_timer` for every timer period that has passed on the venue's clock."""
        if self._next_timer is None or self.strategy.timer_s is None:
            return
        period = max(1, int(self.strategy.timer_s * 1000))
        while self.broker.now_ms() >= self._next_timer:
            self._next_timer += period
            await self._call("on_timer")

    async def stop(self) -> None:
        """`on_stop`, then cancel what the strategy still has resting."""
        await self._call("on_stop")
        try:
            await self.broker.cancel_all()
        except Exception as exc:
            self.errors += 1
            self.last_error = f"cancel on the way out: {type(exc).__name__}: {exc}"
            logger.exception("canceling the strategy's orders on the way out failed")

    async def _call(self, name: str, *args: Any) -> None:
        self.hooks += 1
        try:
            await getattr(self.strategy, name)(*args)
        except Exception as exc:
            self.errors += 1
            self.last_error = f"{name}: {type(exc).__name__}: {exc}"
            logger.exception("%s.%s raised; the run goes on", type(self.strategy).__name__, name)
