"""A gateway's market data: the shards' per-symbol subjects, relayed to its MD subscribers.

The shard numbers each symbol's public events once (`mdsubjects`); every
gateway relays those numbers, so a client sees the same sequences on
every gateway, and no gateway derives market data from its replicas.

A gateway follows a symbol's subject from its first MD subscriber on:
it subscribes, asks the symbol's shard for the book (request-reply on
`hftsim.query.<shard>`), holds what the subject brings meanwhile, then
keeps the book up to date from the events, checking each sequence. A gap
(core NATS dropped a message, a reconnect, a marker replaced the market)
starts the same resync: events are held, the shard's book is fetched, the
held events past it are applied, and the symbol's subscribers get the
new `md.snapshot` (`Hub.resynced`). While the shard is down its symbols'
market data pauses (the heartbeats say the last sequence) and the resync
retries until the shard answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nats.errors
import orjson
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ..engine import PublicEvent, SymbolStatus
from .market import ShardedMarket
from .mdsubjects import Book, MalformedMarketData, Placed, decode, subject
from .sequencer import StreamSequencer

logger = logging.getLogger(__name__)

BOOK_WAIT_S = 2.0
"""How long one book request waits for the shard."""
RETRY_S = 0.5
"""Pause between book requests while the shard does not answer."""

Relay = Callable[[PublicEvent, tuple[int, int]], None]


class _Symbol:
    def __init__(self) -> None:
        self.book: Book | None = None
        self.held: list[Placed] | None = []
        """Events waiting for the book a resync fetches; None while the book is live."""
        self.resync: asyncio.Task[None] | None = None
        self.sub: Subscription | None = None
        self.drop = 0


class MarketFeed:
    def __init__(self, sequencer: StreamSequencer, relay: Relay, resynced: Callable[[str], None]) -> None:
        self._sequencer = sequencer
        self._market: ShardedMarket = sequencer.engine
        self._relay = relay
        self._resynced = resynced
        self._symbols: dict[str, _Symbol] = {}

    # What the hub reads --------------------------------------------------------

    def want(self, sym: str) -> None:
        """Follow `sym` from now on (its first subscriber); `resynced(sym)` is called once its book is here."""
        if sym not in self._symbols:
            state = self._symbols[sym] = _Symbol()
            state.resync = asyncio.create_task(self._start(sym, state), name=f"hftsim-md-{sym}")

    def live(self, sym: str) -> bool:
        """The symbol's book is current: a new subscriber's snapshot can go out now."""
        state = self._symbols.get(sym)
        return state is not None and state.book is not None and state.held is None

    def md_seq(self, sym: str) -> int:
        return self._book(sym).seq

    def status(self, sym: str) -> SymbolStatus:
        return self._book(sym).status

    def book_levels(self, sym: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return self._book(sym).levels()

    def _book(self, sym: str) -> Book:
        """The followed book, else the replica's (a one-off snapshot of a symbol nobody here follows)."""
        state = self._symbols.get(sym)
        if state is not None and state.book is not None:
            return state.book
        return Book.of(self._market.engines[self._owner(sym)], sym)

    def _owner(self, sym: str) -> int:
        return self._market.layout.owner(sym) or 0

    def drop_next(self, sym: str, count: int) -> None:
        """Test hook: miss the next `count` events of `sym` as if NATS had dropped them (a gap to resync)."""
        self.want(sym)
        self._symbols[sym].drop += count

    # The subject ------------------------------------------------------------------

    async def _start(self, sym: str, state: _Symbol) -> None:
        async def heard(msg: Msg) -> None:
            self._heard(sym, state, msg.data)

        while state.sub is None:
            try:
                state.sub = await self._sequencer.nats.subscribe(subject(sym), cb=heard)
            except nats.errors.Error as exc:  # NATS away: the first subscriber waits for it, as a resync does
                logger.debug("cannot follow %s yet (%r)", sym, exc)
                await asyncio.sleep(RETRY_S)
        await self._fetch(sym, state)

    def _heard(self, sym: str, state: _Symbol, data: bytes) -> None:
        try:
            message = decode(data, sym)
        except MalformedMarketData as exc:
            logger.error("market data of %s dropped: %s", sym, exc)
            return
        if isinstance(message, Book):
            if state.book is None or message.seq > state.book.seq:
                self._take(sym, state, message, state.held or [])
            return
        if state.drop:
            dropped = min(state.drop, len(message))
            state.drop -= dropped
            message = message[dropped:]
        if state.held is not None:
            state.held.extend(message)
        else:
            self._apply(sym, state, message)

    def _apply(self, sym: str, state: _Symbol, placed: list[Placed]) -> None:
        book = state.book
        assert book is not None and state.held is None
        for index, (ev, at) in enumerate(placed):
            if ev.seq <= book.seq:
                continue  # a shard replaying its stream after a restart publishes again what it had
            if ev.seq > book.seq + 1:
                logger.warning(
                    "market data of %s jumped from %d to %d: resyncing from the shard", sym, book.seq, ev.seq
                )
                state.held = placed[index:]
                state.resync = asyncio.create_task(self._fetch(sym, state), name=f"hftsim-md-{sym}")
                return
            book.apply(ev)
            self._relay(ev, at)

    async def _fetch(self, sym: str, state: _Symbol) -> None:
        """Ask the symbol's shard for its book until it answers, then take it."""
        shard = self._market.layout.shards[self._owner(sym)].name
        request = orjson.dumps({"op": "book", "sym": sym})
        while True:
            try:
                reply = await self._sequencer.nats.request(f"hftsim.query.{shard}", request, timeout=BOOK_WAIT_S)
                book = Book.decode(orjson.loads(reply.data).get("book"))
                break
            except (nats.errors.Error, orjson.JSONDecodeError, AttributeError, MalformedMarketData) as exc:
                logger.debug("no book of %s from shard %s yet (%r)", sym, shard, exc)
                await asyncio.sleep(RETRY_S)
        self._take(sym, state, book, state.held or [])

    def _take(self, sym: str, state: _Symbol, book: Book, held: list[Placed]) -> None:
        """Start over from `book`, apply the held events past it, and send the book to the subscribers."""
        if state.resync is not None and state.resync is not asyncio.current_task():
            state.resync.cancel()
        state.resync = None
        state.book, state.held = book, None
        self._resynced(sym)
        self._apply(sym, state, held)

    async def stop(self) -> None:
        tasks = [s.resync for s in self._symbols.values() if s.resync is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
