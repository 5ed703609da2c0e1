"""The JSON envelope: parsing requests and encoding responses and events.

Pure functions over bytes, so the gateway and the tests share one codec.
Encoding uses orjson: it is on every hot path (each order's response and
each market-data event).
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from .errors import ErrorCode, ProtocolError
from .jsontext import Stamp, Strings

VERSION: Final = 1
MAX_MSG_ID_LEN: Final = 64
# Final, so the compiled module reads these as constants, not through its globals dict on each call.
_dumps: Final = orjson.dumps
_loads: Final = orjson.loads


class _Ids:
    """The ids of the messages the server sends: s1, s2, ... (a compiled counter: two are made per order)."""

    def __init__(self) -> None:
        self.last = 0

    def take(self) -> int:
        """The next id's number."""
        self.last += 1
        return self.last


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
    if isinstance(data, bytes):
        req = _as_written(data)
        if req is not None:
            return req
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


_HEAD: Final = b'{"type":"request","ver":1,"msg_id":"'
_HEAD_END: Final = len(_HEAD)
_QUOTE: Final = 34
_BACKSLASH: Final = 92
_ZERO: Final = 48
_NINE: Final = 57
_TS_KEY: Final = b'","ts":'
_OP_KEY: Final = b',"op":"'
_PAYLOAD_KEY: Final = b'","payload":'
_END: Final = b"}"
_TS_DIGITS: Final = 19
"""A ts of at most this many digits fits in 64 bits (orjson reads a longer integer as a float, and one of over
309 digits not at all)."""
_DEPTH_SAFE: Final = 2048
"""Payloads read alone are shorter than this: too short to nest 1024 deep, so orjson's depth limit (1024 levels)
refuses none of them alone that it would accept inside the envelope, one level deeper."""


def _as_written(data: bytes) -> Request | None:
    """The request when `data` is written as the clients write one, read without the envelope's mapping; else None.

    The SDK, the website and the benchmarks' clients write a request's keys in one order (type, ver, msg_id, ts,
    op, payload), with no spaces, a msg_id and an op in plain ASCII and an integer ts. Such a message is read here
    with one orjson call for its payload alone: orjson building the envelope's mapping too cost about 4k
    instructions on every order. Anything else (another order of keys, another key, an escape, a character
    outside printable ASCII, a payload that is not an object) gives None, and `parse_request` reads the whole
    message as JSON: that reading alone decides what any other message means and what is wrong with it. What
    this reads is JSON as it stands: the fixed parts are, the two strings hold printable ASCII without an escape
    or a quote, the ts is a JSON integer, and orjson reads the rest, whole, as the payload's object.
    """
    if not data.startswith(_HEAD):
        return None
    msg_id_end = _plain_string_end(data, _HEAD_END)
    i = msg_id_end + len(_TS_KEY)
    if msg_id_end < 0 or not 0 < msg_id_end - _HEAD_END <= MAX_MSG_ID_LEN or data[msg_id_end:i] != _TS_KEY:
        return None
    first = i
    n = len(data)
    while i < n and _ZERO <= data[i] <= _NINE:
        i += 1
    op_start = i + len(_OP_KEY)
    digits = i - first
    if not 0 < digits <= _TS_DIGITS or (data[first] == _ZERO and digits > 1) or data[i:op_start] != _OP_KEY:
        return None
    op_end = _plain_string_end(data, op_start)
    payload_start = op_end + len(_PAYLOAD_KEY)
    if (
        op_end <= op_start
        or data[op_end:payload_start] != _PAYLOAD_KEY
        or not data.endswith(_END)
        or n - 1 - payload_start >= _DEPTH_SAFE
    ):
        return None
    try:
        payload = _loads(data[payload_start : n - 1])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    return Request(data[_HEAD_END:msg_id_end].decode(), data[op_start:op_end].decode(), payload)


def _plain_string_end(data: bytes, start: int) -> int:
    """Where the JSON string whose text starts at `start` ends (its closing quote), or -1 unless that text is all
    printable ASCII without an escape."""
    i, n = start, len(data)
    while i < n:
        c = data[i]
        if c == _QUOTE:
            return i
        if c < 32 or c > 126 or c == _BACKSLASH:
            return -1
        i += 1
    return -1


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
_SENT: Final = Stamp()
"""The envelopes' `ts`: the answers and events of a batch are sent within one millisecond."""


Payload = dict[str, Any] | bytes
"""A response's payload: its mapping, or its JSON written already (the order answering a place, cancel or amend:
orjson walking a mapping that holds it, then encoding the mapping, cost about 2k instructions an order)."""


def response(corr_id: str | None, op: str, payload: Payload, ts: int) -> bytes:
    """A response: its envelope written around the payload's own bytes.

    One response and one event are written per order. Its envelope is a bytes `%` of one literal: byte for byte
    what orjson writes for the envelope's mapping (keys in this order, no spaces), its op remembered (`_OPS`).
    Compiled, that is one build of the pieces with the integers written straight into bytes, where a join of
    pieces needed each integer as a str encoded, and building the mapping for orjson to walk cost more still.
    """
    return b'{"type":"response","ver":%d,"msg_id":"s%d","ts":%b,"op":%b,"payload":%b,"corr_id":%b,"ok":true}' % (
        VERSION,
        _IDS.take(),
        _SENT.data(ts),
        _OPS.data(op),
        payload if isinstance(payload, bytes) else _dumps(payload),
        b"null" if corr_id is None else _dumps(corr_id),
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
    """An event around its payload's JSON, written already (a private event's: protocol/events.py); see `response`."""
    return b'{"type":"event","ver":%d,"msg_id":"s%d","ts":%b,"op":%b,"payload":%b}' % (
        VERSION,
        _IDS.take(),
        _SENT.data(ts),
        _OPS.data(op),
        payload,
    )
