"""A scripted server behind the keeper's `Dialer` seam: handshakes and sessions over in-memory connections.

Each request the client sends is answered at once by a small script of
the protocol (login, whoami, renewals, subscriptions with their
snapshots, resync snapshots, candles). A test changes what the server
does next (refuse a renewal, fail to open a socket, hold an answer, push a
delta) and waits with `until`, which wakes on every frame and every
callback instead of polling a clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from market_client import AuthenticationError, MarketConnectionError
from market_client._envelope import Event, now_ms
from market_client._session import RequestSession

from .fakes import FakeConnection

JSON = dict[str, Any]


class Watch:
    """Wakes waiters whenever anything happened; `until` re-checks its condition each time."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self, *_: object) -> None:
        self._changed.set()

    async def until(self, check: Callable[[], bool], timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()


class ScriptedConnection(FakeConnection):
    """One socket of the scripted server: answers what the client sends, as `server.answer` says."""

    def __init__(self, server: ScriptedServer, name: str, token: str) -> None:
        super().__init__()
        self.server = server
        self.name = name
        self.token = token

    async def send(self, message: str | bytes) -> None:
        await super().send(message)
        request = self.sent[-1]
        self.server.watch.notify()
        self.server.answer(self, request)

    def event(self, op: str, payload: JSON) -> None:
        self.push({"type": "event", "ver": 1, "msg_id": "s", "ts": 1, "op": op, "payload": payload})


class ScriptedServer:
    """Plays the server for one client: implements the keeper's `Dialer`."""

    def __init__(self, watch: Watch, syms: tuple[str, ...] = ("ACME",)) -> None:
        self.watch = watch
        self.syms = syms
        self.seq = dict.fromkeys(syms, 0)
        self.handshakes: list[JSON] = []
        self.tokens = 0
        self.expires_in_ms: int | None = None
        self.refuse_renewal = False
        self.failing_opens = 0
        self.opened: list[ScriptedConnection] = []
        self.before_snapshot: list[tuple[str, JSON]] = []
        """Events the next subscription sends before its snapshots (deltas that overtake it)."""
        self.held: dict[str, JSON] = {}
        """Requests by op that get no answer (the script of a lost response)."""
        self.orders: list[JSON] = []
        self.user_known = True

    # -- the Dialer seam ----------------------------------------------------------

    async def handshake(self, body: JSON) -> JSON:
        self.handshakes.append(dict(body))
        self.watch.notify()
        if "token" in body and self.refuse_renewal:
            raise AuthenticationError("INVALID_TOKEN", "unknown token", "auth.handshake")
        return self._token()

    async def open(
        self,
        name: str,
        token: str,
        *,
        on_event: Callable[[Event], None],
        on_close: Callable[[int | None, str], None],
    ) -> RequestSession:
        self.watch.notify()
        if self.failing_opens:
            self.failing_opens -= 1
            raise MarketConnectionError(f"cannot open {name} socket: connection refused")
        connection = ScriptedConnection(self, name, token)
        self.opened.append(connection)
        return RequestSession(connection, name=name, on_event=on_event, on_close=on_close)

    # -- the script -----------------------------------------------------------------

    def live(self, name: str) -> ScriptedConnection:
        """The newest socket of that name."""
        return [c for c in self.opened if c.name == name][-1]

    def sent(self, name: str, op: str) -> list[JSON]:
        """Every request `op` the client sent on sockets of that name, oldest first."""
        return [m for c in self.opened if c.name == name for m in c.sent if m["op"] == op]

    def snapshot(self, sym: str) -> JSON:
        return {"sym": sym, "seq": self.seq[sym], "status": "trading", "bids": [["99.00", 5]], "asks": []}

    def answer(self, conn: ScriptedConnection, request: JSON) -> None:
        op, payload = request["op"], request["payload"]
        if op in self.held:
            self.held[op] = request
            return
        if op == "auth.login":
            self.user_known = True
            conn.respond(request, {"user_id": 7, "username": "ann", "roles": ["trader"], "is_admin": False})
        elif op == "auth.whoami":
            conn.respond(request, {"user_id": 7 if self.user_known else None})
        elif op == "auth.renew":
            conn.respond(request, self._token())
        elif op == "md.renew":
            conn.respond(request, {"expires_at": None})
        elif op == "md.subscribe":
            conn.respond(request, {"syms": list(self.syms)})
            for event in self.before_snapshot:
                conn.event(*event)
            self.before_snapshot = []
            for sym in self.syms:
                conn.event("md.snapshot", self.snapshot(sym))
        elif op == "md.snapshot":
            conn.respond(request, self.snapshot(payload["sym"]))
        elif op == "candles.get":
            conn.respond(request, {"sym": payload["sym"], "interval_ms": 1000, "seq": 0, "candles": []})
        elif op == "orders.list":
            conn.respond(request, {"orders": list(self.orders)})
        elif op == "order.place":
            order = {**payload, "order_id": len(self.orders) + 1, "status": "new", "filled_qty": 0}
            self.orders.append(order)
            conn.respond(request, {"order": order})
        else:
            conn.respond(request, error="UNKNOWN_OP")

    def delta(self, sym: str, seq: int, bids: list[list[Any]]) -> JSON:
        return {"sym": sym, "seq": seq, "bids": bids, "asks": []}

    def _token(self) -> JSON:
        self.tokens += 1
        expires = None if self.expires_in_ms is None else now_ms() + self.expires_in_ms
        return {"status": "ok", "token": f"t{self.tokens}", "expires_at": expires, "user_id": None}


def frames(conn: FakeConnection) -> list[str]:
    """The ops a connection sent, in order (a compact view for assertions)."""
    return [m["op"] for m in conn.sent]
