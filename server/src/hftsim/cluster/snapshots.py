"""A shard's snapshot: its engine and read models at one command of its stream, on disk and on NATS.

The shard writes one to its data dir (a restart loads it) and publishes the
same bytes to the JetStream object store `hftsim-snapshots` under the
shard's name, so a gateway starts from it and replays only the commands
after it instead of the whole stream. A snapshot also carries the last
command time the shard applied: the clamp that keeps the engine's clock
from going back, which every replica must start from to stay identical.

Snapshots are pickles: whoever can write to the cluster's NATS can already
append commands, so the object store is trusted as the streams are.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import ObjectStore

from ..config import ConfigError
from ..engine import Engine
from ..store.history import FillHistory, MarketHistory
from .markers import ShardRound

BUCKET = "hftsim-snapshots"


@dataclass(slots=True)
class Snapshot:
    engine: Engine
    last_ts: int
    """The latest command time applied (ms): the replica's clock starts here."""
    history: MarketHistory
    """Trades and candles of the shard's symbols."""
    fills: FillHistory
    round: ShardRound | None = None
    """The round as this shard counts it (markers.py), so a replica started from the snapshot scores it too."""

    @property
    def seq(self) -> int:
        return self.engine.seq

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes, where: str) -> Snapshot:
        snapshot = pickle.loads(data)
        if not isinstance(snapshot, Snapshot):
            raise ConfigError(f"{where} does not hold a shard snapshot; remove it (the stream is replayed instead)")
        if not hasattr(snapshot, "round"):  # written before snapshots held the round
            snapshot.round = None
        return snapshot

    def fits(self, fresh: Engine) -> bool:
        """Made for the same instruments, limits and cash share as `fresh` (the layout may have changed)."""
        return fits(self.engine, fresh)


def fits(engine: Engine, fresh: Engine) -> bool:
    """`engine` has the instruments, limits, cash share and rules of `fresh`: it may stand in for it (one saved
    under other rules comes back empty, see `Engine.rules`)."""
    return (list(engine.instruments), engine.limits, engine.initial_cash, engine.rules) == (
        list(fresh.instruments),
        fresh.limits,
        fresh.initial_cash,
        fresh.rules,
    )


@dataclass(frozen=True, slots=True)
class ReadModels:
    """A gateway's trade history and fills, which a snapshot's extend."""

    history: MarketHistory
    fills: FillHistory


class SnapshotFile:
    """`shard-<name>.snapshot` in the data dir, replaced atomically (temporary file, fsync, rename)."""

    def __init__(self, data_dir: Path, shard: str) -> None:
        self.path = data_dir / f"shard-{shard}.snapshot"

    def load(self) -> Snapshot | None:
        if not self.path.exists():
            return None
        return Snapshot.loads(self.path.read_bytes(), str(self.path))

    def save(self, data: bytes) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class PublishedSnapshots:
    """The object store the shards publish their latest snapshot to, one object per shard."""

    def __init__(self, js: JetStreamContext, replicas: int = 1) -> None:
        self._js = js
        self._replicas = replicas
        self._store: ObjectStore | None = None

    async def _bucket(self) -> ObjectStore:
        if self._store is None:
            config = ObjectStoreConfig(
                storage=StorageType.FILE, description="each shard's latest snapshot", replicas=self._replicas
            )
            self._store = await self._js.create_object_store(BUCKET, config=config)
        return self._store

    async def publish(self, shard: str, data: bytes) -> None:
        await (await self._bucket()).put(shard, data)

    async def put(self, name: str, data: bytes) -> None:
        """Any other object: the engines a `restore` marker names."""
        await (await self._bucket()).put(name, data)

    async def get(self, name: str) -> bytes:
        found = await (await self._bucket()).get(name)
        assert found.data is not None
        return found.data

    async def engine(self, name: str) -> Engine:
        """The engine a `restore` marker names (a pickle, trusted as the snapshots are)."""
        engine = pickle.loads(await self.get(name))
        if not isinstance(engine, Engine):
            raise ConfigError(f"the object {name} in {BUCKET} does not hold an engine")
        return engine

    async def latest(self, shard: str) -> Snapshot | None:
        try:
            found = await (await self._bucket()).get(shard)
        except ObjectNotFoundError:
            return None
        assert found.data is not None
        return Snapshot.loads(found.data, f"the object {shard} in {BUCKET}")
