"""The JSON envelope: parsing requests and encoding responses and events.

Pure functions over bytes, so the gateway and the tests share one codec.
Encoding uses orjson: it is on every hot path (each order's response and
each market-data event).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from .errors import ErrorCode, ProtocolError
from .jsontext import Strings

VERSION: Final = 1
MAX_MSG_ID_LEN: Final = 64
# Final, so the compiled module reads these as constants, not through its globals dict on each call.
_dumps: Final = orjson.dumps
_loads: Final = orjson.loads


class _Ids:
    """The ids of the messages the server sends: s1, s2, ... (a compiled counter: two are made per order)."""

    def __init__(self) -> None:
        self.last = 0
        self._ts = -1
        self._ts_text = b""

    def take(self) -> int:
        """The next id's number."""
        self.last += 1
        return self.last

    def ts_text(self, ts: int) -> bytes:
        """`ts` in decimal, remembered: the answers and events of one batch share their timestamp."""
        if ts != self._ts:
            self._ts_text = str(ts).encode()
            self._ts = ts
        return self._ts_text


_IDS: Final = _Ids()


def next_msg_id() -> str:
    """The next id of a message the server sends."""
    return f"s{_IDS.take()}"


class Request:
    """One parsed request.

    A plain class, not a dataclass: one is built per message, and compiled, a dataclass's `__init__` is still the
    one the dataclasses module writes in Python (a frozen one also sets each field through `object.__setattr__`).
    """

    __slots__ = ("as_role", "msg_id", "op", "payload")

    def __init__(self, msg_id: str, op: str, payload: dict[str, Any], as_role: str | None = None) -> None:
        self.msg_id = msg_id
        self.op = op
        self.payload = payload
        self.as_role = as_role


def parse_request(data: str | bytes, max_bytes: int) -> Request:
    """Decode one request; raise ProtocolError with the reason it is not one.

    The caller answers a ProtocolError with `error_response(corr_id, ...)`,
    using `salvage_msg_id` so the client can still match the answer.
    """
    if len(data) > max_bytes:
        raise ProtocolError(ErrorCode.MESSAGE_TOO_LARGE, f"message is {len(data)} bytes; the limit is {max_bytes}")
    try:
        msg = _loads(data)
    except orjson.JSONDecodeError:
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "message is not valid JSON") from None
    if not isinstance(msg, dict):
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "message must be a JSON object")
    if msg.get("type") != "request":
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "field 'type' must be \"request\"")
    msg_id = msg.get("msg_id")
    if not isinstance(msg_id, str) or not 0 < len(msg_id) <= MAX_MSG_ID_LEN:
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, f"field 'msg_id' must be a string of 1-{MAX_MSG_ID_LEN} chars")
    ver = msg.get("ver", VERSION)
    if ver != VERSION:
        raise ProtocolError(ErrorCode.UNSUPPORTED_VERSION, f"protocol version {ver!r} is not supported; use {VERSION}")
    op = msg.get("op")
    if not isinstance(op, str) or not op:
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "field 'op' must be a non-empty string")
    payload = msg.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "field 'payload' must be an object")
    as_role = msg.get("as")
    if as_role is not None and not isinstance(as_role, str):
        raise ProtocolError(ErrorCode.BAD_ENVELOPE, "field 'as' must be a role name")
    return Request(msg_id, op, payload, as_role)


def salvage_msg_id(data: str | bytes) -> str | None:
    """Best-effort msg_id of a request that failed validation, for corr_id."""
    if len(data) > 1024 * 1024:
        return None
    try:
        msg = _loads(data)
    except orjson.JSONDecodeError:
        return None
    msg_id = msg.get("msg_id") if isinstance(msg, dict) else None
    return msg_id if isinstance(msg_id, str) and len(msg_id) <= MAX_MSG_ID_LEN else None


def salvage_op(data: str | bytes) -> str | None:
    """Best-effort op of a request refused before parsing (a rate limit), so the answer names it."""
    if len(data) > 1024 * 1024:
        return None
    try:
        msg = _loads(data)
    except orjson.JSONDecodeError:
        return None
    op = msg.get("op") if isinstance(msg, dict) else None
    return op if isinstance(op, str) and 0 < len(op) <= 64 else None


_OPS: Final = Strings()
"""The ops as JSON strings: the same few recur on every message."""
_OP: Final = b',"op":'
_PAYLOAD: Final = b',"payload":'


_RESPONSE: Final = f'{{"type":"response","ver":{VERSION},"msg_id":"s'.encode()
_EVENT: Final = f'{{"type":"event","ver":{VERSION},"msg_id":"s'.encode()
_TS: Final = b'","ts":'
"""The envelope's fixed parts up to its payload's value. A response or an event is one join of these, its id, its
ts, its op (remembered: `_OPS`) and its payload's orjson bytes: byte for byte what orjson writes for the envelope's
mapping (keys in this order, no spaces). One response and one event are written per order, and building the envelope's
mapping for orjson to walk, or its text before encoding it, cost more than these pieces joined."""


def response(corr_id: str | None, op: str, payload: dict[str, Any], ts: int) -> bytes:
    """A response: its envelope written around the payload's own bytes."""
    corr = b"null" if corr_id is None else _dumps(corr_id)
    msg_id = str(_IDS.take()).encode()
    body = _dumps(payload)
    return b"".join(
        (
            _RESPONSE,
            msg_id,
            _TS,
            _IDS.ts_text(ts),
            _OP,
            _OPS.data(op),
            _PAYLOAD,
            body,
            b',"corr_id":',
            corr,
            b',"ok":true}',
        )
    )


def error_response(
    corr_id: str | None, op: str | None, code: str, message: str, ts: int, retry_after_ms: int | None = None
) -> bytes:
    error: dict[str, Any] = {"code": str(code), "message": message}
    if retry_after_ms is not None:
        error["retry_after_ms"] = retry_after_ms
    return _dumps(
        {
            "type": "response",
            "ver": VERSION,
            "msg_id": next_msg_id(),
            "ts": ts,
            "op": op,
            "payload": {},
            "corr_id": corr_id,
            "ok": False,
            "error": error,
        }
    )


def event(op: str, payload: dict[str, Any], ts: int) -> bytes:
    """An event: its envelope written around the payload's own bytes (see `response`)."""
    return written_event(op, _dumps(payload), ts)


def written_event(op: str, payload: bytes, ts: int) -> bytes:
    """An event around its payload's JSON, written already (a private event's: protocol/events.py)."""
    msg_id = str(_IDS.take()).encode()
    return b"".join((_EVENT, msg_id, _TS, _IDS.ts_text(ts), _OP, _OPS.data(op), _PAYLOAD, payload, b"}"))
