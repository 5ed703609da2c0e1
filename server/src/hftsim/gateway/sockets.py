"""The two WebSockets: /ws/cmd (requests + private events) and /ws/md (public data).

Both accept the session token three ways (Authorization header, the
`bearer.<token>` subprotocol browsers can set, or `?token=`) and close the
socket with 4001 when its token expires unless the client renewed it in
time, with 4004 when it neither logged in (CMD) nor subscribed (MD) within
`server.login_deadline_s`, and with 4005 past the per-token or per-user
socket limit. Foreign hosts and origins are refused before the upgrade.

Each connection is a picows listener: frames arrive as calls, not awaits,
and are answered in order. Commands for the sequencer are handed over
without waiting for the previous one's result, so the orders one read
brings share one journal write; any other request waits until they are
applied, so it sees their effects. A connection that must wait (for a rate
limit's retry time, a login's password check, or those commands) stops
reading its socket: what the sender sends meanwhile waits in its own
buffers.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any, Final
from urllib.parse import parse_qs

from picows import (
    WSCloseCode,
    WSFrame,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
)

from ..engine import Result
from ..protocol import envelope
from ..protocol.envelope import Payload, Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.users import User
from .clock import Clock
from .dispatch import SEQUENCED, Context, Dispatcher, Outcome, Sequenced, conclude
from .hosts import HostRules
from .outbox import CLOSE_DEADLINE, CLOSE_INVALID_TOKEN, CLOSE_RATE_LIMITED, CLOSE_TOKEN_EXPIRED, Outbox
from .sequencer import Waiter
from .sessions import Grant
from .traffic import Admission, sender_key
from .transport import Listener, hand_over

log = logging.getLogger(__name__)

SUBPROTOCOL = "hftsim.v1"
BEARER_PREFIX = "bearer."
MAX_IN_FLIGHT: Final = 256
"""Commands one socket may have in the sequencer at once; the next waits (unread) for their answers."""
CMD_PATH = "/ws/cmd"
MD_PATH = "/ws/md"
TEXT: Final = WSMsgType.TEXT
CLOSE: Final = WSMsgType.CLOSE
PONG: Final = WSMsgType.PONG
CONTINUATION: Final = WSMsgType.CONTINUATION
"""A frame's kinds, looked up once: reading a member off the enum class costs more than the comparison. A frame's
kind is compared by identity (an enum's members are its only instances): `==` was a generic rich comparison."""


def socket_token(request: WSUpgradeRequest, query: str) -> str | None:
    headers = request.headers
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for proto in offered_subprotocols(request):
        if proto.startswith(BEARER_PREFIX):
            return proto[len(BEARER_PREFIX) :]
    tokens = parse_qs(query).get("token")
    return tokens[0] if tokens else None


def offered_subprotocols(request: WSUpgradeRequest) -> list[str]:
    return [p.strip() for value in request.headers.getall("sec-websocket-protocol", []) for p in value.split(",")]


class SocketServer:
    """Takes WebSocket upgrades over from the HTTP server and gives each socket its connection."""

    def __init__(self, dispatcher: Dispatcher, rules: HostRules, max_frame: int) -> None:
        self.dispatcher = dispatcher
        self._rules = rules
        self._max_frame = max_frame

    def upgrade(self, transport: asyncio.Transport, request: bytes) -> None:
        peer = transport.get_extra_info("peername")
        client = f"{peer[0]}:{peer[1]}" if peer else "-"
        hand_over(transport, request, partial(self._route, client), self._max_frame)

    def _route(self, client: str, request: WSUpgradeRequest) -> Listener | WSUpgradeResponseWithListener | None:
        """The connection for an upgrade request, or the HTTP error that refuses it."""
        target = request.path.decode("latin-1")
        path, _, query = target.partition("?")
        if path not in (CMD_PATH, MD_PATH):
            log.info('%s - "WebSocket %s" 404', client, target)
            return None
        refused = self._rules.refusal(request.headers.get("host", ""), request.headers.get("origin"))
        if refused is not None:
            status, message = refused
            log.info('%s - "WebSocket %s" %d', client, target, status)
            response = WSUpgradeResponse.create_error_response(status, message.encode())
            return WSUpgradeResponseWithListener(response, None)
        log.info('%s - "WebSocket %s" [accepted]', client, target)  # logs.py shows it at debug level
        log.debug("WebSocket upgrade headers: %s", list(request.headers.items()))
        setup = cmd_setup if path == CMD_PATH else md_setup
        conn = Connection(self.dispatcher, setup, socket_token(request, query), f'{client} - "WebSocket {target}"')
        listener = Listener(conn)
        if SUBPROTOCOL in offered_subprotocols(request):
            response = WSUpgradeResponse.create_101_response({"Sec-WebSocket-Protocol": SUBPROTOCOL})
            return WSUpgradeResponseWithListener(response, listener)
        return listener


class ExpiryTimer:
    """Closes the socket with 4001 when its current token expires."""

    def __init__(self, outbox: Outbox, grant: Grant, now: int) -> None:
        self._outbox = outbox
        self._handle: asyncio.TimerHandle | None = None
        self.reset(grant, now)

    def reset(self, grant: Grant, now: int) -> None:
        if self._handle is not None:
            self._handle.cancel()
        delay = max(0.0, (grant.expires_at - now) / 1000)
        self._handle = asyncio.get_running_loop().call_later(
            delay, self._outbox.close, CLOSE_TOKEN_EXPIRED, "token expired: renew it and reconnect"
        )

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


class Deadline:
    """Closes the socket with 4004 unless it is put to use (`met`) in time: an idle socket only costs the server."""

    def __init__(self, outbox: Outbox, seconds: float) -> None:
        self._handle: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            seconds,
            outbox.close,
            CLOSE_DEADLINE,
            f"no auth.login (CMD) or md.subscribe (MD) within {seconds:g} s",
        )

    def met(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


Handler = Callable[[Request], Outcome]
"""Answers one request of a socket (raising ProtocolError for what the client must hear)."""


class Socket:
    """What a CMD or MD setup gets to build its handler from."""

    def __init__(self, grant: Grant, outbox: Outbox, ctx: Context, timer: ExpiryTimer, deadline: Deadline) -> None:
        self.grant = grant
        self.outbox = outbox
        self.ctx = ctx
        self.timer = timer
        self.deadline = deadline
        self.teardown: Callable[[], None] = lambda: None


Setup = Callable[[Dispatcher, Socket], Handler]


class Connection:
    """One socket: its frames in, its requests answered in order, its outbox out (picows calls it through a
    transport.Listener)."""

    def __init__(self, dispatcher: Dispatcher, setup: Setup, token: str | None, name: str) -> None:
        self._name = name
        """The socket in log lines: its peer and its path."""
        self._dispatcher = dispatcher
        self._setup = setup
        self._token = token
        self._fragments: list[bytes] = []
        self._fragment_type: WSMsgType | None = None
        self._inbox: deque[bytes] = deque()
        """The messages read and not yet answered, as their bytes: a text frame's checked as UTF-8 and kept so, as
        `envelope.parse_request` reads bytes without a str made of them first."""
        self._deferred: Request | None = None
        """A parsed request waiting for this socket's commands in the sequencer to be applied."""
        self._in_flight = 0
        self._held = False
        """Waiting for a retry time or an async handler: nothing more is answered meanwhile."""
        self._reading = True
        self._more_read = False
        """The frame being answered is not the last of its read: more of this socket's requests follow in this
        pass, so a command it hands over joins theirs in the next drain instead of being applied at once."""
        self._socket: Socket | None = None
        self._sender: User | None = None
        self._sender_key: str | None = None
        """Whose message bucket this socket's messages draw on (`sender_key`), kept until its user changes."""
        self._handle: Handler | None = None
        self._ws: WSTransport | None = None

    # picows callbacks ----------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._ws = transport
        venue = self._dispatcher.venue
        server = venue.settings.server
        hub = venue.hub
        flusher = hub.late if self._setup is md_setup else hub.cmd_flush
        outbox = Outbox(transport, server.send_queue_limit, server.stall_s, flusher, server.send_queue_bytes)
        self.outbox = outbox
        try:
            grant = venue.sessions.resolve(self._token)
        except ProtocolError as exc:
            code = CLOSE_TOKEN_EXPIRED if exc.code == ErrorCode.TOKEN_EXPIRED else CLOSE_INVALID_TOKEN
            outbox.close(code, exc.message[:120])
            return
        sequencer = venue.sequencer
        peer = transport.underlying_transport.get_extra_info("peername")
        ctx = Context(grant=grant, ip=str(peer[0]) if peer else "unknown")
        timer = ExpiryTimer(outbox, grant, sequencer.now())
        deadline = Deadline(outbox, server.login_deadline_s)
        session = grant.session
        self._dispatcher.sockets.add(outbox, grant.token, session.key, session.user.user_id if session.user else None)
        self._socket = Socket(grant, outbox, ctx, timer, deadline)
        self._admission = Admission(
            venue.settings.traffic, venue.user_messages, on_breach=lambda: venue.rounds.breach_by(session.user)
        )
        self._limit = server.max_message_bytes
        self._max_in_flight = min(MAX_IN_FLIGHT, venue.settings.traffic.queued_per_user)
        self._clock: Clock = sequencer.clock
        self._handle = self._setup(self._dispatcher, self._socket)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        # picows gives a frame's flags as ints where its stubs say bool, and compiled code checks each value
        # against its declared type: the flags are read off the frame untyped.
        flags: Any = frame
        kind = frame.msg_type
        if kind is CLOSE:
            self._closing_handshake(transport, frame)
            return
        if kind is PONG or self._socket is None or not self.outbox.is_open:
            return  # frames arriving while our close is under way are read and dropped
        if flags.rsv1 or flags.rsv2 or flags.rsv3:
            self._fault(WSCloseCode.PROTOCOL_ERROR, "reserved bits set without an extension")
            return
        if kind is CONTINUATION:
            if self._fragment_type is None:
                self._fault(WSCloseCode.PROTOCOL_ERROR, "continuation frame with nothing to continue")
                return
            self._fragments.append(frame.get_payload_as_bytes())
            if sum(map(len, self._fragments)) > self._dispatcher.venue.settings.server.max_message_bytes * 16:
                self._fault(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
                return
            if not flags.fin:
                return
            kind, self._fragment_type = self._fragment_type, None
            data = b"".join(self._fragments)
            self._fragments = []
        elif self._fragment_type is not None:
            self._fault(WSCloseCode.PROTOCOL_ERROR, "new message inside a fragmented one")
            return
        elif not flags.fin:
            self._fragment_type = kind
            self._fragments = [frame.get_payload_as_bytes()]
            return
        else:
            data = frame.get_payload_as_bytes()
        if kind is TEXT and not data.isascii() and not _utf8(data):
            log.info("closing a connection that sent text that is not UTF-8")
            self._fault(WSCloseCode.INVALID_TEXT, "text frames must be UTF-8")
            return
        self._inbox.append(data)
        self._more_read = not flags.last_in_buffer
        self._pump()
        self._more_read = False

    def pause_writing(self) -> None:
        if self._socket is not None:
            self.outbox.pause()

    def resume_writing(self) -> None:
        if self._socket is not None:
            self.outbox.resume()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        log.info("%s closed", self._name)  # logs.py shows it at debug level
        sock = self._socket
        if sock is None:
            if hasattr(self, "outbox"):
                self.outbox.gone()
            return
        sock.timer.cancel()
        sock.deadline.met()
        self._dispatcher.sockets.remove(sock.outbox)
        sock.teardown()
        sock.outbox.gone()
        self._inbox.clear()
        self._forget(sock)

    def _forget(self, sock: Socket) -> None:
        """Drop the closures and links that tie the socket's objects in cycles, so reference counting frees them.

        The server's collector never walks what outlived a settle (heap.py): a cycle left here would stay.
        """
        sock.ctx.on_login = sock.ctx.on_renew = sock.ctx.after = None
        sock.teardown = _nothing
        self._handle = None
        self._ws = None

    # Frames ---------------------------------------------------------------------

    def _closing_handshake(self, transport: WSTransport, frame: WSFrame) -> None:
        """The peer closes: answer its close frame (unless we sent ours first), then end the connection."""
        state: Any = transport  # as in on_ws_frame: a flag picows may give as an int
        if not state.is_close_frame_sent:
            code = frame.get_close_code()
            transport.send_close(code if code != WSCloseCode.NO_INFO else WSCloseCode.OK)
        transport.disconnect()

    def _fault(self, code: WSCloseCode, reason: str) -> None:
        """A frame RFC 6455 forbids: close this connection alone with the code it prescribes."""
        if self._socket is not None:
            self.outbox.close(code.value, reason)
        elif self._ws is not None:
            self._ws.send_close(code, reason.encode())
            self._ws.disconnect()

    # Requests -------------------------------------------------------------------

    def _pump(self) -> None:
        """Answer what arrived, in order, until the inbox is empty or the socket has to wait."""
        inbox = self._inbox
        while not self._held and self.outbox.is_open:
            deferred = self._deferred
            if deferred is not None:
                if not self._may_answer(deferred):
                    break
                self._deferred = None
                self._answer(deferred)
                continue
            if not inbox:
                break
            data = inbox.popleft()
            if not self._admit(data):
                continue
            try:
                req = envelope.parse_request(data, self._limit)
            except ProtocolError as exc:
                msg_id = envelope.salvage_msg_id(data)
                self.outbox.push(envelope.error_response(msg_id, None, exc.code, exc.message, self._clock.now()))
                continue
            if not self._may_answer(req):
                self._deferred = req
                break
            self._answer(req)
        waiting = bool(inbox) or self._deferred is not None
        if waiting == self._reading and self.outbox.is_open:
            self._reading = not waiting
            raw = self.outbox.transport
            if waiting:
                raw.pause_reading()
            else:
                raw.resume_reading()

    def _may_answer(self, req: Request) -> bool:
        """Only commands for the sequencer overtake the answers of earlier ones, and only so many at a time."""
        return not self._in_flight or (req.op in SEQUENCED and self._in_flight < self._max_in_flight)

    def _admit(self, data: bytes) -> bool:
        """Apply the rate limits and the breach policy to one frame; False when it is not to be answered."""
        admission = self._admission
        assert self._socket is not None
        session = self._socket.grant.session
        key = self._sender_key
        if key is None or session.user is not self._sender:
            key = self._sender_key = sender_key(session)
            self._sender = session.user
        wait = admission.admit(key)
        if not wait:
            return True
        if admission.policy == "throttle":
            self._inbox.appendleft(data)  # read again once a token is due
            self._hold(wait)
            return False
        if admission.breach():
            self.outbox.close(CLOSE_RATE_LIMITED, "message rate limit exceeded too often")
            return False
        retry_ms = math.ceil(wait * 1000)
        message = f"message rate limit exceeded; retry in {retry_ms} ms (limits are in the auth.login response)"
        msg_id, op = envelope.salvage_msg_id(data), envelope.salvage_op(data)
        ts = self._clock.now()
        self.outbox.push(envelope.error_response(msg_id, op, ErrorCode.RATE_LIMITED, message, ts, retry_ms))
        # Read nothing more from this socket until the retry time: what a flooder sends meanwhile waits in
        # its own socket buffers and costs the venue nothing, instead of a refusal each. Whole milliseconds,
        # as announced: the loop's timers are no finer, and a shorter wait would end before the token is due.
        self._hold(retry_ms / 1000)
        return False

    def _hold(self, seconds: float) -> None:
        self._held = True
        asyncio.get_running_loop().call_later(seconds, self._release)

    def _release(self) -> None:
        self._held = False
        self._pump()

    def _answer(self, req: Request) -> None:
        """Answer one request once per session: run it, or give a repeated msg_id its first answer."""
        sock = self._socket
        assert sock is not None and self._handle is not None
        replies = sock.grant.session.replies
        try:
            earlier = replies.begin(req.msg_id, req.op)
        except ProtocolError as exc:
            self.outbox.push(envelope.error_response(req.msg_id, req.op, exc.code, exc.message, self._clock.now()))
            return
        if earlier is not None:
            self.outbox.push(earlier)
            return
        try:
            outcome = self._handle(req)
        except Exception as exc:
            self._reply(req, None, exc)
            return
        if isinstance(outcome, dict):
            self._reply(req, outcome, None)
        elif isinstance(outcome, Sequenced):
            self._in_flight += 1  # before it is sent: the sequencer may apply and answer it at once (`last`)
            try:
                self._dispatcher.send(outcome, Pending(self, req, outcome), not self._more_read and not self._inbox)
            except ProtocolError as exc:
                self._in_flight -= 1
                self._reply(req, None, exc)
                return
        else:
            self._held = True
            asyncio.ensure_future(outcome).add_done_callback(lambda done: self._awaited(req, done))

    def _awaited(self, req: Request, done: asyncio.Future[Payload]) -> None:
        self._held = False
        error = done.exception()
        self._reply(req, None if error is not None else done.result(), error)
        self._pump()

    def _reply(self, req: Request, payload: Payload | None, error: BaseException | None) -> None:
        sock = self._socket
        assert sock is not None
        self.outbox.push(conclude(req, payload, error, self._clock.now(), sock.grant.session.replies))
        after = sock.ctx.take_after()
        if after is not None:
            after()

    def settled(self, req: Request, payload: Payload | None, error: BaseException | None) -> None:
        """A command of this socket was applied (or refused): answer it, and go on if others waited for it."""
        self._in_flight -= 1
        self._reply(req, payload, error)
        if self._deferred is not None and self._may_answer(self._deferred):
            self._pump()


def _utf8(data: bytes) -> bool:
    """Whether `data` is UTF-8 (RFC 6455 fails a connection whose text is not): asked only of text that is not
    ASCII, which is UTF-8 as it is."""
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _nothing() -> None:
    """A closed socket's teardown: it was done once."""


class Pending(Waiter):
    """A socket's command in the sequencer: its answer is pushed in the very pass that applies it."""

    __slots__ = ("_conn", "_req", "_sequenced")

    def __init__(self, conn: Connection, req: Request, sequenced: Sequenced) -> None:
        super().__init__(conn.outbox)
        self._conn = conn
        self._req = req
        self._sequenced = sequenced

    def resolved(self, result: Result) -> None:
        try:
            payload = self._sequenced.answer(result)
        except Exception as exc:
            self._conn.settled(self._req, None, exc)
            return
        self._conn.settled(self._req, payload, None)

    def refused(self, error: ProtocolError) -> None:
        self._conn.settled(self._req, None, error)


def cmd_setup(dispatcher: Dispatcher, sock: Socket) -> Handler:
    hub, sequencer = dispatcher.venue.hub, dispatcher.venue.sequencer
    outbox, ctx = sock.outbox, sock.ctx
    registered: list[int] = []

    def on_login(previous: User | None, user: User) -> None:
        sock.deadline.met()
        if not dispatcher.sockets.bind(outbox, user.user_id):
            return
        for user_id in registered:
            hub.remove_cmd(user_id, outbox)
        registered[:] = [user.user_id]
        hub.add_cmd(user.user_id, outbox)

    ctx.on_login = on_login
    ctx.on_renew = lambda g: sock.timer.reset(g, sequencer.now())
    if sock.grant.session.user is not None:
        on_login(None, sock.grant.session.user)

    def teardown() -> None:
        for user_id in registered:
            hub.remove_cmd(user_id, outbox)

    sock.teardown = teardown
    return partial(dispatcher.start, ctx)


def md_setup(dispatcher: Dispatcher, sock: Socket) -> Handler:
    hub = dispatcher.venue.hub
    hub.add_md(sock.outbox)
    sock.teardown = lambda: hub.remove_md(sock.outbox)
    return lambda req: md_request(dispatcher, sock, req)


def md_syms(dispatcher: Dispatcher, req: Request) -> list[str]:
    known = [i.sym for i in dispatcher.venue.engine.instruments]
    syms = req.payload.get("syms", "*")
    if syms == "*":
        return known
    if not isinstance(syms, list) or not all(isinstance(s, str) for s in syms):
        raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'syms' must be a list of symbols or \"*\"")
    unknown = [s for s in syms if s not in known]
    if unknown:
        raise ProtocolError("UNKNOWN_SYMBOL", f"unknown symbols {unknown}; symbols are {', '.join(known)}")
    return list(dict.fromkeys(syms))


def md_request(dispatcher: Dispatcher, sock: Socket, req: Request) -> dict[str, Any]:
    """Answer one MD request; a subscription's snapshots follow its response."""
    hub, outbox = dispatcher.venue.hub, sock.outbox
    if req.op == "md.subscribe":
        syms = md_syms(dispatcher, req)
        sock.deadline.met()
        sock.ctx.after = lambda: hub.subscribe(outbox, syms)
        return {"syms": syms}
    if req.op == "md.unsubscribe":
        hub.unsubscribe(outbox, md_syms(dispatcher, req))
        return {"syms": hub.subscriptions(outbox)}
    if req.op == "md.snapshot":
        syms = md_syms(dispatcher, Request(req.msg_id, req.op, {"syms": [req.payload.get("sym")]}))
        return hub.snapshot(syms[0])
    if req.op == "md.renew":
        token = req.payload.get("token")
        grant = dispatcher.venue.sessions.resolve(token if isinstance(token, str) else None)
        sock.timer.reset(grant, dispatcher.venue.sequencer.now())
        return {"expires_at": grant.expires_at}
    if req.op == "ping":
        return {"ts": dispatcher.venue.sequencer.now()}
    raise ProtocolError(
        ErrorCode.UNKNOWN_OP,
        f"unknown MD op {req.op!r}; MD ops are md.subscribe, md.unsubscribe, md.snapshot, md.renew",
    )
