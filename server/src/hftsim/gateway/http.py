"""HTTP routes: the handshake, the logout, the one-shot request endpoint, the venue's public facts and the
health check."""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..protocol import envelope
from ..protocol.errors import ErrorCode, ProtocolError
from .dispatch import Context, Dispatcher, Reply, respond, whoami
from .sessions import Grant
from .traffic import sender_key

router = APIRouter()

STATUS_OF: dict[str, int] = {
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.INVALID_CREDENTIALS: 401,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.GUEST_DISABLED: 403,
    ErrorCode.ACCOUNT_DISABLED: 403,
    ErrorCode.MESSAGE_TOO_LARGE: 413,
}


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def handshake_error(exc: ProtocolError) -> Response:
    status = STATUS_OF.get(exc.code, 400)
    return json_response({"status": "error", "error": {"code": exc.code, "message": exc.message}}, status)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ProtocolError(ErrorCode.MESSAGE_TOO_LARGE, f"request body above the limit of {limit} bytes")
    return bytes(body)


@router.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok"})


@router.get("/api/info")
async def info(request: Request) -> Response:
    """What a page needs before anyone logs in: whether to offer the guest button, and in a cluster the
    gateways to move to when its own is unreachable."""
    dispatcher: Dispatcher = request.app.state.dispatcher
    settings = dispatcher.venue.settings
    return json_response(
        {"name": "HFT Simulator", "guests": settings.session.allow_guests, "gateways": settings.cluster.gateways}
    )


@router.post("/auth/handshake")
async def handshake(request: Request) -> Response:
    dispatcher: Dispatcher = request.app.state.dispatcher
    venue = dispatcher.venue
    ip = client_ip(request)
    try:
        if not venue.handshake_limiter.allow(ip):
            raise ProtocolError(ErrorCode.RATE_LIMITED, "too many handshakes from this address; retry in a few seconds")
        raw = await read_body(request, venue.settings.server.max_message_bytes)
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise ProtocolError(ErrorCode.BAD_ENVELOPE, "handshake body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ProtocolError(ErrorCode.BAD_ENVELOPE, "handshake body must be a JSON object")
        token = body.get("token")
        if token is not None and not isinstance(token, str):
            raise ProtocolError(ErrorCode.INVALID_FIELD, "field 'token' must be a string")
        grant: Grant = venue.sessions.renew(token) if token else venue.sessions.issue()
        if body.get("username") is not None or body.get("password") is not None or body.get("guest") is True:
            login = {k: body[k] for k in ("username", "password", "guest") if k in body}
            await dispatcher.login(Context(grant=grant, ip=ip), login)
    except ProtocolError as exc:
        return handshake_error(exc)
    return json_response(
        {"status": "ok", **whoami(grant.session.user), "token": grant.token, "expires_at": grant.expires_at}
    )


@router.post("/auth/logout")
async def logout(request: Request) -> Response:
    """Revoke the Bearer token's session and close its sockets with 4003."""
    dispatcher: Dispatcher = request.app.state.dispatcher
    try:
        session = dispatcher.venue.sessions.revoke(bearer(request))
    except ProtocolError as exc:
        return handshake_error(exc)
    dispatcher.sockets.log_out(session.key)
    if dispatcher.venue.revocations is not None:
        await dispatcher.venue.revocations.announce(session.key)
    return json_response({"status": "logged_out"})


@router.post("/api/request")
async def api_request(request: Request) -> Response:
    dispatcher: Dispatcher = request.app.state.dispatcher
    venue = dispatcher.venue
    ts = venue.sequencer.now
    limit = venue.settings.server.max_message_bytes
    raw = b""
    try:
        raw = await read_body(request, limit)
        req = envelope.parse_request(raw, limit)
    except ProtocolError as exc:
        body = envelope.error_response(envelope.salvage_msg_id(raw), None, exc.code, exc.message, ts())
        return Response(body, status_code=STATUS_OF.get(exc.code, 400), media_type="application/json")
    try:
        grant = venue.sessions.resolve(bearer(request))
    except ProtocolError as exc:
        return Response(
            envelope.error_response(req.msg_id, req.op, exc.code, exc.message, ts()),
            status_code=401,
            media_type="application/json",
        )
    session = grant.session
    key = sender_key(session)
    wait = venue.user_messages.retry_after(key)
    if wait:
        venue.rounds.breach_by(session.user)
        retry_ms = math.ceil(wait * 1000)
        message = f"message rate limit exceeded; retry in {retry_ms} ms"
        body = envelope.error_response(req.msg_id, req.op, ErrorCode.RATE_LIMITED, message, ts(), retry_ms)
        return Response(body, status_code=429, media_type="application/json")
    venue.user_messages.allow(key)
    ctx = Context(grant=grant, ip=client_ip(request))

    async def handle(r: envelope.Request) -> Reply:
        return await dispatcher.handle(ctx, r), None

    body, _ = await respond(req, handle, ts, session.replies)
    after = ctx.take_after()
    if after is not None:
        after()
    return Response(body, media_type="application/json")
