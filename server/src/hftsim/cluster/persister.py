"""`hftsim persister`: every shard's orders, fills and balances written to SQL as the streams go.

The shards keep the market in memory and their streams; an operator wants
it in a database (reports, audits, a class's grades). The persister follows
each shard's stream into a replica engine of its own, as a gateway does, and
writes what each run of commands changed to the ledger tables
(store/ledger.py) in one transaction together with the shard's last command
it covers. Replaying is the only way to get these rows: the shards publish
nothing but their progress, and the replica is the same deterministic
engine fed the same commands with the same timestamps, so its fills are the
shard's.

Exactly once: at start the persister reads each shard's committed command
`c`, rebuilds the replica up to `c` (from the shard's published snapshot when
that is not past `c`, else from the stream's start) without writing, and
writes from `c + 1` on. A crash between two commits loses only the
uncommitted run, which is written again after the restart; a fill's id is
its key, so a second copy could not be stored.

Markers: a round start or a restore replaces the shard's market, so it is
written as a transaction of its own that restates the shard (its open
orders end as canceled, its balances and positions are the new market's);
the other markers change no row.

Batching: a reader task drains the stream into a queue while the previous
transaction commits on the ledger's thread; the next transaction takes
everything queued (up to `BATCH_MAX` commands), so the busier the stream,
the bigger and fewer the transactions.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client as Nats

from ..config import Settings
from ..engine import (
    Engine,
    Fill,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    Result,
)
from ..store.database import Database
from ..store.ledger import Balance, Batch, Ledger
from .commandlog import CommandLog, Entry
from .connection import connect
from .layout import Layout, ShardSpec
from .markers import Marker, apply_marker, replace
from .snapshots import PublishedSnapshots

log = logging.getLogger(__name__)

LEDGER_DB = "ledger.db"
"""The SQLite file in the data dir when no PostgreSQL URL is given."""
BATCH_MAX = 2000
"""Commands per transaction at most: bounds a transaction's size and the work a crash makes redo."""
_ORDER_EVENTS = (OrderAccepted, OrderAmended, OrderCanceled, OrderExpired)


class PersisterError(RuntimeError):
    """The tables and the stream disagree, or the stream lost commands the tables never got."""


@dataclass(slots=True)
class _Shard:
    spec: ShardSpec
    engine: Engine
    log: CommandLog
    committed: int
    """The last command the tables hold for this shard."""
    applied_ts: int = 0
    """The clamp that keeps the replica's clock from going back, as on every replica."""
    restored: dict[int, Engine] = field(default_factory=dict)
    """Stream command -> the engine its `restore` marker names, fetched by the reader (markers.py)."""


class Persister:
    def __init__(self, layout: Layout, settings: Settings, nc: Nats, ledger: Ledger, names: list[str]) -> None:
        self._layout = layout
        self._settings = settings
        self._nc = nc
        self._ledger = ledger
        self._names = names

    async def run(self) -> None:
        """Follow every chosen shard until cancelled; an error on one stops them all."""
        committed = self._ledger.persisted()
        shards = [await self._start(name, committed.get(name, 0)) for name in self._names]
        async with asyncio.TaskGroup() as group:
            for shard in shards:
                group.create_task(self._persist(shard), name=f"hftsim-persist-{shard.spec.name}")

    async def _start(self, name: str, committed: int) -> _Shard:
        """The shard's replica, from its snapshot when the tables already cover it, ready to follow."""
        index = self._layout.index(name)
        spec = self._layout.shards[index]
        js = self._nc.jetstream()
        shard = _Shard(spec, self._layout.engine(self._settings, index), CommandLog(js, name, self._layout.replicas),
                       committed)  # fmt: skip
        await shard.log.ensure()
        first, last = await shard.log.bounds()
        if committed > last:
            raise PersisterError(
                f"the database holds shard {name} up to command {committed} but its stream ends at {last}: "
                "the database was written for another market; give another --database"
            )
        snapshot = await PublishedSnapshots(js, self._layout.replicas).latest(name)
        if snapshot is not None and snapshot.seq <= committed and snapshot.fits(shard.engine):
            shard.engine.adopt(snapshot.engine)
            shard.applied_ts = snapshot.last_ts
        if shard.engine.seq + 1 < first:
            raise PersisterError(
                f"{shard.log.stream} starts at command {first}, the database holds shard {name} up to {committed} "
                f"and no snapshot covers the commands between (the newest is past {committed} or absent)"
            )
        log.info("persisting shard %s from command %d (replaying from %d)", name, committed + 1, shard.engine.seq + 1)
        return shard

    async def _persist(self, shard: _Shard) -> None:
        """Read the stream into a queue and write it out in batches, side by side: an error in either stops both."""
        queue: asyncio.Queue[Entry] = asyncio.Queue(maxsize=4 * BATCH_MAX)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._read(shard, queue), name=f"hftsim-read-{shard.spec.name}")
            group.create_task(self._write(shard, queue), name=f"hftsim-write-{shard.spec.name}")

    async def _write(self, shard: _Shard, queue: asyncio.Queue[Entry]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            entries = [await queue.get()]
            while len(entries) < BATCH_MAX and not queue.empty():
                entries.append(queue.get_nowait())
            for batch in self._apply(shard, entries):
                try:
                    await loop.run_in_executor(self._ledger.thread, self._ledger.write, batch)
                except Exception as exc:
                    raise PersisterError(
                        f"the database refused shard {shard.spec.name}'s commands {shard.committed + 1} to "
                        f"{batch.seq} ({exc}); none of them was stored, and a restart writes them again"
                    ) from exc
                shard.committed = batch.seq

    async def _read(self, shard: _Shard, queue: asyncio.Queue[Entry]) -> None:
        published = PublishedSnapshots(self._nc.jetstream(), self._layout.replicas)
        async for entry in shard.log.follow(shard.engine.seq):
            if isinstance(entry.command, Marker) and entry.command.kind == "restore":
                shard.restored[entry.seq] = await published.engine(str(entry.command.data["object"]))
            await queue.put(entry)

    def _apply(self, shard: _Shard, entries: list[Entry]) -> list[Batch]:
        """Apply `entries` to the replica; what those past the committed command changed, as batches in order
        (none: nothing new). A round start or a restore replaces the shard's whole market, so it ends the batch
        before it and is a batch of its own that restates the shard (`restated`)."""
        engine = shard.engine
        batches: list[Batch] = []
        changes = _Changes(shard.spec.name)
        for entry in entries:
            if entry.seq <= engine.seq:
                continue  # the ordered consumer redelivers nothing, but a snapshot may cover it
            if entry.seq != engine.seq + 1:
                raise PersisterError(
                    f"{shard.log.stream} jumped from command {engine.seq} to {entry.seq} (cut by its limits or "
                    "a purge): the commands between are lost to the database"
                )
            ts = max(entry.ts, shard.applied_ts)
            shard.applied_ts = ts
            new = entry.seq > shard.committed
            if isinstance(entry.command, Marker):
                resets = entry.command.kind in RESETS
                if new and resets:
                    batches += changes.batches(engine)
                    changes = _Changes(shard.spec.name)
                restored = shard.restored.pop(entry.seq, None)
                if restored is not None:
                    replace(engine, restored, entry.seq)
                else:
                    apply_marker(engine, None, entry.command, entry.seq)
                if new and resets:
                    batches.append(restated(engine, shard.spec, entry.seq, ts))
                elif new:
                    changes.batch.seq = entry.seq  # a sample or an end changes no row
                continue
            result = engine.apply(entry.command, ts)
            if result.seq != entry.seq:
                raise PersisterError(f"{shard.log.stream} command {entry.seq} became engine command {result.seq}")
            if new:
                changes.add(entry, result)
        return batches + changes.batches(engine)


RESETS = frozenset({"round_start", "restore"})
"""The markers that replace a shard's market (every account, position and open order)."""


class _Changes:
    """What a run of one shard's commands changed: orders and fills as they go, the accounts and positions they
    touched (read from the engine once the run is over: a row's `seq` does not depend on the batching)."""

    def __init__(self, shard: str) -> None:
        self.batch = Batch(shard)
        self.users: dict[int, int] = {}
        """user -> the last command that touched their account."""
        self.held: dict[tuple[int, str], int] = {}

    def add(self, entry: Entry, result: Result) -> None:
        batch, users = self.batch, self.users
        seq = batch.seq = entry.seq
        user = getattr(entry.command, "user_id", None)
        if isinstance(user, int):
            users[user] = seq
        for ev in result.events:
            if isinstance(ev, Fill):
                for maker in (True, False):
                    filled = ev.filled(maker)
                    batch.orders[filled.order_id] = (filled.order, seq)
                    batch.fills.append((filled.fill, seq))
                    users[filled.user_id] = seq
                self.held[ev.maker_id, ev.sym] = seq
                self.held[ev.taker_id, ev.sym] = seq
            elif isinstance(ev, _ORDER_EVENTS):
                batch.orders[ev.order.order_id] = (ev.order, seq)
                users[ev.user_id] = seq

    def batches(self, engine: Engine) -> list[Batch]:
        """The batch, its accounts and positions as `engine` holds them now; none if nothing new was applied."""
        batch = self.batch
        if not batch.seq:
            return []
        accounts = set(engine.user_ids())
        batch.balances = [_balance(engine, u, seq) for u, seq in sorted(self.users.items()) if u in accounts]
        batch.positions = [(engine.position(u, sym), seq) for (u, sym), seq in sorted(self.held.items())]
        return [batch]


def restated(engine: Engine, spec: ShardSpec, seq: int, ts: int) -> Batch:
    """The shard as the market a round start or a restore at command `seq` left: its open orders, accounts and
    positions, replacing all the tables held for it (`Batch.restate`)."""
    users = engine.user_ids()
    batch = Batch(spec.name, seq, restate=(ts, spec.symbols))
    batch.orders = {o.order_id: (o, seq) for u in users for o in engine.open_orders(u)}
    batch.balances = [_balance(engine, u, seq) for u in users]
    batch.positions = [(p, seq) for u in users for p in engine.positions(u)]
    return batch


def _balance(engine: Engine, user_id: int, seq: int) -> Balance:
    return Balance(user_id, engine.cash(user_id), engine.opening_cash(user_id), engine.fees(user_id), seq)


def ledger_database(settings: Settings, database: str | None, data_dir: Path) -> Database:
    """`--database`, else the config's PostgreSQL `store.url`, else `ledger.db` in the data dir."""
    if database:
        return Database(database)
    return Database.choose(settings.store.url, data_dir, LEDGER_DB)


async def run_persister(
    layout: Layout, settings: Settings, nats_url: str, db: Database, names: list[str] | None = None
) -> None:
    """`hftsim persister`: write the shards' streams to `db` until SIGINT/SIGTERM.

    The shards are claimed in the database and their rows written before
    NATS is reached: a second persister of a shard stops at once, and the
    tables are readable from the first start.
    """
    chosen = names if names else [s.name for s in layout.shards]
    engines = {name: layout.engine(settings, layout.index(name)) for name in chosen}  # a ConfigError for a bad name
    ledger = Ledger(db, chosen)
    try:
        some = engines[chosen[0]]
        ledger.describe(some.instruments, some.cash_decimals, {name: e.initial_cash for name, e in engines.items()})
        log.info("persister of shards %s in %s; connecting to NATS at %s", ",".join(chosen), db.shown, nats_url)
        nc = await connect(nats_url, "hftsim-persister")
    except BaseException:
        ledger.close()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = asyncio.create_task(Persister(layout, settings, nc, ledger, chosen).run(), name="hftsim-persister")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (running, stopping):
            task.cancel()
        await asyncio.gather(running, stopping, return_exceptions=True)
        await nc.close()
        ledger.close()
    if running.done() and not running.cancelled() and running.exception() is not None:
        error = running.exception()
        while isinstance(error, BaseExceptionGroup):  # the task groups' wrapping of the first failure
            error = error.exceptions[0]
        raise error  # type: ignore[misc]
