"""Op dispatch: one request from an authenticated connection → a response payload.

The same dispatcher serves the CMD WebSocket and `POST /api/request`; the
transport only differs in how the answer travels back. Handlers raise
ProtocolError for anything the client must be told; the caller turns it
into an error response.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from ..engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OpenAccount,
    PlaceOrder,
    Result,
    SetSymbolStatus,
    SymbolStatus,
)
from ..protocol import envelope
from ..protocol import payloads as p
from ..protocol.envelope import Payload, Request
from ..protocol.errors import TRANSIENT, ErrorCode, ProtocolError
from ..protocol.roles import OP_ROLES, TEST_OP_ROLES, Role, acting_role, held_roles
from ..store.history import Bar
from ..store.users import User
from .clock import now_ms
from .order_limits import OrderLimits, Releasing
from .registry import SocketRegistry
from .replies import Replies
from .sequencer import Promise, Waiter
from .sessions import Grant
from .traffic import announced
from .venue import Venue

log = logging.getLogger(__name__)
TRADING: Final = (PlaceOrder, AmendOrder, CancelOrder, CancelAll)
"""The commands a paused market refuses (MARKET_PAUSED)."""
VIEWER: Final = Role.VIEWER
"""Looked up once: reading a member off its enum class costs a tenth of a microsecond, on every request."""
audit = logging.getLogger("hftsim.audit")
"""One line per refused authorization, for whoever watches for probing."""


@dataclass(slots=True)
class Context:
    """The connection a request came in on."""

    grant: Grant
    ip: str
    on_login: Callable[[User | None, User], None] | None = None
    """Called with (previous user, new user) so a socket can re-register for events."""
    on_renew: Callable[[Grant], None] | None = None
    after: Callable[[], None] | None = None
    """Set by a handler: what to do once its response is on its way (a logout closes the sockets)."""

    def take_after(self) -> Callable[[], None] | None:
        after, self.after = self.after, None
        return after


class Sequenced:
    """A command for the sequencer, and how its result becomes the response payload.

    Handlers return it instead of awaiting the engine, so a socket can hand
    several commands to the sequencer in one pass (they share one journal
    write) and answer each the moment it is applied. A plain class, as
    `envelope.Request` is: one is built per order.
    """

    __slots__ = ("answer", "command", "key")

    def __init__(self, command: Command, key: int | None, answer: Callable[[Result], Payload]) -> None:
        self.command = command
        self.key = key
        """The user's lane (None: the admins' shared one)."""
        self.answer = answer
        """Raises ProtocolError for a command the engine refused."""


Outcome = dict[str, Any] | Sequenced | Awaitable[Payload]
Handler = Callable[["Dispatcher", Context, Request, Role], Outcome]
HANDLERS: Final[dict[str, Handler]] = {}
CHANGES_STATE: Final[set[str]] = set()
MAX_BOTS = 256
"""Bot sessions one `admin.bots` request may open."""
"""Ops whose answers are kept for a repeated msg_id (see replies.py)."""
SEQUENCED: Final[set[str]] = set()
"""Ops answered with a Sequenced: a socket may send the next one before this one's result."""


def op(name: str, *, changes_state: bool = False, sequenced: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        if changes_state or sequenced:
            CHANGES_STATE.add(name)
        if sequenced:
            SEQUENCED.add(name)
        return fn

    return register


class Dispatcher:
    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        # The parts an order passes through, read off the venue once: a venue's attribute is a generic lookup
        # on a Python object, a dispatcher's a field of this compiled class (the venue never replaces them).
        self.engine = venue.engine
        self._sequencer = venue.sequencer
        self._control = venue.control
        self._latency = venue.latency
        self._rounds = venue.rounds
        self._renderer = venue.renderer
        server = venue.settings.server
        self.sockets = SocketRegistry(server.sockets_per_token, server.sockets_per_user)
        self.limits = OrderLimits(venue.settings.limits, self.engine)
        roles = dict(OP_ROLES)
        if venue.settings.testing.enable_hooks:
            roles.update(TEST_OP_ROLES)
        unhandled = roles.keys() - HANDLERS.keys()
        assert not unhandled, f"ops without a handler (is their module imported in app.py?): {unhandled}"
        self._routes = {name: (needed, HANDLERS[name]) for name, needed in roles.items()}
        """Per op this server answers: the role it needs and its handler (one lookup per request, not three)."""

    async def handle(self, ctx: Context, req: Request) -> Payload:
        """Answer one request, waiting for the engine when it needs to (the HTTP way)."""
        outcome = self.start(ctx, req)
        if isinstance(outcome, Sequenced):
            return await self.execute(outcome)
        if isinstance(outcome, dict):
            return outcome
        return await outcome

    def start(self, ctx: Context, req: Request) -> Outcome:
        """Check who may do what and run the op's handler; raises ProtocolError with what the client must hear."""
        route = self._routes.get(req.op)
        if route is None:
            raise ProtocolError(ErrorCode.UNKNOWN_OP, f"unknown op {req.op!r}; see docs/protocol.md for the list")
        needed, handler = route
        role = VIEWER
        if needed is not None:
            user = ctx.grant.session.user
            if user is None:
                raise ProtocolError(ErrorCode.UNAUTHENTICATED, f"log in (auth.login) before using {req.op}")
            role = user.role
            if req.as_role is not None:
                try:
                    role = acting_role(role, req.as_role)
                except ProtocolError:
                    audit_refusal(ctx, user, req, needed)
                    raise
            if role < needed:
                audit_refusal(ctx, user, req, needed)
                raise ProtocolError(
                    ErrorCode.FORBIDDEN, f"{req.op} needs the {needed.label} role; this request acts as {role.label}"
                )
        return handler(self, ctx, req, role)

    # Helpers ---------------------------------------------------------------

    def sequenced(self, command: Command, key: int | None, answer: Callable[[Result], Payload]) -> Sequenced:
        """A command for the sequencer; a user's trading command is refused while an admin has the market paused."""
        if self._control.paused and isinstance(command, TRADING):
            raise ProtocolError(
                ErrorCode.MARKET_PAUSED, "the market is paused by an admin: the books are frozen until it resumes"
            )
        return Sequenced(command, key, answer)

    def send(self, sequenced: Sequenced, waiter: Waiter, last: bool = False) -> None:
        """Hand a command to the sequencer, `waiter` to hear its outcome (`last`: see `Sequencer.send`).

        A user's trading command that would break one of their order limits is
        refused here (order_limits.py; a breach is scored), counting their
        commands still on their way; one that passes holds its reservation
        until its outcome is known.
        """
        command = sequenced.command
        if isinstance(command, TRADING):
            try:
                reserved = self.limits.admit(command)
            except ProtocolError:
                self._rounds.breach(command.user_id)
                raise
            if reserved is not None:
                waiter = Releasing(waiter, self.limits, command.user_id, reserved)
                try:
                    self._sequencer.send(command, sequenced.key, waiter, last)
                except BaseException:
                    self.limits.release(command.user_id, reserved)
                    raise
                return
        self._sequencer.send(command, sequenced.key, waiter, last)

    async def execute(self, sequenced: Sequenced) -> Payload:
        """Send a command and wait for its result: its response payload (the HTTP way)."""
        answered: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self.send(sequenced, Promise(answered))
        return sequenced.answer(await answered)

    def trading(self, ctx: Context, command: Command, answer: Callable[[Result], Payload]) -> Outcome:
        """A user's trading command: sequenced at once, or after the user's injected latency (latency.py).

        A delayed command is checked (pause, limits) once its delay has passed, as the venue is then.
        """
        user = ctx.grant.session.user
        assert user is not None
        key = user.user_id
        if self._latency.delay_ms(user) <= 0:
            return self.sequenced(command, key, answer)
        return self._delayed(user, command, key, answer)

    async def _delayed(self, user: User, command: Command, key: int, answer: Callable[[Result], Payload]) -> Payload:
        await self._latency.wait(user)
        return await self.execute(self.sequenced(command, key, answer))

    def user_id(self, ctx: Context) -> int:
        user = ctx.grant.session.user
        assert user is not None
        return user.user_id

    def order_payload(self, result: Result) -> bytes:
        """The answer to a place, cancel or amend, written out (`Renderer.order_answer`)."""
        accepted(result)
        assert result.order is not None
        return self._renderer.order_answer(result.order, result.seq)

    async def login(self, ctx: Context, payload: dict[str, Any]) -> User:
        venue = self.venue
        if payload.get("username") is None and payload.get("password") is None:
            if payload.get("guest", True) is not True:
                raise ProtocolError(ErrorCode.INVALID_FIELD, "give 'username' and 'password', or 'guest': true")
            if not venue.settings.session.allow_guests:
                raise ProtocolError(ErrorCode.GUEST_DISABLED, "guest access is turned off on this server; log in")
            if not venue.login_limiter.allow(f"guest@{ctx.ip}"):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "too many guest logins from this address; retry later")
            user = venue.users.create_guest()
        else:
            username = p.str_field(payload, "username", max_len=32)
            password = p.str_field(payload, "password", max_len=256)
            if not venue.login_limiter.allow(username) or not venue.login_limiter.allow(f"login@{ctx.ip}"):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "too many login attempts; retry in a few seconds")
            found = await asyncio.to_thread(venue.users.authenticate, username, password)
            if found is None:
                raise ProtocolError(ErrorCode.INVALID_CREDENTIALS, "wrong username or password")
            if found.disabled:
                raise ProtocolError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled; ask the instructor")
            user = found
        previous = ctx.grant.session.user
        venue.sessions.bind(ctx.grant.session, user)
        if ctx.on_login is not None:
            ctx.on_login(previous, user)
        return user


def accepted(result: Result) -> Result:
    """The result of a command the engine applied; a refused one raises its rejection."""
    if result.rejection is not None:
        raise ProtocolError(result.rejection.code, result.rejection.message)
    return result


def audit_refusal(ctx: Context, user: User, req: Request, needed: Role) -> None:
    audit.warning(
        "audit: refused user=%s user_id=%s op=%s role_asked=%s role_required=%s role_held=%s peer=%s",
        user.username,
        user.user_id,
        req.op,
        req.as_role or "-",
        needed.label,
        user.role.label,
        ctx.ip,
    )


Reply = tuple[Payload, Callable[[], None] | None]
"""A response payload, and what to do right after the response is sent."""
Handle = Callable[[Request], Awaitable[Reply]]


async def respond(
    req: Request, handle: Handle, now: Callable[[], int], replies: Replies
) -> tuple[bytes, Callable[[], None] | None]:
    """Answer one request once per session: run its handler, or give a repeated msg_id its first answer.

    A state-changing request runs shielded: if its connection goes away while
    it waits for the engine, it still completes and its answer is kept for
    the client's retry.
    """
    try:
        earlier = replies.begin(req.msg_id, req.op)
    except ProtocolError as exc:
        return envelope.error_response(req.msg_id, req.op, exc.code, exc.message, now()), None
    if earlier is not None:
        return earlier, None
    if req.op in CHANGES_STATE:
        return await asyncio.shield(asyncio.ensure_future(_run(req, handle, now, replies)))
    return await _run(req, handle, now, replies)


async def _run(
    req: Request, handle: Handle, now: Callable[[], int], replies: Replies
) -> tuple[bytes, Callable[[], None] | None]:
    follow_up = None
    try:
        payload, follow_up = await handle(req)
    except Exception as exc:
        return conclude(req, None, exc, now(), replies), None
    return conclude(req, payload, None, now(), replies), follow_up


def conclude(req: Request, payload: Payload | None, error: BaseException | None, ts: int, replies: Replies) -> bytes:
    """The response frame to `req` (its payload, or the error it raised), remembered for a repeated msg_id.

    Transient refusals are forgotten, so the same msg_id may be sent again.
    """
    if error is None:
        assert payload is not None
        frame = envelope.response(req.msg_id, req.op, payload, ts)
        transient = False
    elif isinstance(error, ProtocolError):
        frame = envelope.error_response(req.msg_id, req.op, error.code, error.message, ts, error.retry_after_ms)
        transient = error.code in TRANSIENT
    else:
        log.error("internal error handling %s", req.op, exc_info=error)
        frame = envelope.error_response(
            req.msg_id, req.op, ErrorCode.INTERNAL, "internal server error; it was logged", ts
        )
        transient = True
    if transient:
        replies.forget(req.msg_id)
    else:
        replies.finish(req.msg_id, frame if req.op in CHANGES_STATE else None)
    return frame


def whoami(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"user_id": None, "username": None, "roles": [], "is_admin": False}
    return {
        "user_id": user.user_id,
        "username": user.username,
        "roles": [r.label for r in held_roles(user.role)],
        "is_admin": user.role is Role.ADMIN,
    }


# Session ops -----------------------------------------------------------------


@op("ping")
def _ping(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    return {"ts": now_ms()}


def limits_of(d: Dispatcher, user: User) -> dict[str, Any]:
    """The limits announced to `user` (docs/protocol.md, "The limits object")."""
    return {**announced(d.venue.settings), "order_latency_ms": d.venue.latency.delay_ms(user)}


@op("auth.login", changes_state=True)
async def _login(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    user = await d.login(ctx, req.payload)
    return {**whoami(user), "limits": limits_of(d, user)}


@op("auth.renew")
def _renew(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    grant = d.venue.sessions.renew(ctx.grant.token)
    ctx.grant = grant
    if ctx.on_renew is not None:
        ctx.on_renew(grant)
    return {"token": grant.token, "expires_at": grant.expires_at}


@op("auth.logout")
def _logout(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    session = d.venue.sessions.revoke(ctx.grant.token)
    ctx.after = lambda: d.sockets.log_out(session.key)
    return {"status": "logged_out"}


@op("auth.whoami")
def _whoami(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    user = ctx.grant.session.user
    answer = {**whoami(user), "expires_at": ctx.grant.expires_at}
    if user is not None:
        answer["limits"] = limits_of(d, user)
    return answer


# Market data ops -------------------------------------------------------------


@op("symbols.list")
def _symbols(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    v = d.venue
    return {"symbols": [v.renderer.symbol(i, v.history.first_price(i.sym)) for i in v.engine.instruments]}


@op("book.get")
def _book(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    engine, render = d.venue.engine, d.venue.renderer
    sym = p.sym_field(req.payload, engine)
    depth = p.int_field(req.payload, "depth", 20, lo=1, hi=1000)
    bids, asks = engine.book_levels(sym, depth)
    return {
        "sym": sym,
        "seq": engine.md_seq(sym),
        "status": engine.status(sym).value,
        "bids": render.levels(sym, bids),
        "asks": render.levels(sym, asks),
    }


@op("trades.list")
def _trades(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    sym = p.sym_field(req.payload, d.venue.engine)
    limit = p.int_field(req.payload, "limit", 100, lo=1, hi=10_000)
    return {"sym": sym, "trades": [d.venue.renderer.trade(t) for t in d.venue.history.trades(sym, limit)]}


@op("candles.get")
def _candles(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    sym = p.sym_field(req.payload, d.venue.engine)
    interval_ms = p.int_field(req.payload, "interval_ms", 1000, lo=1)
    depth = p.int_field(req.payload, "depth", 50, lo=1)
    try:
        bars = d.venue.history.candles(sym, interval_ms, depth, d.venue.sequencer.now())
    except ValueError as exc:
        raise ProtocolError(ErrorCode.INVALID_FIELD, str(exc)) from None
    price = d.venue.renderer.price

    def candle(b: Bar) -> dict[str, Any]:
        return {
            "t": b.t,
            "o": price(sym, b.o),
            "h": price(sym, b.h),
            "l": price(sym, b.l),
            "c": price(sym, b.c),
            "v": b.v,
        }

    seq = d.venue.engine.md_seq(sym)
    return {"sym": sym, "interval_ms": interval_ms, "seq": seq, "candles": [candle(b) for b in bars]}


# Trading ops -----------------------------------------------------------------


@op("order.place", sequenced=True)
def _place(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    return d.trading(ctx, p.place_order(req.payload, d.user_id(ctx), d.engine), d.order_payload)


@op("order.cancel", sequenced=True)
def _cancel(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    return d.trading(ctx, p.cancel_order(req.payload, d.user_id(ctx)), d.order_payload)


def _canceled(result: Result) -> dict[str, Any]:
    canceled = accepted(result).canceled
    return {"canceled": canceled, "count": len(canceled)}


@op("order.cancel_all", sequenced=True)
def _cancel_all(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    return d.trading(ctx, p.cancel_all(req.payload, d.user_id(ctx), d.engine), _canceled)


@op("order.amend", sequenced=True)
def _amend(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Outcome:
    return d.trading(ctx, p.amend_order(req.payload, d.user_id(ctx), d.engine), d.order_payload)


@op("orders.list")
def _orders(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    engine = d.venue.engine
    sym = p.sym_field(req.payload, engine) if req.payload.get("sym") is not None else None
    status = req.payload.get("status", "open")
    if status not in ("open", "all"):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'status' must be 'open' or 'all'")
    user_id = d.user_id(ctx)
    orders = engine.open_orders(user_id, sym) if status == "open" else engine.recent_orders(user_id, sym)
    render = d.venue.renderer.order
    return {"orders": [{**render(o), "queue_ahead": engine.queue_position(user_id, o.order_id)} for o in orders]}


@op("fills.list")
def _fills(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    sym = p.sym_field(req.payload, d.venue.engine) if req.payload.get("sym") is not None else None
    limit = p.int_field(req.payload, "limit", 100, lo=1, hi=1000)
    fills = d.venue.fills.fills(d.user_id(ctx), sym, limit)
    return {"fills": [d.venue.renderer.fill(f) for f in fills]}


@dataclass(frozen=True, slots=True)
class Pnl:
    """A user's PnL in cash units, positions marked to each symbol's last trade."""

    realized: int
    unrealized: int
    total: int
    """Cash gained since the start plus the market value of the open positions."""


def pnl(d: Dispatcher, user_id: int) -> Pnl:
    engine, render = d.venue.engine, d.venue.renderer
    realized = unrealized = market_value = 0
    for pos in engine.positions(user_id):
        mark = render.unrealized(pos, engine.last_price(pos.sym))
        realized += pos.realized_pnl
        unrealized += mark
        market_value += pos.cost + mark
    return Pnl(realized, unrealized, engine.cash(user_id) - engine.opening_cash(user_id) + market_value)


@op("account.get")
def _account(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    engine, render = d.venue.engine, d.venue.renderer
    user = ctx.grant.session.user
    assert user is not None
    totals = pnl(d, user.user_id)
    fees = d.venue.fills.fees(user.user_id)
    return {
        "user_id": user.user_id,
        "username": user.username,
        "cash": render.cash(engine.cash(user.user_id)),
        "realized_pnl": render.cash(totals.realized),
        "unrealized_pnl": render.cash(totals.unrealized),
        "fees": render.cash(engine.fees(user.user_id)),
        "positions": [
            {**render.position(pos), "fees": render.cash(fees.get(pos.sym, 0))}
            for pos in engine.positions(user.user_id)
        ],
    }


@op("leaderboard.get")
def _leaderboard(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    """Users ranked by total PnL: cash gained plus open positions marked to the last trade (net of fees)."""
    render, engine = d.venue.renderer, d.venue.engine
    limit = p.int_field(req.payload, "limit", 20, lo=1, hi=1000)
    include_bots = p.bool_field(req.payload, "include_bots")
    users = {u.user_id: u for u in d.venue.users.all() if include_bots or not u.is_bot}
    rows = [(pnl(d, user_id), users[user_id]) for user_id in d.venue.engine.user_ids() if user_id in users]
    rows.sort(key=lambda row: (-row[0].total, row[1].user_id))
    return {
        "leaders": [
            {
                "rank": rank,
                "user_id": user.user_id,
                "username": user.username,
                "is_bot": user.is_bot,
                "pnl": render.cash(totals.total),
                "realized_pnl": render.cash(totals.realized),
                "unrealized_pnl": render.cash(totals.unrealized),
                "fees": render.cash(engine.fees(user.user_id)),
            }
            for rank, (totals, user) in enumerate(rows[:limit], start=1)
        ]
    }


# Admin ops -------------------------------------------------------------------


def _set_status(d: Dispatcher, req: Request, status: SymbolStatus) -> Sequenced:
    sym = p.sym_field(req.payload, d.venue.engine)

    def answer(result: Result) -> dict[str, Any]:
        accepted(result)
        return {"sym": sym, "status": d.venue.engine.status(sym).value}

    return d.sequenced(SetSymbolStatus(sym=sym, status=status), None, answer)


@op("admin.halt", sequenced=True)
def _halt(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Sequenced:
    return _set_status(d, req, SymbolStatus.HALTED)


@op("admin.resume", sequenced=True)
def _resume(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Sequenced:
    return _set_status(d, req, SymbolStatus.TRADING)


@op("admin.auction", sequenced=True)
def _auction(d: Dispatcher, ctx: Context, req: Request, role: Role) -> Sequenced:
    """A call auction: orders collect without trading until `admin.resume` uncrosses the book."""
    return _set_status(d, req, SymbolStatus.AUCTION)


@op("admin.bots", changes_state=True)
async def _bots(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    """Sessions for out-of-process agents (`hftsim bots --url`): bot accounts, funded, logged in.

    Only bot accounts: a name that belongs to a person is refused, so an
    admin cannot borrow a user's identity through this op, and neither can
    it take over one of this server's own in-process agents.
    """
    venue = d.venue
    names = p.name_list_field(req.payload, "names", max_items=MAX_BOTS)
    own = set(venue.agents.sim.agent_names()) if venue.agents is not None else set()
    cash = int(venue.settings.sim.agent_cash.scaleb(venue.engine.cash_decimals))
    opened = set(venue.engine.user_ids())
    bots = []
    for name in names:
        if name in own:
            raise ProtocolError(
                ErrorCode.INVALID_FIELD, f"{name!r} is one of this server's own agents; use another name prefix"
            )
        user = venue.users.ensure_bot(name)
        if not user.is_bot:
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"{name!r} is a user account, not a bot account")
        if user.user_id not in opened:
            accepted(await venue.sequencer.submit(OpenAccount(user_id=user.user_id, cash=cash), user.user_id))
        grant = venue.sessions.issue()
        venue.sessions.bind(grant.session, user)
        bots.append({**whoami(user), "token": grant.token, "expires_at": grant.expires_at})
    audit.info("audit: admin %s opened %d bot session(s)", d.user_id(ctx), len(bots))
    return {"bots": bots}


# Test hooks (only with testing.enable_hooks) ------------------------------------


@op("test.drop_md")
def _drop_md(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    sym = p.sym_field(req.payload, d.venue.engine)
    count = p.int_field(req.payload, "count", 1, lo=1, hi=1000)
    d.venue.hub.drop_next_md(sym, count)
    return {"sym": sym, "count": count}


@op("test.loop_lag")
def _loop_lag(d: Dispatcher, ctx: Context, req: Request, role: Role) -> dict[str, Any]:
    lag = d.venue.loop_lag
    longest = lag.longest
    over = lag.over
    on_cpu_s, on_cpu = lag.longest_on_cpu_s, lag.longest_on_cpu
    longest_s, samples = lag.take()
    longest_gc_s, longest_gc_cpu_s, collections = d.venue.heap.take()
    figures: dict[str, Any] = {
        "longest_stall_ms": round(longest_s * 1000, 3),
        "longest_stall": longest.figures() if longest is not None else None,
        "long_stalls": over,
        "longest_stall_on_cpu_ms": round(on_cpu_s * 1000, 3),
        "longest_stall_on_cpu": on_cpu.figures() if on_cpu is not None else None,
        "samples": samples,
        "longest_gc_ms": round(longest_gc_s * 1000, 3),
        "longest_gc_cpu_ms": round(longest_gc_cpu_s * 1000, 3),
        "collections": collections,
        "settles": d.venue.heap.settles,
    }
    if p.bool_field(req.payload, "frozen"):
        # Only when asked: CPython counts the frozen objects by walking every one, 5-15 ms with a market frozen.
        figures["frozen_objects"] = gc.get_freeze_count()
    return figures
