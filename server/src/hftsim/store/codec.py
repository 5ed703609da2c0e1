"""Commands ↔ JSON for the journal, strict both ways.

The journal stores exactly what the engine was given, so the encoding is a
plain mapping of each command's fields; enums are stored by value. Encoding
refuses what could not come back identically (an int beyond 64 bits would
not fit PostgreSQL or another reader), and decoding checks every field
against the command's type hints, so damaged bytes surface as CodecError
and never as a half-built command or a stray KeyError.

The table is open: a new command kind needs only its entry in KINDS; the
field checks are derived from the types each command class names in its
`FIELDS` (a compiled class keeps no annotations at run time).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

import orjson

from ..engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreditCash,
    DebitCash,
    OpenAccount,
    PlaceOrder,
    SetSymbolStatus,
)
from ..protocol.jsontext import ENUM_TEXT, SYMBOLS, optional_string
from .errors import CodecError

KINDS: dict[str, type[Any]] = {
    "place": PlaceOrder,
    "cancel": CancelOrder,
    "cancel_all": CancelAll,
    "amend": AmendOrder,
    "status": SetSymbolStatus,
    "open_account": OpenAccount,
    "debit": DebitCash,
    "credit": CreditCash,
}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


_KIND_OF = {cls: kind for kind, cls in KINDS.items()}
_FIELDS: dict[type[Any], dict[str, tuple[Any, ...]]] = {cls: dict(cls.FIELDS) for cls in KINDS.values()}
"""Each kind's fields in order, with the types a field's value may have: `price` → (int, NoneType)."""


_NAMES = {cls: tuple(fields) for cls, fields in _FIELDS.items()}
"""Each kind's field names in order, for the kinds `encode` has no literal for."""

# Final, so the compiled module reads these as constants, not through its globals dict on each call.
_STRICT: Final = orjson.OPT_STRICT_INTEGER
_dumps: Final = orjson.dumps


_ENUMS: Final = ENUM_TEXT
_SYMBOLS: Final = SYMBOLS


_SAFE: Final = 2**53 - 1
"""Ints within this bound (orjson's strict one) are written inline; a wider one takes `_encode_checked`'s way."""


def _place(command: PlaceOrder) -> bytes | None:
    """A place's record, byte for byte what orjson writes for its mapping; None when `_encode_checked` must
    write or refuse it (an int beyond 53 bits; a string orjson refuses raises its JSONEncodeError).

    The one record of every order: its text written out and encoded once cost half of building the mapping for
    orjson to walk.
    """
    user_id, qty, price, coid = command.user_id, command.qty, command.price, command.client_order_id
    if not (-_SAFE <= user_id <= _SAFE and -_SAFE <= qty <= _SAFE and (price is None or -_SAFE <= price <= _SAFE)):
        return None
    enums = _ENUMS
    price_text = "null" if price is None else str(price)  # an int's str: a C call, where a str-or-int value's is not
    return (
        f'{{"k":"place","user_id":{user_id},"sym":{_SYMBOLS.text(command.sym)},"side":{enums[command.side]},'
        f'"qty":{qty},"price":{price_text},"type":{enums[command.type]},'
        f'"tif":{enums[command.tif]},"post_only":{"true" if command.post_only else "false"},'
        f'"client_order_id":{optional_string(coid)}}}'
    ).encode()


def encode(command: Command) -> bytes:
    """The command's journal record: `{"k": kind, field: value, ...}` with the fields in order.

    Runs once per journaled command, so a place (every order) is written
    out piece by piece (`_place`), and the order path's other kinds build
    their mapping in one literal, picked by the command's class (no walk
    over the field names, each field read as a struct field of the compiled
    command), which orjson writes under OPT_STRICT_INTEGER, refusing any
    int beyond 53 bits instead of checking each field here. What they
    refuse (a wide int, a bad string) and every other kind go through
    `_encode_checked`, which encodes or refuses them field by field; the
    bytes are the same either way (tests/store/test_codec.py pins them).
    """
    record: dict[str, Any] | None = None
    if isinstance(command, PlaceOrder):  # the commands are compiled with this module: each field a struct read
        try:
            written = _place(command)
        except orjson.JSONEncodeError:
            written = None
        return written if written is not None else _encode_checked(command)
    elif isinstance(command, CancelOrder):
        record = {
            "k": "cancel",
            "user_id": command.user_id,
            "order_id": command.order_id,
            "client_order_id": command.client_order_id,
        }
    elif isinstance(command, AmendOrder):
        record = {
            "k": "amend",
            "user_id": command.user_id,
            "order_id": command.order_id,
            "client_order_id": command.client_order_id,
            "price": command.price,
            "qty": command.qty,
        }
    elif isinstance(command, CancelAll):
        record = {"k": "cancel_all", "user_id": command.user_id, "sym": command.sym}
    if record is not None:
        try:
            return _dumps(record, option=_STRICT)
        except orjson.JSONEncodeError:
            pass
    return _encode_checked(command)


def _encode_checked(command: Command) -> bytes:
    """The record built field by field, refusing what could not come back identically with a CodecError."""
    cls = type(command)
    kind = _KIND_OF.get(cls)
    if kind is None:
        raise CodecError(f"cannot journal {command!r}: no codec entry for {cls.__name__}")
    record: dict[str, Any] = {"k": kind}
    for name in _NAMES[cls]:
        value = record[name] = getattr(command, name)
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise CodecError(f"cannot journal {command!r}: {name} does not fit in 64 bits")
    try:
        return orjson.dumps(record)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise CodecError(f"cannot journal {command!r}: {exc}") from None


_MEMBERS: Final[dict[type[Any], dict[Any, Enum]]] = {
    t: {member.value: member for member in t}
    for fields in _FIELDS.values()
    for allowed in fields.values()
    for t in allowed
    if isinstance(t, type) and issubclass(t, Enum)
}
"""Each enum a field may hold, its members by value: one dict lookup per enum field read back, where trying
each member and then calling the enum cost several times that on every record replayed."""


def _value(kind: str, name: str, raw: Any, allowed: tuple[Any, ...]) -> Any:
    for t in allowed:
        if t is type(None) and raw is None:
            return None
        members = _MEMBERS.get(t)
        if members is not None:
            member = members.get(raw) if isinstance(raw, str) else None
            if member is not None:
                return member
        elif t is int and type(raw) is int and INT64_MIN <= raw <= INT64_MAX:
            return raw
        elif t in (str, bool) and type(raw) is t:
            return raw
    raise CodecError(f"journal record {kind!r}: field {name} = {raw!r} is not a valid value")


def decode(data: bytes | str) -> Command:
    try:
        fields = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CodecError(f"journal record is not JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise CodecError(f"journal record is a {type(fields).__name__}, not an object")
    kind = fields.pop("k", None)
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise CodecError(f"journal record has an unknown kind {kind!r}")
    expected = _FIELDS[cls]
    if fields.keys() != expected.keys():
        missing, extra = sorted(expected.keys() - fields.keys()), sorted(fields.keys() - expected.keys())
        raise CodecError(f"journal record {kind!r}: missing fields {missing}, unexpected fields {extra}")
    command: Command = cls(*[_value(kind, name, fields[name], allowed) for name, allowed in expected.items()])
    return command
