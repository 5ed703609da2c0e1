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


class HostRules:
    """Which Host and Origin headers name this server."""

    def __init__(self, hosts: frozenset[str], origins: Iterable[str]) -> None:
        self._hosts = hosts
        self._origins = frozenset(origins)

    def refusal(self, host: str, origin: str | None) -> tuple[int, str] | None:
        """The HTTP status and reason to refuse a request with, or None when it may go on."""
        if host_name(host) not in self._hosts:
            return 421, "this server does not answer to that Host name"
        if origin is not None and origin not in self._origins and host_name(urlsplit(origin).netloc) not in self._hosts:
            return 403, "requests from this Origin are not allowed"
        return None


class HostGuard:
    """ASGI middleware: refuse HTTP requests for foreign hosts (421) and from foreign origins (403).

    WebSocket upgrades never reach it: the socket server applies the same rules (sockets.py).
    """

    def __init__(self, app: ASGIApp, rules: HostRules) -> None:
        self._app = app
        self._rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refused = self._rules.refusal(headers.get("host", ""), headers.get("origin"))
        if refused is not None:
            status, message = refused
            body = message.encode()
            length = str(len(body)).encode()
            headers_out = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", length)]
            await send({"type": "http.response.start", "status": status, "headers": headers_out})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)
