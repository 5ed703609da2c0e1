"""An engine shard: applies its JetStream command stream in order, and answers queries.

The shard owns some of the symbols (its place in the cluster's layout,
see `layout`) and one engine. It never takes
commands from anyone but its stream, so what a gateway was told is
appended (JetStream's acknowledgement) is exactly what the shard applies,
after a crash as before it. Markers in the stream (a round's start,
samples and end, a restore: `markers`) change the engine at their place in
the stream, as every gateway's replica does. A snapshot file records the engine with the
stream sequence it covers (`snapshots`); a restarted shard loads it and
follows the stream from the next sequence, and gateways start from the
copy it publishes on NATS.

Subjects (`<shard>` is the shard's name):
- `hftsim.cmd.<shard>`: the command stream (see commandlog).
- `hftsim.applied.<shard>`: `{"seq": n}` when the shard starts and after
  each command it applies, so a submitter can wait until its command has
  taken effect.
- `hftsim.cmd.<other shard>`: the credit of each cash transfer this shard
  debited (see `transfers`).
- `hftsim.md.<SYM>`: the public events of each command, per symbol, with
  their market-data sequences, and the whole book after a marker replaced
  the market (see mdsubjects); gateways relay them to their subscribers.
- `hftsim.query.<shard>`: request/reply, `{"op": "state"}` →
  `{"seq": n, "state_hash": "…", "symbols": [...]}`; `{"op": "book",
  "sym": S}` → `{"book": {...}}`, where a gateway resyncs a symbol.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg

from ..config import ConfigError, Settings
from ..engine import DebitCash
from ..gateway.heap import HeapPolicy
from ..gateway.readmodels import record
from ..store.history import FillHistory, MarketHistory
from .commandlog import CommandLog
from .connection import connect
from .layout import ID_SPAN, Layout, ShardSpec
from .markers import REPLACING, Marker, running_book, take
from .mdsubjects import Book, book_message, by_symbol, events_message, subject
from .snapshots import PublishedSnapshots, Snapshot, SnapshotFile
from .transfers import Outbox

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 50_000
"""Default commands between snapshots: bounds how much a restarted shard replays."""


class ShardDiverged(RuntimeError):
    """The engine's sequence left the stream's: the stream and the snapshot disagree."""


def restore(layout: Layout, index: int, settings: Settings, data_dir: Path) -> tuple[Snapshot, SnapshotFile]:
    """Shard `index`'s market as its snapshot left it (or empty), ready to follow its stream from there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    spec = layout.shards[index]
    snapshots = SnapshotFile(data_dir, spec.name)
    fresh = layout.engine(settings, index)
    snapshot = snapshots.load()
    if snapshot is None:
        return Snapshot(fresh, 0, MarketHistory(list(spec.symbols)), FillHistory()), snapshots
    if not snapshot.fits(fresh):
        raise ConfigError(
            f"{snapshots.path} was written for other symbols, limits, initial cash, shards or engine rules; "
            "remove it (the stream is replayed from the start) or use another --data-dir"
        )
    return snapshot, snapshots


class EngineShard:
    def __init__(
        self,
        spec: ShardSpec,
        state: Snapshot,
        nc: Nats,
        snapshots: SnapshotFile,
        snapshot_every: int = SNAPSHOT_EVERY,
        replicas: int = 1,
        shards: tuple[str, ...] = (),
    ) -> None:
        self.spec = spec
        self.snapshot_every = snapshot_every
        self.state = state
        self.engine = state.engine
        self._nc = nc
        self._log = CommandLog(nc.jetstream(), spec.name, replicas)
        self._snapshots = snapshots
        self._published = PublishedSnapshots(nc.jetstream(), replicas)
        self.outbox = Outbox(nc.jetstream(), spec.name, shards, replicas)
        """Credits of the transfers this shard debited, on their way to the other shards' streams (`shards`)."""
        self.gseq_base = shards.index(spec.name) * ID_SPAN if spec.name in shards else 0
        """Added to the stream's sequence in the venue's order of events (`gseq`), as the gateways add it."""

    async def run(self) -> None:
        """Serve queries and apply the stream until cancelled; a divergence stops the shard."""
        await self._log.ensure()
        queries = await self._nc.subscribe(f"hftsim.query.{self.spec.name}", cb=self._query)
        crediting = asyncio.create_task(self.outbox.run(), name=f"hftsim-credits-{self.spec.name}")
        await self._publish_applied()  # "I am here, at this command": whoever waits on progress hears it
        log.info(
            "shard %s (%s) follows its stream from command %d",
            self.spec.name,
            ",".join(self.spec.symbols),
            self.engine.seq + 1,
        )
        state = self.state
        try:
            async for entry in self._log.follow(self.engine.seq):
                ts = max(entry.ts, state.last_ts)  # the engine's clock never goes back, on replay as live
                state.last_ts = ts
                if isinstance(entry.command, Marker):
                    state.round = await take(self.engine, state.round, entry.command, entry.seq, self._published)
                    if entry.command.kind in REPLACING:
                        await self._publish_books()
                    await self._publish_applied()
                    continue
                result = self.engine.apply(entry.command, ts)
                if result.seq != entry.seq:
                    raise ShardDiverged(f"stream command {entry.seq} became engine command {result.seq}")
                for sym, rows in by_symbol(result, result.seq + self.gseq_base).items():
                    await self._nc.publish(subject(sym), events_message(rows))
                record(result, (self.engine, state.history, state.fills, running_book(state.round)))
                if isinstance(entry.command, DebitCash) and result.rejection is None:
                    self.outbox.debited(entry.command, entry.seq)
                if result.seq % self.snapshot_every == 0:
                    await self.outbox.drained()  # a snapshot never covers a debit whose credit is not appended
                    await self.checkpoint()
                await self._publish_applied()  # after the snapshot: "applied n" finds the snapshot at n published
        finally:
            crediting.cancel()
            await asyncio.gather(crediting, return_exceptions=True)
            await queries.unsubscribe()

    async def _publish_books(self) -> None:
        """Each symbol's whole book: the market was replaced, and gateways start over from these."""
        for sym in self.spec.symbols:
            await self._nc.publish(subject(sym), book_message(Book.of(self.engine, sym)))

    async def _publish_applied(self) -> None:
        await self._nc.publish(f"hftsim.applied.{self.spec.name}", orjson.dumps({"seq": self.engine.seq}))

    async def checkpoint(self) -> None:
        """Write the snapshot to the data dir, then publish it for gateways (a failed publish only delays them)."""
        data = self.state.dumps()
        self._snapshots.save(data)
        try:
            await self._published.publish(self.spec.name, data)
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            log.warning("snapshot at command %d not published (%s); gateways replay more", self.engine.seq, exc)

    async def _query(self, msg: Msg) -> None:
        try:
            request = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            request = None
        reply: dict[str, Any]
        op = request.get("op") if isinstance(request, dict) else None
        if op == "state":
            reply = {"seq": self.engine.seq, "state_hash": self.engine.state_hash(), "symbols": list(self.spec.symbols)}
        elif op == "book" and isinstance(request, dict) and request.get("sym") in self.spec.symbols:
            reply = {"book": Book.of(self.engine, str(request["sym"])).encode()}
        else:
            message = f'send {{"op": "state"}} or {{"op": "book", "sym": S}} with S one of {list(self.spec.symbols)}'
            reply = {"error": {"code": "BAD_REQUEST", "message": message}}
        await msg.respond(orjson.dumps(reply))


async def run_shard(
    layout: Layout, name: str, settings: Settings, nats_url: str, data_dir: Path, snapshot_every: int = SNAPSHOT_EVERY
) -> None:
    """`hftsim engine`: follow the stream until SIGINT/SIGTERM, then snapshot so a restart replays little
    (unless credits are still to append: the restart completes them).

    The NATS connection retries for ever: while nats-server is away the
    shard waits, and the ordered consumer resumes after the last command
    it applied.
    """
    index = layout.index(name)
    spec = layout.shards[index]
    state, snapshots = restore(layout, index, settings, data_dir)
    nc = await connect(nats_url, f"hftsim-shard-{spec.name}")
    names = tuple(s.name for s in layout.shards)
    shard = EngineShard(spec, state, nc, snapshots, snapshot_every, layout.replicas, names)
    heap = HeapPolicy()
    heap.start()  # the recovered book frozen, no full collection over it: the gateway's policy (gateway/heap.py)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(shard.run(), name=f"hftsim-shard-{spec.name}")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (running, stopping):
            task.cancel()
        await asyncio.gather(running, stopping, return_exceptions=True)
        heap.stop()
        if shard.outbox.idle:  # else the restart replays the debits whose credits are still to append
            await shard.checkpoint()
        await nc.close()
    if running.done() and not running.cancelled() and running.exception() is not None:
        raise running.exception()  # type: ignore[misc]
