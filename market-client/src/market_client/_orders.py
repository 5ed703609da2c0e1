"""Order handles: one object per order, kept current by the CMD events.

`MarketClient.submit_order` returns an `Order` instead of a dict. The
handle is registered under its client_order_id *before* the request goes
out, because the protocol sends a request's own events (accepted, fills)
before its response; from then on every `order.*` event of that order
updates it. Its `queue_ahead` (how much quantity rests ahead of it at its
price) follows MD between answers: trades at the order's price on its
side take from it, and a level that shrinks below it caps it; the exact
figure comes from `orders.list` (`refresh()`, run after every reconnect and
MD resync) and the estimate goes on from there.

`OrderTracker` is the plain, synchronous part: it routes event payloads to
handles and is driven by the client (and by tests) without sockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from ._envelope import JSON, whole_fill
from ._prices import PriceLike

TERMINAL = frozenset({"filled", "canceled", "expired", "rejected"})
"""Statuses after which an order never changes again."""
LIVE = frozenset({"new", "partially_filled"})


class _Trader(Protocol):
    """What a handle needs of its client (MarketClient, or a test double)."""

    async def cancel_order(
        self, order_id: int | None = None, *, client_order_id: str | None = None, timeout: float = 5.0
    ) -> JSON: ...

    async def amend_order(
        self,
        order_id: int | None = None,
        *,
        price: PriceLike | None = None,
        qty: int | None = None,
        client_order_id: str | None = None,
        timeout: float = 5.0,
    ) -> JSON: ...

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[JSON]: ...

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[JSON]: ...


class Order:
    """A live view of one order: status, fills and queue estimate follow the events.

    Read `status`, `filled_qty`, `leaves_qty`, `avg_fill_price`, `fills`,
    `queue_ahead` or the whole last known order object `data`; `await
    done()` waits for a final status; `cancel()` and `amend()` act on it
    (exactly once, like the client's methods). A rejected place leaves the
    handle `rejected` with the server's `error` ({code, message}).
    """

    def __init__(self, trader: _Trader, client_order_id: str, request: Mapping[str, Any]) -> None:
        self._trader = trader
        self.client_order_id = client_order_id
        self.sym: str = str(request["sym"])
        self.side: str = str(request["side"])
        self.data: JSON = {**request, "client_order_id": client_order_id, "status": "pending", "filled_qty": 0}
        """The newest order object the server sent (the request's fields until the first answer)."""
        self.fills: list[JSON] = []
        """Fill objects of this order, in arrival order, without duplicates."""
        self.error: JSON | None = None
        """{code, message} when the exchange rejected the order."""
        self.queue_ahead: int | None = None
        """Estimated quantity resting ahead of this order at its price (None: not resting, or no MD)."""
        self._fill_ids: set[Any] = set()
        self._done = asyncio.Event()

    # -- reading ---------------------------------------------------------------

    @property
    def order_id(self) -> int | None:
        """The exchange's id, once it answered."""
        value = self.data.get("order_id")
        return int(value) if value is not None else None

    @property
    def status(self) -> str:
        """'pending' until the first answer, then the protocol's status (new, partially_filled, filled, ...)."""
        return str(self.data.get("status"))

    @property
    def price(self) -> str | None:
        """The limit price as the server wrote it (None for a market order)."""
        price = self.data.get("price")
        return None if price is None else str(price)

    @property
    def qty(self) -> int:
        """The order's total quantity (amends change it)."""
        return int(self.data.get("qty") or 0)

    @property
    def filled_qty(self) -> int:
        """Quantity traded so far."""
        return int(self.data.get("filled_qty") or 0)

    @property
    def leaves_qty(self) -> int:
        """Quantity still working (0 once final)."""
        if "leaves_qty" in self.data:
            return int(self.data["leaves_qty"] or 0)
        return 0 if self.is_done else self.qty - self.filled_qty

    @property
    def avg_fill_price(self) -> str | None:
        """Average price of the fills so far (None before the first)."""
        value = self.data.get("avg_fill_price")
        return None if value is None else str(value)

    @property
    def is_live(self) -> bool:
        """Resting or partly filled: it can still trade."""
        return self.status in LIVE

    @property
    def is_done(self) -> bool:
        """Filled, canceled, expired or rejected: it will not change again."""
        return self.status in TERMINAL

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id!r}, id={self.order_id}, {self.side} {self.qty} {self.sym} @ {self.price}, "
            f"{self.status}, filled={self.filled_qty})"
        )

    # -- acting ----------------------------------------------------------------

    async def done(self, timeout: float | None = None) -> Order:
        """Wait until the order is filled, canceled, expired or rejected; returns the handle.

        Raises TimeoutError after `timeout` seconds (None: wait as long as it takes).
        """
        await asyncio.wait_for(self._done.wait(), timeout)
        return self

    async def cancel(self, *, timeout: float = 5.0) -> Order:
        """Cancel the order (exactly once); returns the handle, updated by the answer."""
        answer = await self._trader.cancel_order(client_order_id=self.client_order_id, timeout=timeout)
        self.apply_order(answer["order"])
        return self

    async def amend(self, *, price: PriceLike | None = None, qty: int | None = None, timeout: float = 5.0) -> Order:
        """Change price and/or total quantity (exactly once); returns the handle, updated by the answer."""
        answer = await self._trader.amend_order(
            client_order_id=self.client_order_id, price=price, qty=qty, timeout=timeout
        )
        self.apply_order(answer["order"])
        return self

    async def refresh(self) -> Order:
        """Ask the server for the order, its exact queue position and its fills.

        After a reconnect events may have been missed, and the MD estimate of
        `queue_ahead` drifts (it cannot see cancels ahead that leave the
        level above the order's size); `orders.list` gives the true figure.
        """
        orders = await self._trader.list_orders(self.sym, status="all")
        found = [o for o in orders if o.get("client_order_id") == self.client_order_id]
        if found:
            latest = max(found, key=lambda o: int(o.get("order_id") or 0))
            newest = dict(latest)
            exact = newest.pop("queue_ahead", None)
            self.apply_order(newest)
            if self.is_live and isinstance(exact, int):
                self.queue_ahead = exact  # the server's figure replaces the MD estimate, which goes on from it
        if self.order_id is not None:
            for fill in await self._trader.list_fills(self.sym, limit=1000):
                if fill.get("order_id") == self.order_id:
                    self.apply_fill(fill)
        return self

    # -- updating (the tracker calls these) --------------------------------------

    def apply_order(self, order: Mapping[str, Any]) -> None:
        """Take a newer order object; an older one (fewer fills, or live after final) is ignored."""
        if self.is_done and order.get("status") not in TERMINAL:
            return
        if int(order.get("filled_qty") or 0) < self.filled_qty:
            return
        self.data = {**self.data, **order}  # an event's order holds only what changed
        if not self.is_live:
            self.queue_ahead = None
        if self.is_done:
            self._done.set()

    def apply_fill(self, fill: Mapping[str, Any]) -> None:
        """Add a fill object (once: a fill seen again is ignored)."""
        key = fill.get("fill_id", (fill.get("trade_id"), fill.get("ts"), fill.get("qty")))
        if key in self._fill_ids:
            return
        self._fill_ids.add(key)
        self.fills.append(dict(fill))
        if self.queue_ahead is not None:
            self.queue_ahead = 0  # it traded: nothing rests ahead of it any more

    def reject(self, error: Mapping[str, Any]) -> None:
        """The exchange refused the order: keep its {code, message} and end the handle."""
        self.error = dict(error)
        self.apply_order({**self.data, "status": "rejected"})

    def on_level(self, level_qty: int) -> None:
        """The MD quantity at the order's price changed: what is ahead cannot exceed it less the order."""
        ahead = max(0, level_qty - self.leaves_qty)
        self.queue_ahead = ahead if self.queue_ahead is None else min(self.queue_ahead, ahead)

    def on_trade_at_price(self, qty: int) -> None:
        """A trade at the order's price against its side: it took from the front of the queue."""
        if self.queue_ahead is not None:
            self.queue_ahead = max(0, self.queue_ahead - qty)


class OrderTracker:
    """Routes CMD and MD events to the handles that asked for them; holds live handles only."""

    def __init__(self) -> None:
        self.watched: dict[str, Order] = {}
        """The live handles by client_order_id; empty, no event can change one (every order's answer reads this:
        an attribute, since a property is a call into the interpreter on every read)."""

    def watch(self, order: Order) -> None:
        self.watched[order.client_order_id] = order

    def forget(self, order: Order) -> None:
        self.watched.pop(order.client_order_id, None)

    def live(self) -> list[Order]:
        """Handles still tracked (not yet final)."""
        return list(self.watched.values())

    def on_cmd_event(self, op: str, payload: Mapping[str, Any]) -> Order | None:
        """Apply one private event; returns the handle it updated, if any."""
        if not self.watched:
            return None  # no handle to update: the common case of place_order, checked before any lookup
        order_obj = payload.get("order")
        coid = order_obj.get("client_order_id") if isinstance(order_obj, Mapping) else payload.get("client_order_id")
        handle = self.watched.get(str(coid)) if coid is not None else None
        if handle is None:
            return None
        if op == "order.rejected":
            handle.reject(payload.get("error") or {"code": "REJECTED", "message": "rejected"})
        else:
            if isinstance(order_obj, Mapping):
                handle.apply_order(order_obj)
            fill = whole_fill(dict(payload))
            if fill is not None:
                handle.apply_fill(fill)
        if handle.is_done:
            self.forget(handle)
        return handle

    def on_answer(self, handle: Order, order: Mapping[str, Any]) -> None:
        """The response of the handle's own request."""
        handle.apply_order(order)
        if handle.is_done:
            self.forget(handle)

    def on_md_event(self, op: str, payload: Mapping[str, Any]) -> None:
        """Keep queue estimates: level quantities from deltas, front-of-queue trades."""
        if op not in ("md.delta", "md.trade") or not self.watched:
            return
        sym = payload.get("sym")
        for handle in self.watched.values():
            if handle.sym != sym or not handle.is_live or handle.price is None:
                continue
            price = Decimal(handle.price)
            if op == "md.trade":
                resting_side = "sell" if payload.get("side") == "buy" else "buy"
                if handle.side == resting_side and Decimal(str(payload.get("price"))) == price:
                    handle.on_trade_at_price(int(payload.get("qty") or 0))
                continue
            levels = payload.get("bids" if handle.side == "buy" else "asks") or []
            for level_price, level_qty in levels:
                if Decimal(str(level_price)) == price:
                    handle.on_level(int(level_qty))

    def seed_queue(self, handle: Order, level_qty: int | None, shown: bool = False) -> None:
        """Start a resting order's estimate from the local book's quantity at its price.

        `shown`: the book has applied the delta of the order's own command
        (MD can overtake the answer on CMD), so its quantity counts the order.
        Otherwise the book may not show the order yet: assume it does not.
        """
        if handle.is_live and level_qty is not None and handle.queue_ahead is None:
            handle.on_level(level_qty if shown else level_qty + handle.leaves_qty)


class OwnOrders:
    """A strategy's handles by client_order_id.

    Final handles are kept (the newest `keep_done` of them) because the
    events of an order that traded at once are delivered after it is
    already final, and must still find it.
    """

    def __init__(self, keep_done: int = 1024) -> None:
        self._orders: dict[str, Order] = {}
        self._keep_done = keep_done

    def add(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if len(self._orders) > 2 * self._keep_done:
            done = [k for k, o in self._orders.items() if o.is_done]
            for key in done[: len(done) - self._keep_done]:
                del self._orders[key]

    def find(self, payload: Mapping[str, Any]) -> Order | None:
        """The handle a CMD event payload is about, if it is one of ours."""
        order = payload.get("order")
        coid = order.get("client_order_id") if isinstance(order, Mapping) else payload.get("client_order_id")
        return self._orders.get(str(coid)) if coid is not None else None

    def live(self) -> list[Order]:
        return [o for o in self._orders.values() if not o.is_done]
