"""One WebSocket speaking the v1 envelope: the only place CMD and MD frames move.

`RequestSession` sends requests and matches responses by `corr_id`, so
any number of requests can be in flight on one socket; everything else
that arrives is an event handed to `on_event`. It knows nothing of books,
tokens or reconnects: when the socket drops it fails the requests in
flight at once and tells `on_close`, and the owner decides what follows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from ._envelope import EnvelopeError, Envelopes, Event, Response, parse
from ._exceptions import (
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    MarketClientError,
    MarketConnectionError,
    RequestTimeout,
)

logger = logging.getLogger("market_client")

MAX_FRAME = 64 * 1024 * 1024
"""Largest frame we accept from the server (a deep snapshot can be big)."""


class Connection(Protocol):
    """What a session needs from a socket: the seam where tests plug a fake."""

    async def send(self, message: str) -> None: ...

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
    ) -> None:
        self.name = name
        self.request_timeout = request_timeout
        self.close_code: int | None = None
        self.close_reason = ""
        self._connection = connection
        self._envelopes = envelopes or Envelopes(prefix=name)
        self._on_event = on_event
        self._on_close = on_close
        self._pending: dict[str, asyncio.Future[Response]] = {}
        self._closing = False
        self._closed = False
        self._reader = asyncio.get_running_loop().create_task(self._read(), name=f"market_client.{name}.reader")

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
    ) -> RequestSession:
        """Connect to `url` with the token as a Bearer header and start reading."""
        try:
            websocket = await ws_connect(
                url,
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=open_timeout,
                max_size=MAX_FRAME,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthenticationError("INVALID_TOKEN", f"{name} socket refused with HTTP {status}", None) from None
            raise MarketConnectionError(f"{name} socket refused with HTTP {status}") from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise MarketConnectionError(f"cannot open {name} socket at {url}: {exc or type(exc).__name__}") from None
        return cls(
            websocket,
            name=name,
            envelopes=envelopes,
            on_event=on_event,
            on_close=on_close,
            request_timeout=request_timeout,
        )

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def in_flight(self) -> int:
        """Requests sent and not yet answered."""
        return len(self._pending)

    async def request(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        *,
        as_role: str | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request and wait for its response; raise the matching ServerError when refused."""
        if self._closed:
            raise self._closed_error()
        msg_id, frame = self._envelopes.request(op, payload, as_role)
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        limit = self.request_timeout if timeout is None else timeout
        try:
            try:
                await self._connection.send(frame.decode())
            except ConnectionClosed:
                if future.done():
                    future.exception()  # the reader failed it meanwhile: mark the error seen
                raise ConnectionLost(f"{self.name} connection dropped while sending {op}") from None
            try:
                response = await asyncio.wait_for(future, limit)
            except TimeoutError:
                raise RequestTimeout(f"{op} got no response within {limit}s") from None
        finally:
            self._pending.pop(msg_id, None)
        if not response.ok:
            raise response.error()
        return response

    async def close(self) -> None:
        """Close the socket and stop reading; requests in flight fail with ClientClosed."""
        if self._closing:
            await asyncio.gather(self._reader, return_exceptions=True)
            return
        self._closing = True
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
                self._receive(await self._connection.recv())
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            reason = exc.rcvd.reason if exc.rcvd is not None else "connection lost"
        except OSError as exc:
            code, reason = 1006, str(exc)
        finally:
            self._finish(code, reason)

    def _receive(self, frame: str | bytes) -> None:
        try:
            message = parse(frame)
        except EnvelopeError as exc:
            logger.warning("%s: ignoring a frame that is not an envelope: %s", self.name, exc)
            return
        if isinstance(message, Event):
            if self._on_event is not None:
                try:
                    self._on_event(message)
                except Exception:
                    logger.exception("%s: event handler failed on %s", self.name, message.op)
            return
        future = self._pending.get(message.corr_id) if message.corr_id is not None else None
        if future is None:
            logger.warning(
                "%s: response to no pending request (late or unparsable): %s %s %s",
                self.name,
                message.op,
                message.error_code,
                message.error_message,
            )
        elif not future.done():
            future.set_result(message)

    def _finish(self, code: int | None, reason: str) -> None:
        self._closed = True
        self.close_code, self.close_reason = code, reason
        error = self._closed_error()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()
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
