"""MarketClient: the high-level SDK the user described.

State lives in plain objects updated by events and read synchronously
(books, candles, symbol statuses, the transactions buffer), as in
ib_async; keeping the links up is `SessionKeeper`'s work. Every method that
needs the server goes over the one CMD socket, except `handshake` and
`api_request`, which use HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any

from . import _http
from ._admin import Admin
from ._book import OrderBook
from ._callbacks import Callback, CallbackRunner
from ._envelope import JSON, RESTATED, Event, Response, envelope_of, now_ms, restated
from ._exceptions import (
    ClientClosed,
    ConnectionLost,
    InvalidPrice,
    MarketClientError,
    MarketConnectionError,
    OutcomeUnknown,
    RequestTimeout,
    ServerError,
    StaleBook,
)
from ._keeper import SessionKeeper
from ._market import MarketState
from ._orders import Order, OrderTracker
from ._pacing import Pacer, Turns
from ._prices import PriceLike, to_wire_price
from ._record import Recording
from ._recovery import State
from ._ring import RingBuffer
from ._session import RequestSession
from ._timeline import Timeline

RECONNECTING = frozenset({"connecting", "reconnecting"})
"""States in which a request that must take effect once waits for the link rather than failing."""


class MarketClient:
    """An async client of one HFT Simulator server.

    Use ``client = await MarketClient.connect(url)`` (and ``await
    client.aclose()`` at the end), or ``async with MarketClient(url) as
    client:`` which connects on entry and closes on exit. A client from
    ``connect()`` is an async context manager too, so ``async with await
    MarketClient.connect(url) as client:`` works as well.
    """

    def __init__(
        self,
        base_url: str,
        connect_md: bool = True,
        on_md_event: Callback | None = None,
        on_cmd_event: Callback | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        request_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        reconnect_delay: tuple[float, float] = (0.1, 5.0),
        on_state_change: Callback | None = None,
        transactions_capacity: int = 1000,
        liveness_timeout: float | None = 5.0,
        recover_timeout: float = 30.0,
        pace: bool = True,
        gateways: Sequence[str] = (),
    ) -> None:
        """Prepare a client; nothing touches the network until connect/`async with`.

        `reconnect_delay` is (first, longest) pause in seconds between
        reconnect attempts; the pause doubles each time, with jitter.
        `liveness_timeout` is how long a socket may stay silent (no frame at
        all, although MD heartbeats every second and an idle socket is
        pinged) before the client declares the link dead and reconnects;
        None turns the watchdog off. `recover_timeout` is how long
        place_order / cancel_order keep trying to learn the outcome of a
        request whose answer was lost before raising OutcomeUnknown.
        `pace` (default on) keeps requests under the message rate the server
        announces at login, waiting a moment rather than being refused with
        RATE_LIMITED; `pace=False` sends at once, for clients that pace
        themselves. `gateways` lists the other gateways of a venue run as a
        cluster: the client starts on the first of `base_url` and them that
        answers, and when a reconnect attempt fails it tries the next one in
        turn, with the same session, orders and resynced books.
        """
        self._pacer = Pacer() if pace else None
        self._turns = Turns()
        self.base_url = base_url.rstrip("/")
        self.market = MarketState()
        """Books and candles maintained from MD (read it synchronously)."""
        self._on_md_event = on_md_event
        self._on_cmd_event = on_cmd_event
        self._on_state_change = on_state_change
        self._event_hook: Callback | None = None
        self._transactions: RingBuffer[JSON | str | bytes] = RingBuffer(transactions_capacity)
        """CMD events as their frames where they have one (`Event.frame`), made envelopes again when read."""
        self._symbols: list[JSON] | None = None
        self._callbacks = CallbackRunner()
        self._recover_timeout = recover_timeout
        self._keeper = SessionKeeper(
            self.base_url,
            self.market,
            username=username,
            password=password,
            connect_md=connect_md,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            reconnect_delay=reconnect_delay,
            liveness_timeout=liveness_timeout,
            on_cmd_event=self._cmd_event,
            on_cmd_answer=self._cmd_answer,
            on_md_event=self._md_event,
            on_state=self._state_changed,
            on_resynced=self._resynced,
            gateways=gateways,
        )
        self._connected = asyncio.Event()
        self._orders = OrderTracker()
        self._timelines: list[Timeline] = []

    # -- connecting and closing ------------------------------------------------

    @classmethod
    async def connect(
        cls,
        base_url: str,
        connect_md: bool = True,
        on_md_event: Callback | None = None,
        on_cmd_event: Callback | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        request_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        reconnect_delay: tuple[float, float] = (0.1, 5.0),
        on_state_change: Callback | None = None,
        transactions_capacity: int = 1000,
        liveness_timeout: float | None = 5.0,
        recover_timeout: float = 30.0,
        pace: bool = True,
        gateways: Sequence[str] = (),
    ) -> MarketClient:
        """Handshake -> open CMD -> log in -> subscribe MD (all symbols), in one call.

        Without a username the client logs in as a new guest. The keyword
        arguments are those of the constructor.
        """
        client = cls(
            base_url,
            connect_md,
            on_md_event,
            on_cmd_event,
            username=username,
            password=password,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            reconnect_delay=reconnect_delay,
            on_state_change=on_state_change,
            transactions_capacity=transactions_capacity,
            liveness_timeout=liveness_timeout,
            recover_timeout=recover_timeout,
            pace=pace,
            gateways=gateways,
        )
        await client._start()
        return client

    async def _start(self) -> None:
        try:
            await self._keeper.start()
        except BaseException:
            await self.aclose()
            raise

    async def __aenter__(self) -> MarketClient:
        if self._keeper.state == "disconnected":
            await self._start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close sockets, stop reconnects, renewals, resyncs and timelines; fail pending requests. Idempotent."""
        for timeline in list(self._timelines):
            timeline.close()
        await self._keeper.aclose()
        await self._callbacks.aclose()

    @property
    def state(self) -> State:
        """'disconnected', 'connecting', 'connected', 'reconnecting', 'resyncing' or 'closed'."""
        return self._keeper.state

    def set_state_hook(self, handler: Callback | None) -> None:
        """Call `handler(state)` (sync or async) on every state change."""
        self._on_state_change = handler

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Return once the client is (again) fully connected; raise TimeoutError otherwise."""
        if self.state != "connected":
            await asyncio.wait_for(self._connected.wait(), timeout)

    @property
    def limits(self) -> JSON | None:
        """The limits the server announced at login (message rates, order size, position, open orders,
        resting volume, notional; docs/protocol.md), or None before login."""
        user = self._keeper.user
        limits = user.get("limits") if user else None
        return limits if isinstance(limits, dict) else None

    @property
    def admin(self) -> Admin:
        """Admin helpers (sim control, snapshots); they need a user with the admin role."""
        return Admin(self)

    @property
    def token(self) -> str | None:
        """The current session token (renewed automatically)."""
        return self._keeper.token

    @property
    def user(self) -> JSON | None:
        """{user_id, username, roles, is_admin} of the logged-in user, or None."""
        return self._keeper.user

    @property
    def resync_counts(self) -> dict[str, int]:
        """How many times each symbol's book was resynced after an MD gap."""
        return dict(self.market.resyncs)

    # -- low level -------------------------------------------------------------

    async def handshake(
        self,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        guest: bool = False,
    ) -> JSON:
        """POST /auth/handshake: a new token (or renew `token`); the client adopts it."""
        body: JSON = {}
        if token is not None:
            body["token"] = token
        if username is not None:
            body.update(username=username, password=password)
        if guest:
            body["guest"] = True
        return await self._keeper.handshake(body)

    async def server_info(self) -> JSON:
        """GET /api/info: facts anyone may read before logging in, e.g. `{"guests": true}` (guest logins allowed)."""
        return await _http.server_info(self._keeper.http, self._keeper.base_url, self._keeper.connect_timeout)

    async def api_request(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        as_role: str | None = None,
        timeout: float | None = None,
    ) -> JSON:
        """One request over HTTP (`POST /api/request`); returns the response payload."""
        return (await self._keeper.api_request(op, dict(payload or {}), as_role, timeout)).payload

    async def open_cmd(self) -> RequestSession:
        """Open the CMD socket with the current token; events go to the transactions buffer."""
        return await self._keeper.open_cmd()

    async def open_md(self) -> RequestSession:
        """Open MD, subscribe to all symbols and wait for their snapshots."""
        return await self._keeper.open_md()

    async def login(self) -> JSON:
        """auth.login over CMD with the client's credentials (guest when none)."""
        return await self._keeper.login()

    # -- requests ----------------------------------------------------------------

    async def send(
        self, op: str, payload: Mapping[str, Any] | None = None, as_role: str | None = None, timeout: float = 5.0
    ) -> JSON:
        """Send any request over CMD and return its response payload.

        Raises ServerError (or AuthenticationError / OrderRejected) when the
        server refuses, RequestTimeout after `timeout` seconds,
        ConnectionLost when CMD drops meanwhile, MarketConnectionError when
        CMD is down (reconnecting) at the time of the call.
        """
        msg_id = self._keeper.envelopes.next_id()
        return (await self._request(op, dict(payload or {}), as_role, timeout, msg_id)).payload

    async def get_symbols(self, force_refresh: bool = False) -> list[JSON]:
        """Every symbol {sym, tick, min_qty, lot, status, ...}; cached, statuses kept current by MD."""
        if self._symbols is None or force_refresh:
            self._symbols = list((await self.send("symbols.list")).get("symbols", []))
        for symbol in self._symbols:
            status = self.market.statuses.get(symbol["sym"])
            if status is not None:
                symbol["status"] = status
        return [dict(s) for s in self._symbols]

    async def get_book(self, sym: str, depth: int = 20) -> JSON:
        """The server's book now (`book.get`): {sym, seq, status, bids, asks}, best first."""
        return await self.send("book.get", {"sym": sym, "depth": depth})

    async def configure_candles(self, sym: str, interval_ms: int = 1000, depth: int = 50) -> list[JSON]:
        """Start a candle window for `sym` seeded from the server; MD trades extend it.

        Returns the seeded candles (as `get_candles` would). Reconnects and
        MD gaps re-seed the window, since trades may have been missed.
        """
        self.market.configure_candles(sym, interval_ms, depth)
        await self._keeper.seed_candles(sym)
        return self.get_candles(sym)

    def get_candles(self, sym: str) -> list[JSON]:
        """Candles {t, o, h, l, c, v}, oldest first, without holes up to now; [] when not configured."""
        return self.market.candle_entries(sym, now_ms())

    async def place_order(
        self,
        sym: str,
        side: str,
        price: PriceLike | None,
        qty: int,
        tif: str = "GTC",
        *,
        type: str = "limit",
        post_only: bool = False,
        client_order_id: str | None = None,
        as_role: str | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        """Place an order exactly once; returns {"order": Order}. A refusal raises OrderRejected.

        `price` is a str, int or Decimal (a float raises InvalidPrice); it
        must be None for `type="market"`. Without a `client_order_id` the
        client makes one up, so that when the answer is lost (the link
        drops, or `timeout` passes) it can look the order up after
        reconnecting: it returns the order found, and sends again (as a
        copy the server recognises) only when there is none. OutcomeUnknown
        when that takes longer than `recover_timeout`.
        """
        if price is None and type == "limit":
            raise InvalidPrice("a limit order needs a price")
        keeper = self._keeper
        msg_id = keeper.envelopes.next_id()
        coid = msg_id if client_order_id is None else client_order_id  # unique per client, as a msg_id must be
        payload: JSON = {"sym": sym, "side": side, "qty": qty, "client_order_id": coid}
        if price is not None:
            payload["price"] = to_wire_price(price)
        if type != "limit" or tif != "GTC" or post_only:  # the protocol's defaults go unsaid: a smaller request
            payload.update(type=type, tif=tif, post_only=post_only)
        session = keeper.ready
        if session is None:  # not connected: exactly-once's checks, and its wait for a reconnect under way
            placed = partial(_placed, coid)
            return await self._exactly_once("order.place", payload, as_role, timeout, sym, placed, msg_id)
        # `_exactly_once` written out for a connected client, the case every bot's latency is measured on: no
        # state to check, and the answer resumes this coroutine alone, with no other between it and the session.
        try:
            return (await self._request("order.place", payload, as_role, timeout, msg_id, session)).payload
        except ClientClosed:
            raise
        except (ConnectionLost, RequestTimeout) as exc:
            lost: Exception = exc
        return await self._recover("order.place", payload, as_role, timeout, sym, partial(_placed, coid), msg_id, lost)

    async def submit_order(
        self,
        sym: str,
        side: str,
        price: PriceLike | None,
        qty: int,
        tif: str = "GTC",
        *,
        type: str = "limit",
        post_only: bool = False,
        client_order_id: str | None = None,
        as_role: str | None = None,
        timeout: float = 5.0,
    ) -> Order:
        """Place an order like `place_order`, but return an `Order` handle that the events keep current.

        `await order.done()` waits for its final status; `order.cancel()`
        and `order.amend(...)` act on it; `order.fills` and
        `order.queue_ahead` follow the CMD and MD events. A refusal raises
        OrderRejected, as place_order does.
        """
        coid = client_order_id if client_order_id is not None else self._keeper.envelopes.next_id()
        request = {"sym": sym, "side": side, "type": type, "qty": qty, "tif": tif, "post_only": post_only}
        handle = Order(self, coid, {**request, "price": None if price is None else to_wire_price(price)})
        self._orders.watch(handle)  # before sending: the order's events come before its answer
        try:
            answer = await self.place_order(
                sym, side, price, qty, tif, type=type, post_only=post_only, client_order_id=coid,
                as_role=as_role, timeout=timeout,
            )  # fmt: skip
        except ServerError as exc:
            handle.reject({"code": exc.code, "message": exc.message})
            self._orders.forget(handle)
            raise
        except BaseException:
            self._orders.forget(handle)
            raise
        self._orders.on_answer(handle, answer["order"])
        book = self.market.book(sym)
        if book is not None and handle.price is not None:
            levels = book.bids() if side == "buy" else book.asks()
            level_qty = next((q for p, q in levels if Decimal(p) == Decimal(handle.price)), 0)
            gseq = answer.get("gseq")
            shown = book.gseq is not None and isinstance(gseq, int) and book.gseq >= gseq
            self._orders.seed_queue(handle, level_qty, shown)
        return handle

    async def cancel_order(
        self, order_id: int | None = None, *, client_order_id: str | None = None, timeout: float = 5.0
    ) -> JSON:
        """Cancel one order by id (or client_order_id); returns {"order": Order}.

        When the answer is lost, the client reconnects and checks the order:
        already canceled, it returns it; otherwise it sends the cancel again
        (as a copy the server recognises), so the answer is the real one.
        """
        payload = _order_ref(order_id, client_order_id)
        key, value = next(iter(payload.items()))

        def canceled(orders: list[JSON]) -> JSON | None:
            order = _newest(orders, key, value)
            return {"order": order} if order is not None and order.get("status") == "canceled" else None

        return await self._exactly_once("order.cancel", payload, None, timeout, None, canceled)

    async def _exactly_once(
        self,
        op: str,
        payload: JSON,
        as_role: str | None,
        timeout: float,
        sym: str | None,
        settled: Callable[[list[JSON]], JSON | None],
        msg_id: str | None = None,
    ) -> JSON:
        """Send `op` so that it takes effect once, even when its answer is lost.

        A lost answer (ConnectionLost, RequestTimeout) is not reported as
        such: the client waits until it is connected again, lists the
        user's orders and returns the answer `settled` makes of them. Only when
        there is none does it send again, with the SAME msg_id: the server
        runs a msg_id once per session, so a request that did reach it is
        answered with its first answer (DUPLICATE_MSG while it still runs,
        then we look again), and one that never arrived runs now. `msg_id`
        given: the caller has taken one already (place_order, for its client_order_id too).

        Sent while the client is reconnecting, it waits up to `timeout` for
        the link to come back (a gateway's death is a second or two on a
        cluster), then MarketConnectionError.
        """
        if msg_id is None:
            msg_id = self._keeper.envelopes.next_id()
        if self._keeper.ready is None and self._keeper.state in RECONNECTING:
            await self._reconnected(op, timeout)
        try:
            return (await self._request(op, payload, as_role, timeout, msg_id)).payload
        except ClientClosed:
            raise
        except (ConnectionLost, RequestTimeout) as exc:
            lost: Exception = exc
        return await self._recover(op, payload, as_role, timeout, sym, settled, msg_id, lost)

    async def _reconnected(self, op: str, timeout: float) -> None:
        """Wait up to `timeout` for the link to come back before a first send; MarketConnectionError if not."""
        try:
            await self.wait_connected(timeout)
        except TimeoutError:
            raise MarketConnectionError(f"{op}: not reconnected within {timeout}s (state: {self.state})") from None

    async def _recover(
        self,
        op: str,
        payload: JSON,
        as_role: str | None,
        timeout: float,
        sym: str | None,
        settled: Callable[[list[JSON]], JSON | None],
        msg_id: str,
        lost: Exception,
    ) -> JSON:
        """The answer to `msg_id` was lost (`lost`): learn its outcome, or send it again (see `_exactly_once`)."""
        deadline = time.monotonic() + self._recover_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                await self.wait_connected(remaining)
                found = settled(await self.list_orders(sym, status="all"))
                if found is not None:
                    return found
                return (await self._request(op, payload, as_role, min(timeout, remaining), msg_id)).payload
            except ClientClosed:
                raise
            except ServerError as exc:
                if exc.code not in ("DUPLICATE_MSG", "DUPLICATE_CLIENT_ORDER_ID"):
                    raise
                lost = exc  # the first copy is still running, or its order is live: look again
            except (MarketConnectionError, RequestTimeout, TimeoutError) as exc:
                lost = exc
            await asyncio.sleep(0.05)  # a breath before looking again, so a flapping link is not hammered
        raise OutcomeUnknown(
            f"{op} ({msg_id}) lost its answer ({lost}) and its outcome was not learned within "
            f"{self._recover_timeout}s; check list_orders(status='all') once wait_connected() returns"
        )

    def _request(
        self,
        op: str,
        payload: JSON,
        as_role: str | None,
        timeout: float,
        msg_id: str,
        session: RequestSession | None = None,
    ) -> Awaitable[Response]:
        """Send one request over CMD (`session`, the keeper's `ready` one a caller has read already), paced; its
        response (a refusal raises).

        Not a coroutine itself: in the common case (no pause, no timeline
        waiting on the answer) it sends at once and hands back the session's
        future for the answer (`RequestSession.submit`), so an order's
        answer resumes its caller with no coroutine in between.
        """
        if session is None:
            session = self._keeper.ready or self._keeper.require_cmd()
        pacer = self._pacer
        pause = 0.0 if pacer is None else pacer.delay_under(self._keeper.user)
        if pause > 0 or self._turns.queued is not None or (self._timelines and op in RESTATED):
            return self._request_with(session, pause, op, payload, as_role, timeout, msg_id)
        return session.submit(op, payload, as_role, timeout, msg_id)

    async def _request_with(
        self,
        session: RequestSession,
        pause: float,
        op: str,
        payload: JSON,
        as_role: str | None,
        timeout: float,
        msg_id: str,
    ) -> Response:
        """`_request` after a pacing pause (in turn: pacing never reorders), and with the timelines told while the
        answer is out."""
        if pause > 0 or self._turns.queued is not None:
            await self._turns.take(pause)
        timelines = self._timelines if op in RESTATED else ()
        for timeline in timelines:
            timeline.request_sent(msg_id)  # its answer stands for an event the timeline must wait for
        try:
            return await session.submit(op, payload, as_role=as_role, timeout=timeout, msg_id=msg_id)
        finally:
            for timeline in timelines:
                timeline.request_done(msg_id)

    async def amend_order(
        self,
        order_id: int | None = None,
        *,
        price: PriceLike | None = None,
        qty: int | None = None,
        client_order_id: str | None = None,
        timeout: float = 5.0,
    ) -> JSON:
        """Change an order's price and/or total qty; returns {"order": Order}.

        Exactly once, as `cancel_order`: when the answer is lost, an order
        found with the asked price and qty is the answer; otherwise the
        amend is sent again as a copy the server recognises.
        """
        payload = _order_ref(order_id, client_order_id)
        if price is not None:
            payload["price"] = to_wire_price(price)
        if qty is not None:
            payload["qty"] = qty
        key, value = next(iter(payload.items()))

        def amended(orders: list[JSON]) -> JSON | None:
            order = _newest(orders, key, value)
            if order is None or order.get("status") not in ("new", "partially_filled"):
                return None
            if "price" in payload and Decimal(order["price"]) != Decimal(payload["price"]):
                return None
            return {"order": order} if "qty" not in payload or order.get("qty") == payload["qty"] else None

        return await self._exactly_once("order.amend", payload, None, timeout, None, amended)

    async def cancel_all(self, sym: str | None = None, *, timeout: float = 5.0) -> JSON:
        """Cancel every live order (of one symbol); returns {"canceled": [ids], "count"}.

        When the answer is lost it is sent again as a copy the server
        recognises (its first answer if it ran); after a server restart the
        copy cancels what is still live, which is what was asked.
        """
        payload: JSON = {"sym": sym} if sym is not None else {}
        return await self._exactly_once("order.cancel_all", payload, None, timeout, sym, lambda orders: None)

    async def list_orders(self, sym: str | None = None, status: str = "open") -> list[JSON]:
        """The user's orders: live ones by default, every one with status="all"."""
        payload: JSON = {"status": status}
        if sym is not None:
            payload["sym"] = sym
        return list((await self.send("orders.list", payload)).get("orders", []))

    async def list_fills(self, sym: str | None = None, limit: int = 100) -> list[JSON]:
        """The user's newest fills, oldest first."""
        payload: JSON = {"limit": limit}
        if sym is not None:
            payload["sym"] = sym
        return list((await self.send("fills.list", payload)).get("fills", []))

    async def get_account(self) -> JSON:
        """Cash, PnL and positions of the logged-in user."""
        return await self.send("account.get")

    # -- the MD-maintained books (no network) ------------------------------------

    def book_snapshot(self, sym: str, depth: int = 20, *, allow_stale: bool = False) -> JSON:
        """The local book from MD: {sym, seq, status, bids, asks}, best first, `depth` levels.

        Raises StaleBook while the book may be out of date (reconnecting,
        resyncing, or awaiting a snapshot after a gap) unless `allow_stale`.
        """
        return self._book(sym, allow_stale).snapshot(depth)

    def best_bid_ask(self, sym: str, *, allow_stale: bool = False) -> JSON:
        """Top of the local book: {sym, seq, bid, bid_qty, ask, ask_qty}; None on an empty side.

        Raises StaleBook while the book may be out of date, as book_snapshot does.
        """
        book = self._book(sym, allow_stale)
        bid, ask = book.best_bid(), book.best_ask()
        return {
            "sym": sym,
            "seq": book.seq,
            "bid": bid[0] if bid else None,
            "bid_qty": bid[1] if bid else None,
            "ask": ask[0] if ask else None,
            "ask_qty": ask[1] if ask else None,
        }

    def _book(self, sym: str, allow_stale: bool) -> OrderBook:
        book = self.market.book(sym)
        if book is None:
            raise MarketClientError(f"no market data for {sym!r} (unknown symbol, or MD not connected)")
        if allow_stale:
            return book
        if self.state in ("reconnecting", "resyncing"):
            raise StaleBook(
                f"the book of {sym} may be stale: the client is {self.state}; "
                "await client.wait_connected() and read again, or pass allow_stale=True"
            )
        if not self.market.is_synced(sym):
            raise StaleBook(
                f"the book of {sym} awaits its snapshot after a sequence gap; "
                "read again in a moment, or pass allow_stale=True"
            )
        return book

    # -- recording ---------------------------------------------------------------

    def record(self, path: str | Path) -> Recording:
        """Write every frame of both sockets, timestamped, to `path` (gzip JSON lines) until closed.

        Returns the `Recording`; `close()` it (or use it in a `with`) to
        stop. Reconnects are recorded too. `market-client replay` reads it.
        """
        recording = Recording(path, self.base_url)

        def tap(sock: str, direction: str, frame: str | bytes) -> None:
            if recording.closed:
                self._keeper.set_tap(None)
            else:
                recording.write(sock, direction, frame)

        self._keeper.set_tap(tap)
        return recording

    # -- transactions ------------------------------------------------------------

    def configure_transactions(self, capacity: int = 1000) -> None:
        """Resize the CMD event buffer; when shrinking, the newest events are kept."""
        self._transactions.resize(capacity)

    def get_transactions(self, limit: int | None = None) -> list[JSON]:
        """The newest `limit` CMD events (all when None), oldest first, as received envelopes."""
        return [envelope_of(kept) for kept in self._transactions.items(limit)]

    def clear_transactions(self) -> None:
        """Empty the CMD event buffer."""
        self._transactions.clear()

    def set_event_hook(self, handler: Callback | None) -> None:
        """Call `handler(event)` (sync or async) for every CMD event; None removes it."""
        self._event_hook = handler

    # -- the causal timeline -----------------------------------------------------

    def timeline(self, *, lateness: float = 0.05) -> Timeline:
        """Every private (CMD) and public (MD) event from now on, merged in the engine's order.

        ``async for event in client.timeline():`` yields `TimelineEvent`s
        (gseq, gidx, sock, op, payload) ordered by the command that made them
        and their place in it, each once: a fill comes before the trade it
        made, whichever socket brought it first. An event is held until
        nothing earlier can still arrive, `lateness` seconds at most (the
        README's "One causal timeline" says when). `close()` it, or use it
        in an `async with`, when done.
        """
        timeline = Timeline(lateness, self._timelines.remove)
        self._timelines.append(timeline)
        return timeline

    # -- event plumbing ----------------------------------------------------------

    def _cmd_answer(self, response: Response) -> None:
        """An answer that stands for a CMD event (order.accepted and the like; see `RequestSession.on_restated`).

        Only the transactions buffer wants that event of every order, and it
        keeps the answer's frame, made the event again when read
        (`envelope_of`); the event is made and goes through `_cmd_event`
        only when something else reads it now.
        """
        frame = response.frame
        if (
            frame is None
            or self._timelines
            or self._orders.watched
            or self._on_cmd_event is not None
            or self._event_hook is not None
        ):
            event = restated(response)
            if event is not None:
                self._cmd_event(event)
        else:
            self._transactions.append(frame)

    def _cmd_event(self, event: Event) -> None:
        for timeline in self._timelines:
            timeline.push("cmd", event.op, event.payload)
        self._orders.on_cmd_event(event.op, event.payload)
        frame = event.frame
        self._transactions.append(event.raw if frame is None else frame)
        if self._on_cmd_event is not None:
            self._callbacks.call("on_cmd_event", self._on_cmd_event, event.raw)
        if self._event_hook is not None:
            self._callbacks.call("event hook", self._event_hook, event.raw)

    def _md_event(self, event: Event) -> None:
        for timeline in self._timelines:
            timeline.push("md", event.op, event.payload)
        self._orders.on_md_event(event.op, event.payload)
        self._callbacks.call("on_md_event", self._on_md_event, event.raw)

    def _resynced(self, sym: str) -> None:
        """A gap was closed from a snapshot: the queue estimates of that symbol's handles missed events."""
        for handle in self._orders.live():
            if handle.sym == sym:
                self._keeper.spawn(handle.refresh(), f"refresh.{handle.client_order_id}")

    def _state_changed(self, state: State) -> None:
        if state == "connected":
            self._connected.set()
            for handle in self._orders.live():  # events may have been missed while the link was down
                self._keeper.spawn(handle.refresh(), f"refresh.{handle.client_order_id}")
        else:
            self._connected.clear()
        self._callbacks.call("state hook", self._on_state_change, state)


def _placed(coid: str, orders: list[JSON]) -> JSON | None:
    """place_order's answer found among the user's orders: the newest with its client_order_id."""
    order = _newest(orders, "client_order_id", coid)
    return None if order is None else {"order": order}


def _newest(orders: list[JSON], key: str, value: Any) -> JSON | None:
    """The newest order whose `key` is `value` (a client_order_id may be reused once its order is done)."""
    matching = [o for o in orders if o.get(key) == value]
    return max(matching, key=lambda o: int(o.get("order_id") or 0)) if matching else None


def _order_ref(order_id: int | None, client_order_id: str | None) -> JSON:
    if (order_id is None) == (client_order_id is None):
        raise ValueError("give exactly one of order_id and client_order_id")
    return {"order_id": order_id} if order_id is not None else {"client_order_id": client_order_id}
