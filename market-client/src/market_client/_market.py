"""Market-data state without I/O: books kept in sequence, gaps detected, candles fed.

This is the "Sequence rule" of docs/protocol.md as a plain object. Feed it
every MD event and every snapshot; it answers with the symbols whose
stream has a gap and need an `md.snapshot` request. It never blocks one
symbol on another: while a symbol waits for its snapshot, only that
symbol's events are held back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._book import OrderBook
from ._candles import Candle, CandleSeries
from ._envelope import Event

SEQUENCED = frozenset({"md.delta", "md.trade", "md.status"})


class _Stream:
    """One symbol: its book, and the events held while a snapshot is awaited."""

    def __init__(self, sym: str) -> None:
        self.book = OrderBook(sym)
        self.held: list[Event] | None = None
        """Events held back while the book waits for a snapshot; None when in sequence."""
        self.snapshot_coming = False
        """A snapshot is on its way (asked for, or promised by a subscription)."""
        self.loaded = False
        """A snapshot was applied: until then there is no book to show."""

    def hold(self) -> None:
        if self.held is None:
            self.held = []
        self.snapshot_coming = True


class MarketState:
    """Books and candles of every subscribed symbol, updated only by MD messages."""

    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        self._candles: dict[str, CandleSeries] = {}
        self.resyncs: dict[str, int] = {}
        """How many gap resyncs each symbol needed (a test and monitoring aid)."""
        self.statuses: dict[str, str] = {}
        """Newest trading status per symbol, as MD reported it."""

    # -- input ---------------------------------------------------------------

    def on_event(self, event: Event) -> list[str]:
        """Apply one MD event; return the symbols that now need a snapshot."""
        if event.op == "md.snapshot":
            return self.on_snapshot(event.payload)
        if event.op == "md.heartbeat":
            return self._on_heartbeat(event.payload)
        if event.op not in SEQUENCED:
            return []
        sym = str(event.payload.get("sym"))
        stream = self._streams.get(sym)
        if stream is None:  # a new subscription's events may overtake its snapshot: hold them for it
            stream = self._streams[sym] = _Stream(sym)
            stream.hold()
        if stream.held is not None:
            stream.held.append(event)
            return []
        return self._apply(stream, event)

    def on_snapshot(self, payload: Mapping[str, Any]) -> list[str]:
        """Replace a symbol's book, then replay the events held past the snapshot's seq."""
        sym = str(payload["sym"])
        stream = self._streams.setdefault(sym, _Stream(sym))
        stream.book.load(int(payload["seq"]), payload.get("bids", []), payload.get("asks", []), payload.get("status"))
        stream.loaded = True
        if stream.book.status is not None:
            self.statuses[sym] = stream.book.status
        held, stream.held = stream.held or [], None
        stream.snapshot_coming = False
        resync: list[str] = []
        for event in sorted(held, key=_seq):
            if stream.held is not None:  # a new gap among the held events: keep holding
                stream.held.append(event)
            else:
                resync += self._apply(stream, event)
        return resync

    def resync_failed(self, sym: str) -> None:
        """The snapshot request failed: keep holding, and let the next heartbeat ahead of us ask again."""
        stream = self._streams.get(sym)
        if stream is not None:
            stream.snapshot_coming = False

    def reset(self) -> None:
        """A new MD connection: every book waits for the snapshot its subscription will bring.

        Sequence numbers may restart with a restarted server, so the old
        ones mean nothing until that snapshot arrives.
        """
        for stream in self._streams.values():
            stream.hold()

    # -- reads ---------------------------------------------------------------

    def book(self, sym: str) -> OrderBook | None:
        stream = self._streams.get(sym)
        return stream.book if stream is not None and stream.loaded else None

    def symbols(self) -> list[str]:
        return [sym for sym, stream in self._streams.items() if stream.loaded]

    def is_synced(self, sym: str) -> bool:
        stream = self._streams.get(sym)
        return stream is not None and stream.held is None

    def candles(self, sym: str) -> CandleSeries | None:
        return self._candles.get(sym)

    def configure_candles(self, sym: str, interval_ms: int, depth: int) -> CandleSeries:
        """Start (or restart with new settings) a candle window; trades feed it from now on."""
        series = CandleSeries(interval_ms, depth)
        self._candles[sym] = series
        return series

    def candle_entries(self, sym: str, now_ms: int | None = None) -> list[Candle]:
        series = self._candles.get(sym)
        return series.entries(now_ms) if series is not None else []

    def candle_symbols(self) -> list[str]:
        return list(self._candles)

    # -- internals -----------------------------------------------------------

    def _apply(self, stream: _Stream, event: Event) -> list[str]:
        seq = _seq(event)
        book = stream.book
        if seq <= book.seq:
            return []
        if seq > book.seq + 1:
            stream.hold()
            stream.held = [event]
            self.resyncs[book.sym] = self.resyncs.get(book.sym, 0) + 1
            return [book.sym]
        book.seq = seq
        payload = event.payload
        if event.op == "md.delta":
            book.update(payload.get("bids", []), payload.get("asks", []))
            gseq = payload.get("gseq")
            if type(gseq) is int:
                book.gseq = gseq
        elif event.op == "md.trade":
            series = self._candles.get(book.sym)
            if series is not None:
                series.add_trade(str(payload["price"]), int(payload["qty"]), int(payload["ts"]), seq)
        else:
            book.status = str(payload["status"])
            self.statuses[book.sym] = book.status
        return []

    def _on_heartbeat(self, payload: Mapping[str, Any]) -> list[str]:
        seqs = payload.get("seqs")
        if not isinstance(seqs, Mapping):
            return []
        behind = []
        for sym, seq in seqs.items():
            stream = self._streams.get(sym)
            if stream is None or not isinstance(seq, int) or seq <= stream.book.seq:
                continue
            if not stream.snapshot_coming:
                stream.hold()
                self.resyncs[sym] = self.resyncs.get(sym, 0) + 1
                behind.append(sym)
        return behind


def _seq(event: Event) -> int:
    return int(event.payload["seq"])
