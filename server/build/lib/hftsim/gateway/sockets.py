"""The two WebSockets: /ws/cmd (requests + private events) and /ws/md (public data).

Both accept the session token three ways (Authorization header, the
`bearer.<token>` subprotocol browsers can set, or `?token=`) and close the
socket with 4001 when its token expires unless the client renewed it in
time, with 4004 when it neither logged in (CMD) nor subscribed (MD) within
`server.login_deadline_s`, and with 4005 past the per-token or per-user
socket limit. Foreign hosts and origins are refused before the upgrade
(hosts.py).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..protocol import envelope
from ..protocol.envelope import Request
from ..protocol.errors import ErrorCode, ProtocolError
from ..store.users import User
from .dispatch import Context, Dispatcher, Handle, Reply, respond
from .outbox import CLOSE_DEADLINE, CLOSE_INVALID_TOKEN, CLOSE_RATE_LIMITED, CLOSE_TOKEN_EXPIRED, Outbox
from .replies import Replies
from .sessions import Grant, Session
from .traffic import Admission

router = APIRouter()

SUBPROTOCOL = "hftsim.v1"
BEARER_PREFIX = "bearer."


def socket_token(ws: WebSocket) -> str | None:
    scheme, _, token = ws.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    protocols: list[str] = ws.scope.get("subprotocols", [])
    for proto in protocols:
        if proto.startswith(BEARER_PREFIX):
            return proto[len(BEARER_PREFIX) :]
    return ws.query_params.get("token") or None


async def open_socket(ws: WebSocket, dispatcher: Dispatcher) -> tuple[Grant, Outbox] | None:
    """Check the token, accept, and give the socket its outbox; None if refused."""
    settings = dispatcher.venue.settings.server
    offered = ws.scope.get("subprotocols", [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    try:
        grant = dispatcher.venue.sessions.resolve(socket_token(ws))
    except ProtocolError as exc:
        code = CLOSE_TOKEN_EXPIRED if exc.code == ErrorCode.TOKEN_EXPIRED else CLOSE_INVALID_TOKEN
        await ws.close(code=code, reason=exc.message[:120])
        return None
    return grant, Outbox(ws, settings.send_queue_limit, settings.stall_s, settings.send_queue_bytes)


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


async def receive_frames(ws: WebSocket, outbox: Outbox) -> Any:
    """Yield each text (or binary) frame until the peer goes away.

    Frames arriving while our close is under way are read and dropped: the
    handler must stay alive until the close handshake ends, or the server
    would reset a connection whose close frame is still queued.
    """
    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        if not outbox.is_open:
            continue
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        yield data


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


Setup = Callable[[Grant, Outbox, ExpiryTimer, Deadline], tuple[Handle, Callable[[], None]]]
"""Prepares one socket's request handler and its clean-up."""


async def serve_socket(ws: WebSocket, dispatcher: Dispatcher, setup: Setup) -> None:
    """The life of one socket: open it, answer each frame with `handle`, clean up with `teardown`."""
    opened = await open_socket(ws, dispatcher)
    if opened is None:
        return
    grant, outbox = opened
    venue = dispatcher.venue
    sequencer = venue.sequencer
    timer = ExpiryTimer(outbox, grant, sequencer.now())
    deadline = Deadline(outbox, venue.settings.server.login_deadline_s)
    session = grant.session
    dispatcher.sockets.add(outbox, grant.token, session.key, session.user.user_id if session.user else None)
    handle, teardown = setup(grant, outbox, timer, deadline)
    limit = venue.settings.server.max_message_bytes
    admission = Admission(venue.settings.traffic, venue.user_messages)
    try:
        async for data in receive_frames(ws, outbox):
            if await admitted(admission, outbox, data, sender_key(session), sequencer.now):
                await answer(outbox, data, limit, sequencer.now, handle, session.replies)
    except asyncio.CancelledError:
        if not outbox.abandoned:
            raise
    finally:
        timer.cancel()
        deadline.met()
        dispatcher.sockets.remove(outbox)
        teardown()
        await outbox.flush_and_stop()


def sender_key(session: Session) -> str:
    """Whose message bucket a message draws on: the user's once logged in, else the session's."""
    return f"u{session.user.user_id}" if session.user is not None else f"s{session.key}"


async def admitted(admission: Admission, outbox: Outbox, data: str | bytes, key: str, now: Callable[[], int]) -> bool:
    """Apply the rate limits and the breach policy to one frame; False when it is not to be answered."""
    while True:
        wait = admission.admit(key)
        if not wait:
            return True
        if admission.policy != "throttle":
            break
        await asyncio.sleep(wait)  # not reading the socket pushes back on the sender alone
    if admission.breach():
        outbox.close(CLOSE_RATE_LIMITED, "message rate limit exceeded too often")
        return False
    retry_ms = math.ceil(wait * 1000)
    message = f"message rate limit exceeded; retry in {retry_ms} ms (limits are in the auth.login response)"
    msg_id = envelope.salvage_msg_id(data)
    outbox.push(envelope.error_response(msg_id, None, ErrorCode.RATE_LIMITED, message, now(), retry_ms))
    # Read nothing more from this socket until the retry time: what a flooder sends meanwhile waits in
    # its own socket buffers and costs the venue nothing, instead of a refusal each. Whole milliseconds,
    # as announced: the loop's timers are no finer, and a shorter wait would end before the token is due.
    await asyncio.sleep(retry_ms / 1000)
    return False


async def answer(
    outbox: Outbox, data: str | bytes, limit: int, now: Callable[[], int], handle: Handle, replies: Replies
) -> None:
    try:
        req = envelope.parse_request(data, limit)
    except ProtocolError as exc:
        outbox.push(envelope.error_response(envelope.salvage_msg_id(data), None, exc.code, exc.message, now()))
        return
    frame, follow_up = await respond(req, handle, now, replies)
    outbox.push(frame)
    if follow_up is not None:
        follow_up()


@router.websocket("/ws/cmd")
async def cmd_socket(ws: WebSocket) -> None:
    dispatcher: Dispatcher = ws.app.state.dispatcher
    hub, sequencer = dispatcher.venue.hub, dispatcher.venue.sequencer

    def setup(
        grant: Grant, outbox: Outbox, timer: ExpiryTimer, deadline: Deadline
    ) -> tuple[Handle, Callable[[], None]]:
        registered: list[int] = []

        def on_login(previous: User | None, user: User) -> None:
            deadline.met()
            if not dispatcher.sockets.bind(outbox, user.user_id):
                return
            for user_id in registered:
                hub.remove_cmd(user_id, outbox)
            registered[:] = [user.user_id]
            hub.add_cmd(user.user_id, outbox)

        ctx = Context(
            grant=grant,
            ip=ws.client.host if ws.client else "unknown",
            on_login=on_login,
            on_renew=lambda g: timer.reset(g, sequencer.now()),
        )
        if grant.session.user is not None:
            on_login(None, grant.session.user)

        async def handle(req: Request) -> Reply:
            return await dispatcher.handle(ctx, req), ctx.take_after()

        def teardown() -> None:
            for user_id in registered:
                hub.remove_cmd(user_id, outbox)

        return handle, teardown

    await serve_socket(ws, dispatcher, setup)


@router.websocket("/ws/md")
async def md_socket(ws: WebSocket) -> None:
    dispatcher: Dispatcher = ws.app.state.dispatcher
    hub = dispatcher.venue.hub

    def setup(
        grant: Grant, outbox: Outbox, timer: ExpiryTimer, deadline: Deadline
    ) -> tuple[Handle, Callable[[], None]]:
        hub.add_md(outbox)

        async def handle(req: Request) -> Reply:
            return md_request(dispatcher, outbox, req, timer, deadline)

        return handle, lambda: hub.remove_md(outbox)

    await serve_socket(ws, dispatcher, setup)


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


def md_request(dispatcher: Dispatcher, outbox: Outbox, req: Request, timer: ExpiryTimer, deadline: Deadline) -> Reply:
    """Answer one MD request; a subscription's snapshots follow its response."""
    hub = dispatcher.venue.hub
    if req.op == "md.subscribe":
        syms = md_syms(dispatcher, req)
        deadline.met()
        return {"syms": syms}, lambda: hub.subscribe(outbox, syms)
    if req.op == "md.unsubscribe":
        hub.unsubscribe(outbox, md_syms(dispatcher, req))
        return {"syms": hub.subscriptions(outbox)}, None
    if req.op == "md.snapshot":
        syms = md_syms(dispatcher, Request(req.msg_id, req.op, {"syms": [req.payload.get("sym")]}))
        return hub.snapshot(syms[0]), None
    if req.op == "md.renew":
        token = req.payload.get("token")
        grant = dispatcher.venue.sessions.resolve(token if isinstance(token, str) else None)
        timer.reset(grant, dispatcher.venue.sequencer.now())
        return {"expires_at": grant.expires_at}, None
    if req.op == "ping":
        return {"ts": dispatcher.venue.sequencer.now()}, None
    raise ProtocolError(
        ErrorCode.UNKNOWN_OP,
        f"unknown MD op {req.op!r}; MD ops are md.subscribe, md.unsubscribe, md.snapshot, md.renew",
    )
