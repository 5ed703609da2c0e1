"""Commands ↔ JSON for the journal.

The journal stores exactly what the engine was given, so the encoding is a
plain mapping of each command's fields; enums are stored by value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from ..engine import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OpenAccount,
    OrderType,
    PlaceOrder,
    SetSymbolStatus,
    Side,
    SymbolStatus,
    Tif,
)

KINDS: dict[str, type[Any]] = {
    "place": PlaceOrder,
    "cancel": CancelOrder,
    "cancel_all": CancelAll,
    "amend": AmendOrder,
    "status": SetSymbolStatus,
    "open_account": OpenAccount,
}
KIND_OF = {cls: kind for kind, cls in KINDS.items()}
FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in KINDS.values()}
ENUM_FIELDS: dict[str, type[Any]] = {"side": Side, "type": OrderType, "tif": Tif, "status": SymbolStatus}


class CodecError(ValueError):
    """A command the journal cannot represent exactly."""


def encode(command: Command) -> bytes:
    kind = type(command)
    try:
        return orjson.dumps({"k": KIND_OF[kind], **{name: getattr(command, name) for name in FIELDS[kind]}})
    except (KeyError, TypeError, orjson.JSONEncodeError) as exc:
        raise CodecError(f"cannot journal {command!r}: {exc}") from None


def decode(data: bytes | str) -> Command:
    fields = orjson.loads(data)
    cls = KINDS[fields.pop("k")]
    for name, enum in ENUM_FIELDS.items():
        if name in fields:
            fields[name] = enum(fields[name])
    command: Command = cls(**fields)
    return command
