"""The Host and Origin allowlist, checked before any route sees a request.

DNS rebinding points an attacker's name at 127.0.0.1: the victim's browser
then talks to this server from the attacker's page, and for the browser
that is same-origin (Origin == Host == evil.example). So the Host header
must name this server (loopback names, the bind host, `server.allowed_hosts`),
else 421 Misdirected Request; and a browser's Origin must name an allowed
host too (or be listed in `server.allowed_origins`), else 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def host_name(authority: str) -> str | None:
    """The lower-case host of `host[:port]` (IPv6 in brackets), or None when it does not parse."""
    try:
        return urlsplit(f"//{authority}").hostname
    except ValueError:
        return None


def allowed_hosts(bind_host: str, extra: Iterable[str]) -> frozenset[str]:
    names = {*LOOPBACK_NAMES, *extra}
    if bind_host not in ("0.0.0.0", "::", ""):  # a wildcard bind names no host
        names.add(bind_host)
    return frozenset(n.strip("[]").lower() for n in names)


class HostGuard:
    """ASGI middleware: refuse requests for foreign hosts (421) and from foreign origins (403)."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], origins: Iterable[str]) -> None:
        self._app = app
        self._hosts = hosts
        self._origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if host_name(headers.get("host", "")) not in self._hosts:
            await refuse(scope, receive, send, 421, "this server does not answer to that Host name")
            return
        origin = headers.get("origin")
        if origin is not None and origin not in self._origins and host_name(urlsplit(origin).netloc) not in self._hosts:
            await refuse(scope, receive, send, 403, "requests from this Origin are not allowed")
            return
        await self._app(scope, receive, send)


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    """Answer `status` with a plain-text reason; a WebSocket upgrade is refused with the same status."""
    body = message.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
