"""Fan-out: engine events → the sockets that should see them.

Each event is rendered, encoded and framed once and the same bytes are
queued for every recipient: private events to the owner's CMD sockets,
public ones to the symbol's MD subscribers. A recipient costs one append.

In one process the public events come from the engine's results; in a
cluster gateway they come from the shards' market-data subjects
(`cluster/mdfeed.py`, behind `Relayed`), which number them once for every
gateway, and the replicas' public events are not sent.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final, Protocol

from ..engine import (
    BookDelta,
    Fill,
    PublicEvent,
    Result,
    StatusChanged,
    SymbolStatus,
    Trade,
)
from ..engine.queries import MarketQueries
from ..protocol import envelope
from ..protocol.events import Written, fill_private, private, public, restates_response
from ..protocol.render import Renderer
from .clock import now_ms
from .outbox import LateFlush, Outbox, PassFlush, text_frame

_monotonic: Final = time.monotonic
"""Read once: the compiled module would otherwise look it up on the `time` module per event."""
PLACES: Final = Fill.PLACES
TRADE_PLACE: Final = Fill.TRADE_PLACE


class Books(Protocol):
    """Where a symbol's snapshot and heartbeat sequence come from."""

    def md_seq(self, sym: str) -> int: ...

    def status(self, sym: str) -> SymbolStatus: ...

    def book_levels(self, sym: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...


class Relayed(Books, Protocol):
    """Market data numbered elsewhere and relayed here (`relay`), each symbol followed from its first subscriber."""

    def want(self, sym: str) -> None: ...

    def live(self, sym: str) -> bool: ...

    def drop_next(self, sym: str, count: int) -> None: ...


class Hub:
    def __init__(self, engine: MarketQueries, renderer: Renderer, cmd_flush: PassFlush) -> None:
        self._books: Books = engine
        self._relayed: Relayed | None = None
        self._render = renderer
        self._cmd: dict[int, tuple[Outbox, ...]] = {}
        """Each user's CMD sockets. Tuples, not sets: every private event walks them, and compiled, a tuple's walk is
        an index loop where a set's goes through the interpreter's iterator (about 0.3k instructions an event)."""
        self._md: dict[str, set[Outbox]] = {i.sym: set() for i in engine.instruments}
        self._subs: dict[Outbox, set[str]] = {}
        self._drop_next: dict[str, int] = {}
        self.cmd_flush = cmd_flush
        """How CMD outboxes flush: as the sequencer's batch that wrote to them ends, else at the next pass."""
        self.late = LateFlush()
        """How MD outboxes flush: after the CMD sockets' frames of the same pass."""

    def relay_from(self, source: Relayed) -> None:
        """Send `source`'s market data (`relay`, `resynced`) instead of the public events of the results."""
        self._books = self._relayed = source

    # Registration ----------------------------------------------------------

    def add_cmd(self, user_id: int, outbox: Outbox) -> None:
        boxes = self._cmd.get(user_id, ())
        if outbox not in boxes:
            self._cmd[user_id] = (*boxes, outbox)

    def remove_cmd(self, user_id: int, outbox: Outbox) -> None:
        boxes = self._cmd.get(user_id)
        if boxes is not None:
            kept = tuple([box for box in boxes if box is not outbox])
            if kept:
                self._cmd[user_id] = kept
            else:
                del self._cmd[user_id]

    def add_md(self, outbox: Outbox) -> None:
        outbox.bound_send_buffer()
        self._subs[outbox] = set()

    def remove_md(self, outbox: Outbox) -> None:
        for sym in self._subs.pop(outbox, ()):
            self._md[sym].discard(outbox)

    def subscribe(self, outbox: Outbox, syms: list[str]) -> None:
        """Subscribe and queue each symbol's snapshot; later deltas follow it in order.

        A relayed symbol whose book is not current yet (its first subscriber, a resync under way) gets its
        snapshot with the others' once it is (`resynced`)."""
        subs = self._subs[outbox]
        ts = now_ms()
        relayed = self._relayed
        for sym in syms:
            if sym not in subs:
                subs.add(sym)
                self._md[sym].add(outbox)
            if relayed is not None:
                relayed.want(sym)
                if not relayed.live(sym):
                    continue
            outbox.push(envelope.event("md.snapshot", self.snapshot(sym), ts))

    def resynced(self, sym: str) -> None:
        """The relayed book of `sym` is current again (or for the first time): every subscriber starts from it."""
        boxes = self._md.get(sym)
        if boxes:
            frame = text_frame(envelope.event("md.snapshot", self.snapshot(sym), now_ms()))
            now = _monotonic()
            for box in boxes:
                box.push_frame(frame, now)

    def unsubscribe(self, outbox: Outbox, syms: list[str]) -> None:
        subs = self._subs[outbox]
        for sym in syms:
            subs.discard(sym)
            self._md[sym].discard(outbox)

    def subscriptions(self, outbox: Outbox) -> list[str]:
        return sorted(self._subs.get(outbox, ()))

    def snapshot(self, sym: str) -> dict[str, Any]:
        books = self._books
        bids, asks = books.book_levels(sym)
        return {
            "sym": sym,
            "seq": books.md_seq(sym),
            "status": books.status(sym).value,
            "bids": self._render.levels(sym, bids),
            "asks": self._render.levels(sym, asks),
        }

    def drop_next_md(self, sym: str, count: int) -> None:
        """Test hook: silently skip the next `count` public events of `sym`, forcing a gap (the clients' here;
        the gateway's own when relayed, which it closes from the shard's book)."""
        if self._relayed is not None:
            self._relayed.drop_next(sym, count)
        else:
            self._drop_next[sym] = self._drop_next.get(sym, 0) + count

    # Fan-out ---------------------------------------------------------------

    def on_result(self, result: Result, origin: object) -> None:
        """Fan a command's events out; `origin`, the connection it came from, is spared what its response says.

        The response to a place, amend or cancel carries the whole order, so
        one frame acknowledges it: that connection gets no `order.accepted`,
        `order.amended` or user `order.canceled` for it (the user's other
        sockets do). Fills, expiries and account updates go to every socket.
        """
        ts = now_ms()
        seq = result.seq
        local_md = self._relayed is None
        gidx = 0
        for ev in result.events:
            index = gidx
            gidx += 1
            if isinstance(ev, Fill):  # one record for five wire events (see Fill)
                gidx = index + PLACES
                self._fill(ev, seq, index, ts)
                if local_md and (self._md[ev.sym] or self._drop_next):
                    self._publish(ev, ts, (seq, index + TRADE_PLACE))
            elif isinstance(ev, BookDelta) or isinstance(ev, Trade) or isinstance(ev, StatusChanged):
                # the events every subscriber of the symbol sees: three checks, not one against a tuple, as compiled
                # each is a C type check where a tuple goes through the interpreter's isinstance (0.2 us per event)
                if local_md and (self._md[ev.sym] or self._drop_next):
                    self._publish(ev, ts, (seq, index))
            elif ev.user_id is not None and ev.user_id in self._cmd:
                boxes = self._cmd[ev.user_id]
                if origin in boxes and restates_response(ev):
                    if len(boxes) == 1:
                        continue
                    boxes = tuple([box for box in boxes if box is not origin])
                wire = private(self._render, ev, seq, index)
                if wire is not None:
                    self._push(wire, boxes, ts, _monotonic())

    def _fill(self, fill: Fill, seq: int, index: int, ts: int) -> None:
        """A fill's private events, written from its record to its two users' sockets, in the wire's order (every
        socket: a fill restates no response)."""
        cmd = self._cmd
        maker = cmd.get(fill.maker_id)
        taker = cmd.get(fill.taker_id)
        if not maker and not taker:
            return
        now = _monotonic()  # one reading for the fill's (up to) four pushes: they are queued in this one call
        if maker:
            maker_filled, maker_account = fill_private(self._render, fill, True, seq, index)
            self._push(maker_filled, maker, ts, now)
        if taker:
            taker_filled, taker_account = fill_private(self._render, fill, False, seq, index)
            self._push(taker_filled, taker, ts, now)
        if maker:
            self._push(maker_account, maker, ts, now)
        if taker:
            self._push(taker_account, taker, ts, now)

    def _push(self, wire: Written, boxes: tuple[Outbox, ...], ts: int, now: float) -> None:
        """Queue a private event for `boxes`, pushed at `now` (monotonic s, `Outbox.push_frame`)."""
        frame = text_frame(envelope.written_event(wire[0], wire[1], ts))
        for box in boxes:
            box.push_frame(frame, now)

    def relay(self, ev: PublicEvent, at: tuple[int, int]) -> None:
        """A relayed public event, next in its symbol's sequence."""
        self._publish(ev, now_ms(), at)

    def _publish(self, ev: PublicEvent, ts: int, at: tuple[int, int]) -> None:
        """Encode a public event once for all of its symbol's subscribers (not at all when there are none).

        `on_result` calls it only when the symbol has subscribers or a drop is pending.
        """
        sym = ev.sym
        if self._drop_next.get(sym):
            self._drop_next[sym] -= 1
            return
        boxes = self._md[sym]
        if not boxes:
            return
        wire = public(self._render, ev, at)
        assert wire is not None
        frame = text_frame(envelope.event(wire[0], wire[1], ts))
        now = _monotonic()
        for box in boxes:
            box.push_frame(frame, now)

    # Heartbeats ------------------------------------------------------------

    async def heartbeats(self, interval_ms: int) -> None:
        """Every interval, tell each MD socket the last seq of its symbols, and cut off stalled sockets."""
        while True:
            await asyncio.sleep(interval_ms / 1000)
            ts = now_ms()
            md_seq, relayed = self._books.md_seq, self._relayed
            for box, subs in list(self._subs.items()):
                seqs = {s: md_seq(s) for s in subs if relayed is None or relayed.live(s)}
                box.push(envelope.event("md.heartbeat", {"ts": ts, "seqs": seqs}, ts))
            now = _monotonic()
            for box in [*self._subs, *(b for boxes in self._cmd.values() for b in boxes)]:
                box.check_stalled(now)

    def close_all(self, code: int, reason: str) -> None:
        for boxes in list(self._cmd.values()):
            for box in list(boxes):
                box.close(code, reason)
        for box in list(self._subs):
            box.close(code, reason)
