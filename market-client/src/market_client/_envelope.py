"""The v1 envelope, without I/O: build requests, classify what arrives.

`Envelopes` fills in `type`, `ver`, `msg_id` and `ts` so no caller ever
writes them by hand; `parse` turns a frame into a `Response` (matched by
`corr_id`) or an `Event`; `error_for` maps a refused response to the right
exception class. The asyncio sessions only move the bytes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ._exceptions import AuthenticationError, OrderRejected, ServerError

PROTOCOL_VERSION = 1

JSON = dict[str, Any]

AUTH_CODES = frozenset({"UNAUTHENTICATED", "INVALID_TOKEN", "TOKEN_EXPIRED", "INVALID_CREDENTIALS", "GUEST_DISABLED"})
"""Codes meaning "who you are" failed, whatever the op: AuthenticationError."""

ORDER_OPS = frozenset({"order.place", "order.amend"})
"""Ops whose refusal is an order rejection: OrderRejected."""
RESTATED = {"order.place": "order.accepted", "order.amend": "order.amended", "order.cancel": "order.canceled"}
"""The event the server leaves out for the socket whose response already carries the order (one frame per ack)."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Envelopes:
    """Builds request envelopes with ids unique for the life of the builder.

    One builder serves a client across reconnects, so a late response from
    a dead connection can never be matched to a new request.
    """

    def __init__(self, prefix: str = "c", clock: Callable[[], int] = now_ms) -> None:
        self._prefix = prefix
        self._ids = itertools.count(1)
        self._clock = clock

    def next_id(self) -> str:
        """A msg_id never handed out before by this builder."""
        return f"{self._prefix}-{next(self._ids)}"

    def request(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        as_role: str | None = None,
        *,
        msg_id: str | None = None,
    ) -> tuple[str, bytes]:
        """Return (msg_id, encoded frame) for one request; `msg_id` given: a copy of an earlier one."""
        if msg_id is None:
            msg_id = self.next_id()
        message: JSON = {
            "type": "request",
            "ver": PROTOCOL_VERSION,
            "msg_id": msg_id,
            "ts": self._clock(),
            "op": op,
            "payload": dict(payload) if payload is not None else {},
        }
        if as_role is not None:
            message["as"] = as_role
        return msg_id, orjson.dumps(message)


@dataclass(frozen=True, slots=True)
class Response:
    """A server response; `ok` false means `error` holds the code and message."""

    corr_id: str | None
    op: str
    ok: bool
    payload: JSON
    ts: int | None
    error_code: str | None = None
    error_message: str | None = None
    raw: JSON = field(default_factory=dict, repr=False)

    def error(self) -> ServerError:
        """The exception this refused response stands for."""
        return error_for(self.op, self.error_code or "UNKNOWN", self.error_message or "")


@dataclass(frozen=True, slots=True)
class Event:
    """A server-pushed event: `op` names it, `raw` is the whole envelope."""

    op: str
    payload: JSON
    ts: int | None
    raw: JSON = field(default_factory=dict, repr=False)


def restated(response: Response) -> Event | None:
    """The event a response stands for on its own socket: `order.accepted` for a placed order, and so on.

    The server does not send the socket that placed, amended or canceled an
    order the event that says what the response says; a client that keeps
    one stream of its order events makes the event from the response. That
    event is always its command's first (`gidx` 0), and the response gives
    the command's `gseq`.
    """
    op = RESTATED.get(response.op)
    if op is None or not response.ok:
        return None
    payload: JSON = {"order": response.payload.get("order")}
    if op == "order.canceled":
        payload["reason"] = "user"
    gseq = response.payload.get("gseq")
    if isinstance(gseq, int):  # the command's first event: its place in the engine's order
        payload["gseq"], payload["gidx"] = gseq, 0
    raw: JSON = {"type": "event", "ver": PROTOCOL_VERSION, "msg_id": response.raw.get("msg_id"), "ts": response.ts}
    raw.update(op=op, payload=payload)
    return Event(op=op, payload=payload, ts=response.ts, raw=raw)


def whole_fill(payload: JSON) -> JSON | None:
    """The Fill of an order.filled / order.partially_filled payload, with its order's id, client id, sym and side.

    The event's fill leaves those out: they are its order's (docs/protocol.md).
    """
    fill, order = payload.get("fill"), payload.get("order")
    if not isinstance(fill, dict) or not isinstance(order, dict):
        return None
    return {**fill, **{k: order.get(k) for k in ("order_id", "client_order_id", "sym", "side")}}


class EnvelopeError(ValueError):
    """A frame from the server that is not a v1 response or event."""


def parse(frame: str | bytes) -> Response | Event:
    """Classify one frame; raise EnvelopeError when it is not a valid envelope."""
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise EnvelopeError("frame is not a JSON object")
    kind = message.get("type")
    op = message.get("op")
    payload = message.get("payload")
    if payload is None:
        payload = {}
    if op is None and kind == "response":
        op = ""  # refused before its op was read (RATE_LIMITED, BAD_ENVELOPE): still the answer to corr_id
    if not isinstance(op, str) or not isinstance(payload, dict):
        raise EnvelopeError(f"envelope without a valid op or payload: {message!r:.200}")
    ts = message.get("ts") if isinstance(message.get("ts"), int) else None
    if kind == "event":
        return Event(op=op, payload=payload, ts=ts, raw=message)
    if kind != "response":
        raise EnvelopeError(f"unexpected envelope type {kind!r}")
    corr_id = message.get("corr_id")
    ok = message.get("ok") is True
    code = message_ = None
    if not ok:
        error = message.get("error")
        if isinstance(error, dict):
            code = str(error.get("code", "UNKNOWN"))
            message_ = str(error.get("message", ""))
    return Response(
        corr_id=corr_id if isinstance(corr_id, str) else None,
        op=op,
        ok=ok,
        payload=payload,
        ts=ts,
        error_code=code,
        error_message=message_,
        raw=message,
    )


def error_for(op: str | None, code: str, message: str) -> ServerError:
    """Pick the exception class for a refusal: auth codes first, then order ops."""
    if code in AUTH_CODES:
        return AuthenticationError(code, message, op)
    if op in ORDER_OPS:
        return OrderRejected(code, message, op)
    return ServerError(code, message, op)
