"""One WebSocket speaking the v1 envelope: the only place CMD and MD frames move.

`RequestSession` sends requests and matches responses by `corr_id` (the
bookkeeping is `Inbox`'s, without I/O), so any number of requests can be
in flight on one socket; everything else
that arrives is an event handed to `on_event`, and so is the event that a
response to order.place, order.amend or order.cancel stands for (the
server sends that event to the user's other sockets only: one frame
acknowledges an order). It knows nothing of books, tokens or reconnects:
when the socket drops it fails the requests in flight at once and tells
`on_close`, and the owner decides what follows.

A link can also die silently (a NAT or firewall forgets it, a cable is
pulled: no FIN, no RST), and TCP then says nothing for minutes. So a
session given a `liveness_timeout` watches its own input: after a third of
that timeout without a frame it sends a `ping` (any answer, heartbeat or
event counts as life), and after the whole timeout without a frame it
aborts the transport and reports the close as code 1006, like any drop.
A frame only raises a flag; the watchdog reads the clock when it looks
(four times per probe interval), so silence is measured to within a
twelfth of the timeout and no frame pays for a clock read.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from ._envelope import RESTATED, Envelopes, Event, Response
from ._exceptions import (
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    MarketClientError,
    MarketConnectionError,
    RequestTimeout,
)
from ._matching import Inbox
from ._socket import HandshakeRefused, Socket

logger = logging.getLogger("market_client")

MAX_FRAME = 64 * 1024 * 1024
"""Largest frame we accept from the server (a deep snapshot can be big)."""


Waiter = asyncio.Future[Response]
"""What a request in flight is waited on by: its answer's future."""

Pending = tuple[Waiter, float, str, float]
"""A request in flight as the inbox keeps it: (its answer's future, its deadline in loop time, its op, its time
limit in seconds). One tuple in one dict per request: the answer takes it out with the request, and the deadline
needs no entry of its own."""


class Deadlines:
    """The one loop timer that keeps a session's request deadlines.

    A timer per request (`call_later`, or `wait_for`'s task) costs a heap
    push and a cancel on every order. The deadlines live with the requests
    (`Pending`), and this timer is armed for the earliest: a request only
    compares its deadline with `armed_at`, and one request at a time with
    the same timeout re-arms the timer once per timeout period. When it
    fires, `sweep(now)` fails what is due and returns the next deadline.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, sweep: Callable[[float], float | None]) -> None:
        self._loop = loop
        self._sweep = sweep
        self._timer: asyncio.TimerHandle | None = None
        self.armed_at = math.inf
        """When the timer fires (infinity when it is not armed): a request whose deadline is earlier arms it
        (an attribute, not a property: every request reads it)."""

    def arm(self, at: float) -> None:
        """Fire at `at` (loop time) instead of when armed before."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(at, self._fire)
        self.armed_at = at

    def stop(self) -> None:
        """The session is over: no timer stays behind."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.armed_at = math.inf

    def _fire(self) -> None:
        self._timer = None
        self.armed_at = math.inf
        after = self._sweep(self._loop.time())
        if after is not None:
            self.arm(after)


class Connection(Protocol):
    """What a session needs from a socket: the seam where tests plug a fake."""

    async def send(self, message: str | bytes) -> None: ...

    async def recv(self) -> str | bytes: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class RequestSession:
    """A request-capable v1 session over one connection (CMD or MD)."""

    def __init__(
        self,
        connection: Connection,
        *,
        name: str = "cmd",
        envelopes: Envelopes | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_close: Callable[[int | None, str], None] | None = None,
        request_timeout: float = 5.0,
        liveness_timeout: float | None = None,
    ) -> None:
        self.name = name
        self.request_timeout = request_timeout
        self.close_code: int | None = None
        self.close_reason = ""
        self._connection = connection
        self._envelopes = envelopes or Envelopes(prefix=name)
        self._on_event = on_event
        self._on_close = on_close
        self._inbox: Inbox[Pending] = Inbox()
        self._closing = False
        self._closed = False
        self._silent_for: float | None = None
        """Set when the watchdog gave up on the link: how long it had been silent."""
        self._last_frame = time.monotonic()
        """When the watchdog last saw that a frame had come (its own clock, read once per look)."""
        self._heard = False
        """A frame came since the watchdog's last look: set per frame instead of a clock read per frame."""
        self.tap: Callable[[str, str, str | bytes], None] | None = None
        """Called with (socket name, "in" or "out", frame) for every request sent and frame received (recording)."""
        self.on_restated: Callable[[Response], None] | None = None
        """Set: an answer that stands for an event (`restates`) is handed to it, before its request gets it,
        instead of that event to `on_event`; its owner makes the event (`restated`) only if something reads it
        at once. An order's answer then costs no event built and dispatched."""
        loop = self._loop = asyncio.get_running_loop()
        self._deadlines = Deadlines(loop, self._sweep)
        self._send_now: Callable[[bytes], None] | None = getattr(connection, "send_now", None)
        """A socket that writes without suspending (picows) is called directly: no coroutine per request."""
        push_to = getattr(connection, "push_to", None)
        if push_to is not None:  # frames come as calls: the reader only waits for the close
            push_to(self._frame)
        self._reader = loop.create_task(self._read(), name=f"market_client.{name}.reader")
        self._watchdog = (
            loop.create_task(self._watch(liveness_timeout), name=f"market_client.{name}.watchdog")
            if liveness_timeout is not None
            else None
        )

    @classmethod
    async def open(
        cls,
        url: str,
        token: str,
        *,
        name: str = "cmd",
        envelopes: Envelopes | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_close: Callable[[int | None, str], None] | None = None,
        open_timeout: float = 10.0,
        request_timeout: float = 5.0,
        liveness_timeout: float | None = None,
    ) -> RequestSession:
        """Connect to `url` with the token as a Bearer header and start reading."""
        try:
            websocket = await Socket.connect(url, {"Authorization": f"Bearer {token}"}, open_timeout, MAX_FRAME)
        except HandshakeRefused as exc:
            status = exc.status
            if status in (401, 403):
                raise AuthenticationError("INVALID_TOKEN", f"{name} socket refused with HTTP {status}", None) from None
            raise MarketConnectionError(f"{name} socket refused with HTTP {status}") from None
        except (OSError, TimeoutError) as exc:
            raise MarketConnectionError(f"cannot open {name} socket at {url}: {exc or type(exc).__name__}") from None
        return cls(
            websocket,
            name=name,
            envelopes=envelopes,
            on_event=on_event,
            on_close=on_close,
            request_timeout=request_timeout,
            liveness_timeout=liveness_timeout,
        )

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered."""
        return self._inbox.in_flight

    async def request(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        *,
        as_role: str | None = None,
        timeout: float | None = None,
        msg_id: str | None = None,
    ) -> Response:
        """Send one request and wait for its response; raise the matching ServerError when refused.

        `msg_id` reuses the id of an earlier request whose answer was lost:
        the server runs a msg_id once per session and answers a true copy
        of a state-changing request with the first answer (docs/protocol.md).
        """
        return await self.submit(op, payload, as_role=as_role, timeout=timeout, msg_id=msg_id)

    def submit(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        as_role: str | None = None,
        timeout: float | None = None,
        msg_id: str | None = None,
    ) -> Awaitable[Response]:
        """`request` in two steps: send now, and return what its answer will resolve (await it once).

        Over a socket that writes without suspending (picows), the request
        leaves before this returns and the awaitable is its future: the
        answer resumes the caller directly, with no coroutine of the
        session's in between (an order's answer is a loop pass shorter). It
        resolves to the `Response`, or raises what `request` raises: the
        refusal's ServerError, RequestTimeout after `timeout`, ConnectionLost
        or ClientClosed. Given up (its awaiter canceled), a request stays in
        flight until its answer or its deadline comes, which then go to nobody.
        A closed session or a write that fails raises at once. (Its
        arguments may be given by position too: the client's own calls,
        one per order, do.)
        """
        if self._closed:
            raise self._closed_error()
        msg_id, frame = self._envelopes.request(op, payload, as_role, msg_id)
        if self.tap is not None:
            self.tap(self.name, "out", frame)
        send_now = self._send_now
        if send_now is None:
            return self._sending(op, msg_id, frame, timeout)
        try:
            send_now(frame)
        except ConnectionClosed:
            raise ConnectionLost(f"{self.name} connection dropped while sending {op}") from None
        return self._expect(op, msg_id, timeout)  # after the write: set up while the server works

    async def _sending(self, op: str, msg_id: str, frame: bytes, timeout: float | None) -> Response:
        """`submit` over a connection whose write is awaited: the answer may arrive meanwhile, so it is expected
        before."""
        future = self._expect(op, msg_id, timeout)
        try:
            await self._connection.send(frame)
        except ConnectionClosed:
            self._inbox.forget(msg_id)
            if future.done():
                future.exception()  # the reader failed it meanwhile: mark the error seen
            raise ConnectionLost(f"{self.name} connection dropped while sending {op}") from None
        return await future

    def _expect(self, op: str, msg_id: str, timeout: float | None) -> Waiter:
        """The future `msg_id`'s answer resolves, with its deadline."""
        loop = self._loop
        future: Waiter = loop.create_future()
        limit = self.request_timeout if timeout is None else timeout
        if limit > 0:
            at = loop.time() + limit
            self._inbox.expect(msg_id, (future, at, op, limit))
            if at < self._deadlines.armed_at:
                self._deadlines.arm(at)
        else:  # no time at all: not even an answer can come first
            self._timed_out(future, msg_id, op, limit)
        return future

    def _sweep(self, now: float) -> float | None:
        """The deadlines' timer fired: fail the requests due by `now`; the earliest deadline left, if any."""
        pending = self._inbox.pending()
        for msg_id, (future, _, op, limit) in [(m, p) for m, p in pending.items() if p[1] <= now]:
            self._timed_out(future, msg_id, op, limit)
        return min((p[1] for p in pending.values()), default=None)

    def _timed_out(self, future: Waiter, msg_id: str, op: str, seconds: float) -> None:
        """A request's time ran out: its caller gets RequestTimeout, and a late answer goes to nobody."""
        self._inbox.forget(msg_id)
        if not future.done():
            future.set_exception(RequestTimeout(f"{op} got no response within {seconds}s"))

    async def close(self) -> None:
        """Close the socket and stop reading; requests in flight fail with ClientClosed."""
        if self._closing:
            await asyncio.gather(self._reader, return_exceptions=True)
            return
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        try:
            await asyncio.wait_for(self._connection.close(), 5.0)
        except (TimeoutError, OSError, ConnectionClosed):
            pass
        if not self._reader.done():
            self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    # -- internals -----------------------------------------------------------

    async def _read(self) -> None:
        code: int | None = None
        reason = ""
        try:
            while True:
                self._frame(await self._connection.recv())
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            reason = exc.rcvd.reason if exc.rcvd is not None else "connection lost"
        except OSError as exc:
            code, reason = 1006, str(exc)
        finally:
            if self._silent_for is not None:
                code, reason = 1006, f"no frame for {self._silent_for:.1f}s: link presumed dead"
            self._finish(code, reason)

    async def _watch(self, timeout: float) -> None:
        """Ping when idle; abort the link when nothing at all arrived within `timeout`, and not even an answer to
        a probe sent a third of it ago: a stall of this client's own loop is no silence of the server's."""
        probe_after = timeout / 3
        pinged_at = 0.0
        while True:
            now = time.monotonic()
            if self._heard:  # alive a look ago at most: a quarter of `probe_after`
                self._heard = False
                self._last_frame = now
            silent = now - self._last_frame
            if silent >= timeout and pinged_at > self._last_frame and now - pinged_at >= probe_after:
                break
            if silent >= probe_after and now - pinged_at >= probe_after:
                pinged_at = now
                probe_id, frame = self._envelopes.request("ping")
                self._inbox.probe(probe_id)
                try:
                    await asyncio.wait_for(self._connection.send(frame.decode()), probe_after)
                except (ConnectionClosed, OSError, TimeoutError):
                    pass  # the reader or the next pass notices
            await asyncio.sleep(probe_after / 4)
        self._silent_for = time.monotonic() - self._last_frame
        logger.warning("%s: no frame for %.1fs; aborting the link", self.name, self._silent_for)
        self._abort()

    def _abort(self) -> None:
        """Drop the link at once, without the closing handshake a dead peer would never answer."""
        transport = getattr(self._connection, "transport", None)
        if transport is not None:
            transport.abort()
        else:
            self._reader.cancel()

    def _frame(self, frame: str | bytes) -> None:
        """One frame received: its events to `on_event`, then its response to the request waiting for it."""
        self._heard = True
        if self.tap is not None:
            self.tap(self.name, "in", frame)
        on_restated = self.on_restated
        events, pending, response, ignored = self._inbox.receive(frame, on_restated is None)
        if events:
            self._events(events)
        if pending is None or response is None:
            if ignored is not None:
                logger.warning("%s: ignoring %s", self.name, ignored)
            return
        future = pending[0]  # answered: the inbox let it go, and its deadline with it
        if not response.ok:
            if not future.done():
                future.set_exception(response.error())
            return
        if on_restated is not None and response.op in RESTATED:
            try:
                on_restated(response)
            except Exception:
                logger.exception("%s: handler of the event %s stands for failed", self.name, response.op)
        if not future.done():
            future.set_result(response)

    def _events(self, events: Sequence[Event]) -> None:
        on_event = self._on_event
        if on_event is None:
            return
        for event in events:
            try:
                on_event(event)
            except Exception:
                logger.exception("%s: event handler failed on %s", self.name, event.op)

    def _finish(self, code: int | None, reason: str) -> None:
        self._closed = True
        self._deadlines.stop()
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        self.close_code, self.close_reason = code, reason
        error = self._closed_error()
        for future, *_ in self._inbox.drain():
            if not future.done():
                future.set_exception(error)
        if not self._closing and self._on_close is not None:
            try:
                self._on_close(code, reason)
            except Exception:
                logger.exception("%s: close handler failed", self.name)

    def _closed_error(self) -> MarketClientError:
        if self._closing:
            return ClientClosed(f"{self.name} session was closed")
        reason = self.close_reason or "no reason"
        return ConnectionLost(f"{self.name} connection closed (code {self.close_code}: {reason})")
