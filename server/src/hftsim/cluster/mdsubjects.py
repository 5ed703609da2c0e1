"""Market data on core NATS subjects: what a shard publishes per symbol, and the book a gateway keeps from it.

A shard publishes the public events of each command it applies on
`hftsim.md.<SYM>`, one message per command and symbol:
`{"events": [[kind, seq, gseq, gidx, ...fields], ...]}`, where `seq` is
the symbol's market-data sequence as the engine numbers it (the same as
`hftsim serve`) and `gseq`/`gidx` the event's place in the venue's order.
After a marker replaced its market (a round's start, a restore) it
publishes `{"book": {...}}` for each of its symbols instead, the whole
book at its new sequence; the same book answers `{"op": "book", "sym": S}`
on the shard's query subject. Prices and quantities stay integer ticks and
lots here: each gateway renders them for its clients as it renders
everything else.

Core NATS delivers a publisher's messages in order but may drop some (a
slow consumer, a reconnect): a gateway checks each symbol's sequence, and
a gap makes it ask the shard for the book (`mdfeed`).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..engine import BookDelta, Engine, Fill, PublicEvent, Result, Side, StatusChanged, SymbolStatus, Trade

PREFIX = "hftsim.md."

Placed = tuple[PublicEvent, tuple[int, int]]
"""A public event with its place in the venue's order: (gseq, gidx)."""


class MalformedMarketData(ValueError):
    """A message on a market-data subject (or a book reply) that is not what a shard sends."""


def subject(sym: str) -> str:
    return PREFIX + sym


class Book:
    """One symbol's levels as the market-data stream has built them (new total per level, 0 removes it)."""

    def __init__(self, sym: str, seq: int, status: SymbolStatus, bids: dict[int, int], asks: dict[int, int]) -> None:
        self.sym = sym
        self.seq = seq
        self.status = status
        self.bids = bids
        self.asks = asks

    @classmethod
    def of(cls, engine: Engine, sym: str) -> Book:
        bids, asks = engine.book_levels(sym)
        return cls(sym, engine.md_seq(sym), engine.status(sym), dict(bids), dict(asks))

    def apply(self, ev: PublicEvent) -> None:
        """Take the next event of the symbol (the caller checked that it is the next)."""
        self.seq = ev.seq
        if isinstance(ev, BookDelta):
            _merge(self.bids, ev.bids)
            _merge(self.asks, ev.asks)
        elif isinstance(ev, StatusChanged):
            self.status = ev.status

    def levels(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Bids best (highest) first, asks best (lowest) first, as `Engine.book_levels`."""
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())

    def encode(self) -> dict[str, Any]:
        bids, asks = self.levels()
        return {"sym": self.sym, "seq": self.seq, "status": self.status.value, "bids": bids, "asks": asks}

    @classmethod
    def decode(cls, data: object) -> Book:
        try:
            assert isinstance(data, dict)
            return cls(
                str(data["sym"]),
                _int(data["seq"]),
                SymbolStatus(data["status"]),
                {_int(p): _int(q) for p, q in data["bids"]},
                {_int(p): _int(q) for p, q in data["asks"]},
            )
        except (AssertionError, KeyError, TypeError, ValueError) as exc:
            raise MalformedMarketData(f"not a book: {exc!r}") from None


def _merge(side: dict[int, int], changes: tuple[tuple[int, int], ...]) -> None:
    for price, qty in changes:
        if qty:
            side[price] = qty
        else:
            side.pop(price, None)


def _int(value: object) -> int:
    if type(value) is not int:
        raise ValueError(f"{value!r} is not an integer")
    return value


def by_symbol(result: Result, gseq: int) -> dict[str, list[list[Any]]]:
    """A command's public events, encoded and grouped by symbol (in order), `gseq` being its venue sequence."""
    grouped: dict[str, list[list[Any]]] = {}
    gidx = 0
    for ev in result.events:
        place = gidx
        gidx += 1
        if isinstance(ev, BookDelta):
            row: list[Any] = ["d", ev.seq, gseq, place, ev.bids, ev.asks]
        elif isinstance(ev, Fill):
            gidx = place + Fill.PLACES
            row = ["t", ev.seq, gseq, place + Fill.TRADE_PLACE, ev.trade_id, ev.price, ev.qty, ev.aggressor.value,
                   ev.ts, ev.buyer_id, ev.seller_id]  # fmt: skip
        elif isinstance(ev, StatusChanged):
            row = ["s", ev.seq, gseq, place, ev.status.value]
        else:
            continue
        grouped.setdefault(ev.sym, []).append(row)
    return grouped


def events_message(rows: list[list[Any]]) -> bytes:
    return orjson.dumps({"events": rows})


def book_message(book: Book) -> bytes:
    return orjson.dumps({"book": book.encode()})


def decode(data: bytes, sym: str) -> list[Placed] | Book:
    """A message of `sym`'s subject: its events in order, or the whole book."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedMarketData(f"not JSON: {exc}") from None
    if isinstance(message, dict) and "book" in message:
        return Book.decode(message["book"])
    if not isinstance(message, dict) or not isinstance(message.get("events"), list):
        raise MalformedMarketData("neither events nor a book")
    try:
        return [_event(row, sym) for row in message["events"]]
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise MalformedMarketData(f"not an event: {exc!r}") from None


def _event(row: list[Any], sym: str) -> Placed:
    kind, seq, gseq, gidx = row[0], _int(row[1]), _int(row[2]), _int(row[3])
    ev: PublicEvent
    if kind == "d":
        ev = BookDelta(sym, seq, _levels(row[4]), _levels(row[5]))
    elif kind == "t":
        ev = Trade(sym, seq, _int(row[4]), _int(row[5]), _int(row[6]), Side(row[7]), _int(row[8]), _int(row[9]),
                   _int(row[10]))  # fmt: skip
    elif kind == "s":
        ev = StatusChanged(sym, seq, SymbolStatus(row[4]))
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return ev, (gseq, gidx)


def _levels(rows: list[list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((_int(price), _int(qty)) for price, qty in rows)
