"""The HTTP calls the client makes: the handshake, `/api/request` on demand, and `/api/info` when asked.

Everything else goes over the CMD socket; HTTP is only for getting (or
renewing) a token before any socket can open, and for callers who ask for
a one-off request without a socket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from ._envelope import JSON, EnvelopeError, Envelopes, Response, error_for, parse
from ._exceptions import (
    AuthenticationError,
    MarketConnectionError,
    RequestTimeout,
    ServerError,
)


def ws_url(base_url: str, path: str) -> str:
    """http(s)://host:port[/prefix] -> ws(s)://host:port[/prefix]/path."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"base_url must be http(s)://host[:port], got {base_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


def http_url(base_url: str, path: str) -> str:
    parts = urlsplit(base_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + path, "", ""))


async def handshake(http: httpx.AsyncClient, base_url: str, body: Mapping[str, Any], timeout: float) -> JSON:
    """POST /auth/handshake; return the answer, or raise AuthenticationError / ServerError."""
    try:
        reply = await http.post(
            http_url(base_url, "/auth/handshake"),
            content=orjson.dumps(dict(body)),
            headers={"Content-Type": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise MarketConnectionError(f"handshake with {base_url} failed: {exc or type(exc).__name__}") from None
    data = _json_or_none(reply)
    if reply.status_code == 200 and isinstance(data, dict) and data.get("status") == "ok":
        return data
    code, message = _error_of(data, reply)
    if reply.status_code in (400, 401, 403) or code in ("INVALID_TOKEN", "TOKEN_EXPIRED"):
        raise AuthenticationError(code, message, "auth.handshake")
    raise ServerError(code, message, "auth.handshake")


async def server_info(http: httpx.AsyncClient, base_url: str, timeout: float) -> JSON:
    """GET /api/info: what anyone may know about the venue before logging in (e.g. whether guests may)."""
    try:
        reply = await http.get(http_url(base_url, "/api/info"), timeout=timeout)
    except httpx.HTTPError as exc:
        raise MarketConnectionError(f"GET /api/info at {base_url} failed: {exc or type(exc).__name__}") from None
    data = _json_or_none(reply)
    if reply.status_code == 200 and isinstance(data, dict):
        return data
    code, message = _error_of(data, reply)
    raise ServerError(code, message, "api.info")


async def api_request(
    http: httpx.AsyncClient,
    base_url: str,
    token: str,
    envelopes: Envelopes,
    op: str,
    payload: Mapping[str, Any] | None,
    as_role: str | None,
    timeout: float,
) -> Response:
    """POST one request envelope to /api/request; raise the matching ServerError when refused."""
    _, frame = envelopes.request(op, payload, as_role)
    try:
        reply = await http.post(
            http_url(base_url, "/api/request"),
            content=frame,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            timeout=timeout,
        )
    except httpx.TimeoutException:
        raise RequestTimeout(f"{op} over HTTP got no response within {timeout}s") from None
    except httpx.HTTPError as exc:
        raise MarketConnectionError(f"{op} over HTTP failed: {exc or type(exc).__name__}") from None
    try:
        response = parse(reply.content)
    except EnvelopeError:
        code, message = _error_of(_json_or_none(reply), reply)
        raise error_for(op, code, message) from None
    if not isinstance(response, Response):
        raise ServerError("BAD_ENVELOPE", f"/api/request answered with an event ({response.op})", op)
    if not response.ok:
        raise response.error()
    return response


def _json_or_none(reply: httpx.Response) -> Any:
    try:
        return orjson.loads(reply.content)
    except orjson.JSONDecodeError:
        return None


def _error_of(data: Any, reply: httpx.Response) -> tuple[str, str]:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("code", "UNKNOWN")), str(error.get("message", ""))
    return f"HTTP_{reply.status_code}", reply.text[:200]
