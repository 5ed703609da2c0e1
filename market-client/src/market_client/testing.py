"""An exchange in your test process, with faults on demand: `FakeVenue`.

```python
from market_client import MarketClient
from market_client.testing import FakeVenue


async def test_my_client_survives_a_lost_delta() -> None:
    async with FakeVenue() as venue, MarketClient(venue.url) as client:
        venue.faults.drop_md("ACME")  # the next ACME event is never sent
        venue.house_order("ACME", "sell", "101.00", 5)
        venue.house_order("ACME", "sell", "102.00", 5)
        await venue.until(lambda: client.book_snapshot("ACME", allow_stale=True)["asks"] == venue.book("ACME")["asks"])
        assert client.resync_counts["ACME"] == 1
```

The venue speaks the real wire protocol (docs/protocol.md) over real
sockets on a loopback port: `POST /auth/handshake`, `WS /ws/cmd` and
`WS /ws/md`, so any client (the SDK, your own code) can be tested against
it offline. Matching is the server's own engine (`hftsim.engine`, with its
payload validation and error codes), so fills, rejections and sequence
numbers are the server's. It serves the trading subset of the protocol:
handshake and tokens, login (users you add, and guests), symbols, books,
trades, candles (an empty seed that MD trades extend), orders, fills,
account, MD subscriptions, snapshots and heartbeats, and the symbol admin
ops (`admin.halt`, `admin.resume`, `admin.auction`) for users added with
`admin=True`. Message rates are the server's, with the server's own
admission code: the limits of `traffic` (the server's defaults unless
given) are announced at login and enforced per connection and per user
under its breach policy (RATE_LIMITED with `retry_after_ms`, throttling,
or a 4029 close), so a strategy that is rate limited live is rate limited
here too. A "house" account (`house_order`) makes the market.

Faults (`venue.faults`), each a thing a real link or server does:

- `drop_md(sym, count=1)`: the next `count` sequenced MD events of `sym`
  are sent to nobody;
- `duplicate_md(sym, count=1)`: the next `count` are sent twice;
- `reorder_md(sym, count=1)`: each of the next `count` is held back and
  sent after the one that follows it;
- `snapshot_after(count=1, subscriptions=1)`: on the next subscriptions,
  each snapshot is sent only after `count` newer events of its symbol;
- `disconnect_on(op, apply=True)`: the next request `op` is carried out
  (or not), then its socket closes without an answer;
- `late_ack(op, delay_s)`: the next request `op` is carried out at once,
  its answer sent `delay_s` later;
- `silence()`: every open socket goes quiet: nothing is sent or answered,
  nothing is closed (a dead link);
- `await venue.restart()`: every socket is closed (1012) and every session
  forgotten, as after a crash; the market is kept.

Needs the `hftsim` server package (its engine, Starlette and uvicorn).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any

import orjson
import uvicorn
from hftsim.config import Settings, SymbolSettings, TrafficSettings
from hftsim.engine import Engine, PlaceOrder, SetSymbolStatus, Side, SymbolStatus, Tif
from hftsim.engine import OrderType as EngineOrderType
from hftsim.gateway.ratelimit import RateLimiter
from hftsim.gateway.traffic import Admission, announced, user_limiter
from hftsim.protocol import envelope
from hftsim.protocol import payloads as p
from hftsim.protocol.errors import ErrorCode, ProtocolError
from hftsim.protocol.render import Renderer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ._envelope import JSON, whole_fill
from ._wire import private_event, public_event, restates_response

__all__ = ["FakeVenue", "Faults"]

DEFAULT_SYMBOLS = (
    {"sym": "ACME", "tick": "0.01", "ref_price": "100.00"},
    {"sym": "BOLT", "tick": "0.05", "ref_price": "42.50"},
)
STATE_CHANGING = frozenset({"order.place", "order.cancel", "order.cancel_all", "order.amend", "auth.login"})
ADMIN_STATUS = {
    "admin.halt": SymbolStatus.HALTED,
    "admin.resume": SymbolStatus.TRADING,
    "admin.auction": SymbolStatus.AUCTION,
}
"""The admin ops the venue serves: a symbol's trading status."""
CLOSE_RATE_LIMITED = 4029
HOUSE = 1
"""The house account's user id."""


def _now() -> int:
    return int(time.time() * 1000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Faults:
    """The faults the venue will inject next (see the module docstring); each is used up as it fires."""

    dropped: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    reordered: dict[str, int] = field(default_factory=dict)
    snapshot_delay: int = 0
    delayed_subscriptions: int = 0
    disconnects: dict[str, bool] = field(default_factory=dict)
    late: dict[str, float] = field(default_factory=dict)
    on_silence: Callable[[], None] = lambda: None
    """Set by the venue: silences the sockets open now."""

    def drop_md(self, sym: str, count: int = 1) -> None:
        """The next `count` sequenced MD events (delta, trade, status) of `sym` go to nobody."""
        self.dropped[sym] = self.dropped.get(sym, 0) + count

    def duplicate_md(self, sym: str, count: int = 1) -> None:
        """The next `count` sequenced MD events of `sym` are sent twice."""
        self.duplicated[sym] = self.duplicated.get(sym, 0) + count

    def reorder_md(self, sym: str, count: int = 1) -> None:
        """Each of the next `count` sequenced MD events of `sym` is sent after the one that follows it."""
        self.reordered[sym] = self.reordered.get(sym, 0) + count

    def snapshot_after(self, count: int = 1, *, subscriptions: int = 1) -> None:
        """At the next `subscriptions` md.subscribe, each snapshot waits until `count` newer events of it were sent."""
        self.snapshot_delay = count
        self.delayed_subscriptions = subscriptions

    def disconnect_on(self, op: str, *, apply: bool = True) -> None:
        """The next request `op` is carried out (unless `apply` is False), then its socket closes unanswered."""
        self.disconnects[op] = apply

    def late_ack(self, op: str, delay_s: float) -> None:
        """The next request `op` is carried out at once and answered `delay_s` seconds later."""
        self.late[op] = delay_s

    def silence(self) -> None:
        """Every socket open now stops sending and answering, without closing (a dead link); new ones work."""
        self.on_silence()


@dataclass
class _Session:
    key: str
    user: tuple[int, str] | None = None
    replies: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        """Whose message bucket its messages draw on: the user's once logged in, else the session's."""
        return f"u{self.user[0]}" if self.user is not None else f"s{self.key}"


class _Connection:
    """One socket: an ordered outbox drained by a writer task, so events keep their order."""

    def __init__(self, ws: WebSocket, session: _Session, kind: str, admission: Admission) -> None:
        self.ws = ws
        self.session = session
        self.kind = kind
        self.admission = admission
        self.silent = False
        self.subscribed: set[str] = set()
        self.pending_snapshots: dict[str, list[Any]] = {}
        """sym -> [snapshot frame, events still to send first] (the snapshot_after fault)."""
        self.held: dict[str, bytes] = {}
        """sym -> a frame held back by the reorder fault."""
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, frame: bytes) -> None:
        if not self.silent:
            self._outbox.put_nowait(frame)

    async def _write(self) -> None:
        with contextlib.suppress(Exception):
            while (frame := await self._outbox.get()) is not None:
                if not self.silent:
                    await self.ws.send_text(frame.decode())

    async def close(self, code: int) -> None:
        self._outbox.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer, 1.0)
        with contextlib.suppress(Exception):
            await self.ws.close(code)


class FakeVenue:
    """An in-process exchange on a loopback port, with scripted faults (see the module docstring).

    Use `async with FakeVenue() as venue:` (or `await start()` / `await
    stop()`); `venue.url` is the base URL to give a client.
    """

    def __init__(
        self,
        symbols: tuple[Mapping[str, Any], ...] = DEFAULT_SYMBOLS,
        *,
        initial_cash: str = "1000000",
        heartbeat_s: float = 0.2,
        token_ttl_s: float = 900.0,
        traffic: TrafficSettings | None = None,
    ) -> None:
        """`symbols` are `[[symbols]]` entries of the server's config (sym, tick, ref_price, lot, ...);
        `traffic` is its `[traffic]` table (message rates and breach policy; the server's defaults when None)."""
        self.settings = Settings(
            symbols=[SymbolSettings(**dict(s)) for s in symbols], traffic=traffic or TrafficSettings()
        )
        instruments = self.settings.instruments()
        limits = self.settings.engine_limits()
        probe = Engine(instruments, limits, initial_cash=0)
        self.engine = Engine(instruments, limits, initial_cash=int(Decimal(initial_cash).scaleb(probe.cash_decimals)))
        self.render = Renderer(self.engine)
        self.faults = Faults()
        self.faults.on_silence = self._silence
        self.heartbeat_s = heartbeat_s
        self.token_ttl_ms = int(token_ttl_s * 1000)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[str] = []
        """Every request op received, in order (for assertions)."""
        self.subscriptions = 0
        """md.subscribe requests served so far."""
        self._users: dict[str, tuple[int, str | None]] = {"house": (HOUSE, None)}
        self._admins: set[int] = set()
        self._user_messages: RateLimiter = user_limiter(self.settings.traffic)
        self.rate_limited = 0
        """Messages refused (or held, under the throttle policy) for going over a rate limit."""
        self._ids = itertools.count(HOUSE + 1)
        self._msg_ids = itertools.count(1)
        self._tokens: dict[str, tuple[_Session, int]] = {}
        self._connections: set[_Connection] = set()
        self._trades: dict[str, list[JSON]] = {i.sym: [] for i in instruments}
        self._fills: dict[int, list[JSON]] = {}
        self._server: uvicorn.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._house_orders = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the loopback port (`url`); returns once the venue accepts connections."""
        app = Starlette(
            routes=[
                Route("/auth/handshake", self._handshake, methods=["POST"]),
                Route("/healthz", lambda request: JSONResponse({"status": "ok"})),
                WebSocketRoute("/ws/cmd", self._cmd),
                WebSocketRoute("/ws/md", self._md),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._tasks.append(asyncio.get_running_loop().create_task(self._server.serve()))
        self._tasks.append(asyncio.get_running_loop().create_task(self._heartbeats()))
        await self.until(lambda: self._server is not None and self._server.started, timeout=10)

    async def stop(self) -> None:
        """Close every socket (1001) and stop listening."""
        await self._close_all(1001)
        if self._server is not None:
            self._server.should_exit = True
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def __aenter__(self) -> FakeVenue:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def restart(self) -> None:
        """As after a crash and restart: every socket closes with 1012 and every session is forgotten."""
        self._tokens.clear()
        await self._close_all(1012)

    def _silence(self) -> None:
        for conn in self._connections:
            conn.silent = True

    async def _close_all(self, code: int) -> None:
        connections, self._connections = list(self._connections), set()
        await asyncio.gather(*(c.close(code) for c in connections), return_exceptions=True)

    @staticmethod
    async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `check()` holds (polled every 10 ms); TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.01)

    # -- the market, for tests ------------------------------------------------------

    def add_user(self, username: str, password: str, *, admin: bool = False) -> int:
        """A trader account (an admin too with `admin=True`) that logs in with username and password; its id."""
        user_id = next(self._ids)
        self._users[username] = (user_id, password)
        if admin:
            self._admins.add(user_id)
        return user_id

    def house_order(self, sym: str, side: str, price: str | None, qty: int, *, tif: str = "GTC") -> JSON:
        """Place an order as the house account (it has unlimited patience, and the initial cash)."""
        instrument = self.engine.instrument(sym)
        assert instrument is not None, sym
        ticks = instrument.to_ticks(price) if price is not None else None
        kind = EngineOrderType.LIMIT if price is not None else EngineOrderType.MARKET
        command = PlaceOrder(HOUSE, sym, Side(side), qty, ticks, kind, Tif(tif), False, f"h{next(self._house_orders)}")
        result = self._apply(command)
        if result.rejection is not None:
            raise ValueError(f"{result.rejection.code}: {result.rejection.message}")
        assert result.order is not None
        return self.render.order(result.order)

    def book(self, sym: str, depth: int = 50) -> JSON:
        """The venue's true book, in the shape of `book.get`."""
        bids, asks = self.engine.book_levels(sym, depth)
        return {
            "sym": sym,
            "seq": self.engine.md_seq(sym),
            "status": self.engine.status(sym).value,
            "bids": self.render.levels(sym, bids),
            "asks": self.render.levels(sym, asks),
        }

    def orders(self, username: str, status: str = "all") -> list[JSON]:
        """A user's orders as `orders.list` gives them."""
        user_id = self._users[username][0]
        views = self.engine.open_orders(user_id) if status == "open" else self.engine.recent_orders(user_id)
        return self._listed(user_id, views)

    def _listed(self, user_id: int, views: list[Any]) -> list[JSON]:
        """Orders as `orders.list` renders them: each with the exact quantity ahead of it (`queue_ahead`)."""
        return [{**self.render.order(o), "queue_ahead": self.engine.queue_position(user_id, o.order_id)} for o in views]

    # -- engine ---------------------------------------------------------------------

    def _apply(self, command: Any, origin: _Connection | None = None) -> Any:
        """Apply a command and send its events; `origin`, the socket it came from, gets none its answer says."""
        result = self.engine.apply(command, _now())
        for index, ev in enumerate(result.wire_events()):
            public = public_event(self.render, ev, (result.seq, index))
            if public is not None:
                sym, op, payload = public
                if op == "md.trade":
                    self._trades[sym].append(payload)
                self._publish(sym, self._frame("event", op, payload))
                continue
            private = private_event(self.render, ev, (result.seq, index))
            if private is not None:
                user_id, op, payload = private
                fill = whole_fill(payload)
                if fill is not None:
                    self._fills.setdefault(user_id, []).append(fill)
                frame = self._frame("event", op, payload)
                skip = origin if restates_response(ev) else None
                for conn in list(self._connections):
                    user = conn.session.user
                    if conn.kind == "cmd" and user is not None and user[0] == user_id and conn is not skip:
                        conn.send(frame)
        return result

    def _publish(self, sym: str, frame: bytes) -> None:
        faults = self.faults
        if faults.dropped.get(sym):
            faults.dropped[sym] -= 1
            return
        copies = 1
        if faults.duplicated.get(sym):
            faults.duplicated[sym] -= 1
            copies = 2
        hold = False
        if faults.reordered.get(sym):
            faults.reordered[sym] -= 1
            hold = True
        for conn in list(self._connections):
            if conn.kind != "md" or sym not in conn.subscribed:
                continue
            held = conn.held.pop(sym, None)
            if hold:
                conn.held[sym] = frame
            else:
                for _ in range(copies):
                    self._send_md(conn, sym, frame)
            if held is not None:
                self._send_md(conn, sym, held)

    def _send_md(self, conn: _Connection, sym: str, frame: bytes) -> None:
        conn.send(frame)
        pending = conn.pending_snapshots.get(sym)
        if pending is not None:
            pending[1] -= 1
            if pending[1] <= 0:
                del conn.pending_snapshots[sym]
                conn.send(pending[0])

    def _frame(self, kind: str, op: str, payload: JSON, **extra: Any) -> bytes:
        message = {"type": kind, "ver": 1, "msg_id": f"v-{next(self._msg_ids)}", "ts": _now(), "op": op, **extra}
        message["payload"] = payload
        return orjson.dumps(message)

    def _snapshot(self, sym: str) -> JSON:
        return self.book(sym, 1000)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            for conn in list(self._connections):
                if conn.kind == "md" and conn.subscribed:
                    seqs = {s: self.engine.md_seq(s) for s in conn.subscribed if s not in conn.pending_snapshots}
                    conn.send(self._frame("event", "md.heartbeat", {"ts": _now(), "seqs": seqs}))

    # -- sessions ---------------------------------------------------------------------

    def _grant(self, session: _Session) -> JSON:
        token = secrets.token_urlsafe(24)
        expires_at = _now() + self.token_ttl_ms
        self._tokens[token] = (session, expires_at)
        return {"token": token, "expires_at": expires_at}

    def _login(self, session: _Session, payload: Mapping[str, Any]) -> JSON:
        username = payload.get("username")
        if username is None:
            user_id = next(self._ids)
            username = f"guest-{user_id}"
            self._users[username] = (user_id, None)
        else:
            found = self._users.get(str(username))
            if found is None or found[1] is None or found[1] != payload.get("password"):
                raise ProtocolError(ErrorCode.INVALID_CREDENTIALS, "wrong username or password")
            user_id = found[0]
        session.user = (user_id, str(username))
        return self._whoami(session)

    def _whoami(self, session: _Session) -> JSON:
        if session.user is None:
            return {"user_id": None, "username": None, "roles": [], "is_admin": False}
        admin = session.user[0] in self._admins
        return {
            "user_id": session.user[0],
            "username": session.user[1],
            "roles": ["viewer", "trader", "admin"] if admin else ["viewer", "trader"],
            "is_admin": admin,
            "limits": {**announced(self.settings), "order_latency_ms": 0},
        }

    async def _handshake(self, request: Request) -> JSONResponse:
        body = await request.json() if await request.body() else {}
        if body.get("token") is not None:
            found = self._tokens.get(str(body["token"]))
            if found is None or found[1] <= _now():
                error = {
                    "code": "INVALID_TOKEN",
                    "message": "unknown session token: call /auth/handshake for a new one",
                }
                return JSONResponse({"status": "error", "error": error}, status_code=401)
            session = found[0]
        else:
            session = _Session(secrets.token_hex(8))
        if body.get("username") is not None or body.get("guest") is True:
            try:
                self._login(session, body)
            except ProtocolError as exc:
                error = {"code": str(exc.code), "message": exc.message}
                return JSONResponse({"status": "error", "error": error}, status_code=401)
        return JSONResponse({"status": "ok", **self._whoami(session), **self._grant(session)})

    async def _accept(self, ws: WebSocket, kind: str) -> _Connection | None:
        auth = ws.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ws.query_params.get("token")
        found = self._tokens.get(token or "")
        await ws.accept()
        if found is None or found[1] <= _now():
            await ws.close(4002)
            return None
        conn = _Connection(ws, found[0], kind, Admission(self.settings.traffic, self._user_messages))
        self._connections.add(conn)
        return conn

    # -- sockets ------------------------------------------------------------------------

    async def _cmd(self, ws: WebSocket) -> None:
        await self._serve(ws, "cmd")

    async def _md(self, ws: WebSocket) -> None:
        await self._serve(ws, "md")

    async def _serve(self, ws: WebSocket, kind: str) -> None:
        conn = await self._accept(ws, kind)
        if conn is None:
            return
        try:
            while True:
                text = await ws.receive_text()
                if conn.silent or not await self._admit(conn, text):
                    continue
                await self._request(conn, orjson.loads(text))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._connections.discard(conn)
            await conn.close(1000)

    async def _admit(self, conn: _Connection, text: str) -> bool:
        """The server's admission: every frame takes a token from its connection's and its user's buckets.

        Over the limit, the breach policy decides: throttle waits for the
        token; reject answers RATE_LIMITED (with retry_after_ms) and reads
        nothing more until then; disconnect rejects too, and closes the
        socket (4029) after too many breaches.
        """
        admission = conn.admission
        while wait := admission.admit(conn.session.sender):
            self.rate_limited += 1
            if admission.policy == "throttle":
                await asyncio.sleep(wait)
                continue
            if admission.breach():
                self._connections.discard(conn)
                conn.silent = True
                with contextlib.suppress(Exception):
                    await conn.ws.close(CLOSE_RATE_LIMITED, "message rate limit exceeded too often")
                return False
            retry_ms = math.ceil(wait * 1000)
            message = f"message rate limit exceeded; retry in {retry_ms} ms (limits are in the auth.login response)"
            msg_id, op = envelope.salvage_msg_id(text), envelope.salvage_op(text)
            conn.send(envelope.error_response(msg_id, op, ErrorCode.RATE_LIMITED, message, _now(), retry_ms))
            await asyncio.sleep(retry_ms / 1000)
            return False
        return True

    async def _request(self, conn: _Connection, message: JSON) -> None:
        op, msg_id = str(message.get("op")), str(message.get("msg_id"))
        payload = message.get("payload") or {}
        self.requests.append(op)
        session = conn.session
        if msg_id in session.replies:
            kept = session.replies[msg_id]
            duplicate = self._frame("response", op, {}, corr_id=msg_id, ok=False,
                                    error={"code": "DUPLICATE_MSG", "message": "msg_id already used"})  # fmt: skip
            conn.send(kept if kept is not None else duplicate)
            return
        session.replies[msg_id] = None
        disconnect = self.faults.disconnects.pop(op, None)
        if disconnect is not None:
            if disconnect:
                await self._answer(conn, op, msg_id, payload)
            self._connections.discard(conn)
            conn.silent = True
            with contextlib.suppress(Exception):
                await conn.ws.close(1011)
            return
        frame = await self._answer(conn, op, msg_id, payload)
        if op in STATE_CHANGING:
            session.replies[msg_id] = frame
        delay = self.faults.late.pop(op, None)
        if delay is None:
            conn.send(frame)
        else:
            self._tasks.append(asyncio.get_running_loop().create_task(self._send_later(conn, frame, delay)))

    @staticmethod
    async def _send_later(conn: _Connection, frame: bytes, delay: float) -> None:
        await asyncio.sleep(delay)
        conn.send(frame)

    async def _answer(self, conn: _Connection, op: str, msg_id: str, payload: JSON) -> bytes:
        try:
            answer = self._handle(conn, op, payload)
        except ProtocolError as exc:
            error = {"code": str(exc.code), "message": exc.message}
            return self._frame("response", op, {}, corr_id=msg_id, ok=False, error=error)
        return self._frame("response", op, answer, corr_id=msg_id, ok=True)

    def _handle(self, conn: _Connection, op: str, payload: JSON) -> JSON:
        session, engine, render = conn.session, self.engine, self.render
        if op == "ping":
            return {"ts": _now()}
        if op == "auth.login":
            return self._login(session, payload)
        if op == "auth.renew":
            return self._grant(session)
        if op == "auth.whoami":
            return self._whoami(session)
        if op == "md.renew":
            found = self._tokens.get(str(payload.get("token")))
            if found is None:
                raise ProtocolError(ErrorCode.INVALID_TOKEN, "unknown token")
            return {"expires_at": found[1]}
        if op in ("md.subscribe", "md.unsubscribe"):
            syms = (
                [i.sym for i in engine.instruments] if payload.get("syms") == "*" else list(payload.get("syms") or [])
            )
            if op == "md.unsubscribe":
                conn.subscribed -= set(syms)
                return {"syms": syms}
            self.subscriptions += 1
            faults = self.faults
            delay = faults.snapshot_delay if faults.delayed_subscriptions > 0 else 0
            faults.delayed_subscriptions = max(0, faults.delayed_subscriptions - 1)
            for sym in syms:
                conn.subscribed.add(sym)
                frame = self._frame("event", "md.snapshot", self._snapshot(sym))
                if delay:
                    conn.pending_snapshots[sym] = [frame, delay]
                else:
                    self._tasks.append(asyncio.get_running_loop().create_task(self._send_later(conn, frame, 0)))
            return {"syms": syms}
        if op == "md.snapshot":
            return self._snapshot(p.sym_field(payload, engine))
        if op == "symbols.list":
            return {"symbols": [render.symbol(i, None) for i in engine.instruments]}
        if op == "book.get":
            return self.book(p.sym_field(payload, engine), p.int_field(payload, "depth", 20, lo=1, hi=1000))
        if op == "trades.list":
            sym = p.sym_field(payload, engine)
            return {"sym": sym, "trades": self._trades[sym][-p.int_field(payload, "limit", 100, lo=1) :]}
        if op == "candles.get":
            sym = p.sym_field(payload, engine)
            interval = p.int_field(payload, "interval_ms", 1000, lo=1000)
            depth = p.int_field(payload, "depth", 50, lo=1, hi=1000)
            return {
                "sym": sym,
                "interval_ms": interval,
                "seq": engine.md_seq(sym),
                "candles": self._candles(sym, interval)[-depth:],
            }
        if session.user is None:
            raise ProtocolError(ErrorCode.UNAUTHENTICATED, f"log in (auth.login) before using {op}")
        user_id = session.user[0]
        if op in ADMIN_STATUS:
            if user_id not in self._admins:
                raise ProtocolError(ErrorCode.FORBIDDEN, f"{op} needs the admin role; this request acts as trader")
            sym = p.sym_field(payload, engine)
            self._apply(SetSymbolStatus(sym=sym, status=ADMIN_STATUS[op]), conn)
            return {"sym": sym, "status": engine.status(sym).value}
        if op == "order.place":
            return self._order_answer(self._apply(p.place_order(payload, user_id, engine), conn))
        if op == "order.cancel":
            return self._order_answer(self._apply(p.cancel_order(payload, user_id), conn))
        if op == "order.amend":
            return self._order_answer(self._apply(p.amend_order(payload, user_id, engine), conn))
        if op == "order.cancel_all":
            result = self._apply(p.cancel_all(payload, user_id, engine), conn)
            return {"canceled": result.canceled, "count": len(result.canceled)}
        if op == "orders.list":
            sym = p.sym_field(payload, engine) if payload.get("sym") is not None else None
            live = payload.get("status", "open") == "open"
            views = engine.open_orders(user_id, sym) if live else engine.recent_orders(user_id, sym)
            return {"orders": self._listed(user_id, views)}
        if op == "fills.list":
            fills = [f for f in self._fills.get(user_id, []) if payload.get("sym") in (None, f["sym"])]
            return {"fills": fills[-p.int_field(payload, "limit", 100, lo=1) :]}
        if op == "account.get":
            return {
                "user_id": user_id,
                "username": session.user[1],
                "cash": render.cash(engine.cash(user_id)),
                "realized_pnl": render.cash(sum(pos.realized_pnl for pos in engine.positions(user_id))),
                "unrealized_pnl": render.cash(0),
                "positions": [render.position(pos) for pos in engine.positions(user_id)],
            }
        raise ProtocolError(ErrorCode.UNKNOWN_OP, f"the fake venue does not serve {op!r}")

    def _candles(self, sym: str, interval: int) -> list[JSON]:
        """The symbol's trades in `interval` buckets (intervals without trades are left out)."""
        candles: list[JSON] = []
        for trade in self._trades[sym]:
            t = trade["ts"] - trade["ts"] % interval
            price = trade["price"]
            if not candles or candles[-1]["t"] != t:
                candles.append({"t": t, "o": price, "h": price, "l": price, "c": price, "v": 0})
            candle = candles[-1]
            candle["h"] = max(candle["h"], price, key=Decimal)
            candle["l"] = min(candle["l"], price, key=Decimal)
            candle["c"] = price
            candle["v"] += trade["qty"]
        return candles

    def _order_answer(self, result: Any) -> JSON:
        if result.rejection is not None:
            raise ProtocolError(result.rejection.code, result.rejection.message)
        return {"order": self.render.order(result.order), "gseq": result.seq}
