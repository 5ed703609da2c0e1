"""Every error the client raises, under one root.

The tree::

    MarketClientError                 root: catch this to catch everything below
    ├── InvalidPrice (ValueError)     a price the client refuses before sending it
    │                                 (a float, a bool, "abc", NaN, ...)
    ├── MarketConnectionError         no usable connection to the server
    │   ├── ConnectionLost            the socket dropped while a request was in flight
    │   │   └── OutcomeUnknown        (also a RequestTimeout) an order's answer was lost and
    │   │                             its fate could not be learned before the deadline
    │   └── ClientClosed              the client (or session) was closed by its owner
    ├── RequestTimeout (TimeoutError) no response within the request's timeout
    ├── StaleBook                     a local book read while it may be out of date
    └── ServerError                   the server answered ok=false; `.code`, `.message`, `.op`
        ├── AuthenticationError       handshake or login refused, token unknown/expired
        └── OrderRejected             order.place / order.amend refused (e.g. PRICE_NOT_ON_TICK)

Misuse by the caller (`InvalidPrice`) is kept apart from failures of the
network (`MarketConnectionError`, `RequestTimeout`) and from the server's
own refusals (`ServerError`), as in httpx. `InvalidPrice` is also a
`ValueError`, so code that validates input generically still catches it.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ClientClosed",
    "ConnectionLost",
    "InvalidPrice",
    "MarketClientError",
    "MarketConnectionError",
    "OrderRejected",
    "OutcomeUnknown",
    "RequestTimeout",
    "ServerError",
    "StaleBook",
]


class MarketClientError(Exception):
    """Root of every error raised by market_client."""


class InvalidPrice(MarketClientError, ValueError):
    """A price that is not a str, int or Decimal holding a finite decimal number.

    Floats are refused on purpose: 0.1 + 0.2 is not 0.3, and an exchange
    price must be exact. Pass "100.25" or Decimal("100.25") instead.
    """


class MarketConnectionError(MarketClientError):
    """The server cannot be reached, or the connection needed is not up right now."""


class ConnectionLost(MarketConnectionError):
    """The connection dropped while a request was waiting for its response.

    Whether the request took effect is unknown: check with list_orders()
    or the transactions buffer once the client has reconnected.
    """


class ClientClosed(MarketConnectionError):
    """The client or session was closed by its owner; it will not reconnect."""


class RequestTimeout(MarketClientError, TimeoutError):
    """No response arrived within the request's timeout (the request may still take effect)."""


class OutcomeUnknown(ConnectionLost, RequestTimeout):
    """place_order / cancel_order lost its answer and could not learn what happened in time.

    The client reconnects, looks the order up by client_order_id (or id)
    and resends only when it is not there; this is raised only when that
    did not finish within `recover_timeout`. Check list_orders(status="all")
    once `wait_connected()` returns. It is a ConnectionLost and a
    RequestTimeout, so code written for either still catches it.
    """


class StaleBook(MarketClientError):
    """A local book was read while it may not match the market.

    Raised by book_snapshot() and best_bid_ask() while the client is
    reconnecting or resyncing, or while that symbol waits for its snapshot
    after a sequence gap. `await client.wait_connected()` and read again,
    or pass `allow_stale=True` to read the last known book anyway.
    """


class ServerError(MarketClientError):
    """The server refused a request with a stable error `code` (see docs/protocol.md)."""

    def __init__(self, code: str, message: str, op: str | None = None) -> None:
        super().__init__(f"{code}: {message}" if op is None else f"{op} failed: {code}: {message}")
        self.code = code
        self.message = message
        self.op = op


class AuthenticationError(ServerError):
    """Handshake or login refused, or the token is unknown or expired."""


class OrderRejected(ServerError):
    """The server refused to place or amend an order; `code` says why."""
