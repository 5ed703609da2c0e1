"""Commands ↔ JSON for the journal.

The journal stores exactly what the engine was given, so the encoding is a
plain mapping of each command's fields; enums are stored by value. Both
directions are strict: a command that would not come back identical (an
integer beyond 64 bits, a foreign type) is refused before it reaches the
engine, and bytes that are not exactly a command raise CodecError, never a
parser's own exception.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import orjson

from ..engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)
from .errors import CodecError

KINDS: dict[str, type[Any]] = {
    "place": PlaceOrder,
    "cancel": CancelOrder,
    "cancel_all": CancelAll,
    "amend": AmendOrder,
    "status": SetSymbolStatus,
}
KIND_OF = {cls: kind for kind, cls in KINDS.items()}
FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in KINDS.values()}
ENUM_FIELDS: dict[str, type[Any]] = {"side": Side, "type": OrderType, "tif": Tif, "status": SymbolStatus}

INT64: Final = range(-(2**63), 2**63)


def encode(command: Command) -> bytes:
    kind = type(command)
    if kind not in KIND_OF:
        raise CodecError(f"cannot journal {command!r}: not a command")
    fields = {name: getattr(command, name) for name in FIELDS[kind]}
    for name, value in fields.items():
        if type(value) is int and value not in INT64:
            raise CodecError(f"cannot journal {kind.__name__}: {name} {value} does not fit in 64 bits")
    try:
        return orjson.dumps({"k": KIND_OF[kind], **fields})
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise CodecError(f"cannot journal {command!r}: {exc}") from None


def decode(data: bytes | str) -> Command:
    try:
        fields = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CodecError(f"not a journal record: {exc}") from None
    if not isinstance(fields, dict) or fields.get("k") not in KINDS:
        raise CodecError(f"not a journal record: {str(data)[:80]}")
    cls = KINDS[fields.pop("k")]
    if set(fields) != set(FIELDS[cls]):
        raise CodecError(f"a {cls.__name__} record with fields {sorted(fields)}, expected {sorted(FIELDS[cls])}")
    try:
        for name, enum in ENUM_FIELDS.items():
            if name in fields:
                fields[name] = enum(fields[name])
        command: Command = cls(**fields)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"a {cls.__name__} record that does not decode: {exc}") from None
    return command
