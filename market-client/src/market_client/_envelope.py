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

    def __init__(self, prefix: str = "c", clock_ns: Callable[[], int] = time.time_ns) -> None:
        """`clock_ns` gives the sender's clock in nanoseconds (the envelope's `ts` is its milliseconds): by
        default the builtin itself, with no function of ours around it to call per request."""
        self._prefix = prefix
        self._ids = itertools.count(1)
        self._clock_ns = clock_ns

    def next_id(self) -> str:
        """A msg_id never handed out before by this builder."""
        return f"{self._prefix}-{next(self._ids)}"

    def request(
        self,
        op: str,
        payload: Mapping[str, Any] | None = None,
        as_role: str | None = None,
        msg_id: str | None = None,
    ) -> tuple[str, bytes]:
        """Return (msg_id, encoded frame) for one request; `msg_id` given: a copy of an earlier one."""
        if msg_id is None:
            msg_id = self.next_id()
        message: JSON = {
            "type": "request",
            "ver": PROTOCOL_VERSION,
            "msg_id": msg_id,
            "ts": self._clock_ns() // 1_000_000,
            "op": op,
            "payload": {} if payload is None else payload if type(payload) is dict else dict(payload),
        }
        if as_role is not None:
            message["as"] = as_role
        return msg_id, orjson.dumps(message)


@dataclass(slots=True)
class Response:
    """A server response; `ok` false means `error` holds the code and message.

    Not frozen, like `Event`: a frozen dataclass sets each field through
    `object.__setattr__`, and one of each is made for every order's answer.
    Nothing in the client changes one after it is made.
    """

    corr_id: str | None
    op: str
    ok: bool
    payload: JSON
    ts: int | None
    error_code: str | None = None
    error_message: str | None = None
    raw: JSON = field(default_factory=dict, repr=False)
    frame: str | bytes | None = field(default=None, repr=False, compare=False)
    """The frame it came in (None when it was not parsed from one): what a transactions buffer keeps."""

    def error(self) -> ServerError:
        """The exception this refused response stands for."""
        return error_for(self.op, self.error_code or "UNKNOWN", self.error_message or "")


@dataclass(slots=True)
class Event:
    """A server-pushed event: `op` names it, `raw` is the whole envelope."""

    op: str
    payload: JSON
    ts: int | None
    raw: JSON = field(default_factory=dict, repr=False)
    frame: str | bytes | None = field(default=None, repr=False, compare=False)
    """The frame it came in, or the response's it restates (None when neither): `envelope_of` makes `raw` of it
    again, so a buffer of many events can keep one bytes object each, freed at once when it drops out, rather
    than the tree of dicts and strings `raw` is."""


def restates(response: Response) -> bool:
    """Whether `response` stands for an event on its own socket (see `restated`): an accepted place, amend or cancel."""
    return response.ok and response.op in RESTATED


def restated(response: Response) -> Event | None:
    """The event a response stands for on its own socket: `order.accepted` for a placed order, and so on.

    The server does not send the socket that placed, amended or canceled an
    order the event that says what the response says; a client that keeps
    one stream of its order events makes the event from the response. That
    event is always its command's first (`gidx` 0), and the response gives
    the command's `gseq`.
    """
    if not restates(response):
        return None
    op = RESTATED[response.op]
    body = response.payload
    payload: JSON = {"order": body.get("order")}
    if op == "order.canceled":
        payload["reason"] = "user"
    gseq = body.get("gseq")
    if type(gseq) is int:  # the command's first event: its place in the engine's order
        payload["gseq"] = gseq
        payload["gidx"] = 0
    ts = response.ts
    raw: JSON = {"type": "event", "ver": PROTOCOL_VERSION, "msg_id": response.raw.get("msg_id"), "ts": ts, "op": op,
                 "payload": payload}  # fmt: skip
    return Event(op, payload, ts, raw, response.frame)


def envelope_of(kept: JSON | str | bytes) -> JSON:
    """The event envelope kept as an `Event.frame` (or as itself, when it is a dict): its `raw` again."""
    if isinstance(kept, dict):
        return kept
    message = parse(kept)
    event = restated(message) if isinstance(message, Response) else message
    if event is None:
        raise EnvelopeError(f"a kept {message.op} response that restates no event")
    return event.raw


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
    """Classify one frame; raise EnvelopeError when it is not a valid envelope.

    Every order's answer passes here, so an accepted response whose fields
    all have their types is taken first, read by subscripts (no `get`
    calls), its `Response` made without `__init__` (which the interpreter
    enters from C: about 950 instructions more under callgrind than setting
    the slots here); anything else, events first among them, is classified
    field by field (`_classify`).
    """
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"frame is not JSON: {exc}") from None
    try:
        if type(message) is dict and message.get("ok") is True and message["type"] == "response":
            corr_id, op, payload, ts = message["corr_id"], message["op"], message["payload"], message["ts"]
            if type(corr_id) is str and type(op) is str and type(payload) is dict and type(ts) is int:
                response = Response.__new__(Response)
                response.corr_id = corr_id
                response.op = op
                response.ok = True
                response.payload = payload
                response.ts = ts
                response.error_code = response.error_message = None
                response.raw = message
                response.frame = frame
                return response
    except KeyError:  # a field missing: `_classify` says which
        pass
    return _classify(message, frame)


def _classify(message: Any, frame: str | bytes) -> Response | Event:
    """`parse` of any envelope but an accepted response with every field of its type."""
    if type(message) is not dict:
        raise EnvelopeError("frame is not a JSON object")
    get = message.get
    kind = get("type")
    op = get("op")
    payload = get("payload")
    if payload is None:
        payload = {}
    if op is None and kind == "response":
        op = ""  # refused before its op was read (RATE_LIMITED, BAD_ENVELOPE): still the answer to corr_id
    if not isinstance(op, str) or not isinstance(payload, dict):
        raise EnvelopeError(f"envelope without a valid op or payload: {message!r:.200}")
    ts = get("ts")
    if not isinstance(ts, int):
        ts = None
    if kind == "event":
        return Event(op, payload, ts, message, frame)
    if kind != "response":
        raise EnvelopeError(f"unexpected envelope type {kind!r}")
    corr_id = get("corr_id")
    code = message_ = None
    ok = get("ok") is True
    error = get("error")
    if not ok and isinstance(error, dict):
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
        frame=frame,
    )


def error_for(op: str | None, code: str, message: str) -> ServerError:
    """Pick the exception class for a refusal: auth codes first, then order ops."""
    if code in AUTH_CODES:
        return AuthenticationError(code, message, op)
    if op in ORDER_OPS:
        return OrderRejected(code, message, op)
    return ServerError(code, message, op)
