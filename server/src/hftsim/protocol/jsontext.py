"""JSON text written by hand: the enums' members and remembered strings, for every writer that skips orjson's walk.

The order path writes its busiest JSON itself (the answer's order, the
private events, a place's journal record, the envelopes), byte for byte
what orjson writes for the same mapping: building a mapping for orjson to
walk cost about twice the text. Those writers share what they write the
same way: an enum member is its plain lowercase value in quotes
(`ENUM_TEXT`), and a string that recurs on every order (a symbol, an op) is
escaped by orjson once and then remembered (`Strings`).
"""

from __future__ import annotations

from typing import Final

import orjson

from ..engine import CancelReason, OrderStatus, OrderType, Side, Tif

_dumps: Final = orjson.dumps
ENUM_TEXT: Final[dict[object, str]] = {
    m: f'"{m._value_}"' for kind in (Side, OrderType, Tif, OrderStatus, CancelReason) for m in kind
}
"""Each member of the enums the order path writes, as its JSON string (their values need no escaping)."""
ENUM_DATA: Final[dict[object, bytes]] = {m: text.encode() for m, text in ENUM_TEXT.items()}
"""`ENUM_TEXT` encoded, for the writers that build bytes (the answer's order)."""
KEPT: Final = 256
"""Strings remembered per `Strings`: a server's symbols and ops are a few dozen."""


class Strings:
    """Strings as their JSON text (orjson's escaping), the first `KEPT` remembered.

    For values that recur (symbols, ops), not for values each order brings (a client order id): the first
    `KEPT` strings asked for are the ones kept.
    """

    def __init__(self) -> None:
        self._text: dict[str, str] = {}
        self._data: dict[str, bytes] = {}
        self._last: str | None = None
        self._last_data = b""
        """The string asked for last (`data`), known by identity: an order's messages name its symbol several
        times, the same str each time, and a hit costs a comparison where the dict's lookup cost about 0.15k
        instructions."""

    def text(self, value: str) -> str:
        """`value` as a JSON string."""
        text = self._text.get(value)
        if text is None:
            text = _dumps(value).decode()
            if len(self._text) < KEPT:
                self._text[value] = text
        return text

    def data(self, value: str) -> bytes:
        """`text(value)` encoded, remembered alike: for the writers that join bytes (the envelope)."""
        if value is self._last:
            return self._last_data
        data = self._data.get(value)
        if data is None:
            data = self.text(value).encode()
            if len(self._data) < KEPT:
                self._data[value] = data
        self._last, self._last_data = value, data
        return data


SYMBOLS: Final = Strings()
"""The symbols as JSON strings, shared by the renderer and the journal's records."""


class Stamp:
    """A timestamp's digits, the last one remembered.

    The messages of one batch carry the same millisecond: the engine applies a batch at one ts (an order's
    `created_ts` and `updated_ts`, a fill's `ts`), and its answers and events are sent within the same millisecond
    (the envelopes' `ts`). Compiled, writing a ts's 13 digits into a new bytes costs about 0.4k instructions; a ts
    read back from here costs a comparison.
    """

    def __init__(self) -> None:
        self._ts = 0
        self._data = b"0"

    def data(self, ts: int) -> bytes:
        """`ts` in decimal digits, as `b"%d" % ts`."""
        if ts != self._ts:
            self._data = b"%d" % ts
            self._ts = ts
        return self._data


APPLIED: Final = Stamp()
"""The engine's timestamps, as the renderer and the private events write them."""


def optional_string(value: str | None) -> str:
    """A string that may be None (a client order id) as JSON text, escaped by orjson."""
    return "null" if value is None else _dumps(value).decode()


def optional_data(value: str | None) -> bytes:
    """`optional_string`'s text as bytes, as orjson writes them (no decoding for a writer that builds bytes)."""
    return b"null" if value is None else _dumps(value)
