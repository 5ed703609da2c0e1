"""An engine shard: applies its JetStream command stream in order, and answers queries.

The shard owns some of the symbols (its place in the cluster's layout,
see `layout`) and one engine. It never takes
commands from anyone but its stream, so what a gateway was told is
appended (JetStream's acknowledgement) is exactly what the shard applies,
after a crash as before it. A snapshot file records the engine with the
stream sequence it covers; a restarted shard loads it and follows the
stream from the next sequence.

Subjects (`<shard>` is the shard's name):
- `hftsim.cmd.<shard>`: the command stream (see commandlog).
- `hftsim.applied.<shard>`: `{"seq": n}` when the shard starts and after
  each command it applies, so a submitter can wait until its command has
  taken effect.
- `hftsim.query.<shard>`: request/reply, `{"op": "state"}` →
  `{"seq": n, "state_hash": "…", "symbols": [...]}`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
from pathlib import Path
from typing import Any

import orjson
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg

from ..config import ConfigError, Settings
from ..engine import Engine
from .commandlog import CommandLog
from .connection import connect
from .layout import Layout, ShardSpec

log = logging.getLogger(__name__)

SNAPSHOT_EVERY = 50_000
"""Default commands between snapshots: bounds how much a restarted shard replays."""


class ShardDiverged(RuntimeError):
    """The engine's sequence left the stream's: the stream and the snapshot disagree."""


class SnapshotFile:
    """`shard-<name>.snapshot` in the data dir: (stream seq, engine), replaced atomically."""

    def __init__(self, data_dir: Path, shard: str) -> None:
        self.path = data_dir / f"shard-{shard}.snapshot"

    def load(self) -> Engine | None:
        if not self.path.exists():
            return None
        engine = pickle.loads(self.path.read_bytes())
        if not isinstance(engine, Engine):
            raise ConfigError(f"{self.path} does not hold an engine snapshot")
        return engine

    def save(self, engine: Engine) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(engine, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def restore(layout: Layout, index: int, settings: Settings, data_dir: Path) -> tuple[Engine, SnapshotFile]:
    """Shard `index`'s engine as its snapshot left it (or empty), ready to follow its stream from there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    snapshots = SnapshotFile(data_dir, layout.shards[index].name)
    fresh = layout.engine(settings, index)
    engine = snapshots.load()
    if engine is None:
        return fresh, snapshots
    if (list(engine.instruments), engine.limits, engine.initial_cash) != (
        list(fresh.instruments),
        fresh.limits,
        fresh.initial_cash,
    ):
        raise ConfigError(
            f"{snapshots.path} was written for other symbols, limits, initial cash or shards; "
            "remove it (the stream is replayed from the start) or use another --data-dir"
        )
    return engine, snapshots


class EngineShard:
    def __init__(
        self, spec: ShardSpec, engine: Engine, nc: Nats, snapshots: SnapshotFile, snapshot_every: int = SNAPSHOT_EVERY
    ) -> None:
        self.spec = spec
        self.snapshot_every = snapshot_every
        self.engine = engine
        self._nc = nc
        self._log = CommandLog(nc.jetstream(), spec.name)
        self._snapshots = snapshots
        self._last_ts = 0

    async def run(self) -> None:
        """Serve queries and apply the stream until cancelled; a divergence stops the shard."""
        await self._log.ensure()
        queries = await self._nc.subscribe(f"hftsim.query.{self.spec.name}", cb=self._query)
        await self._publish_applied()  # "I am here, at this command": whoever waits on progress hears it
        log.info(
            "shard %s (%s) follows its stream from command %d",
            self.spec.name,
            ",".join(self.spec.symbols),
            self.engine.seq + 1,
        )
        try:
            async for entry in self._log.follow(self.engine.seq):
                ts = max(entry.ts, self._last_ts)  # the engine's clock never goes back, on replay as live
                self._last_ts = ts
                result = self.engine.apply(entry.command, ts)
                if result.seq != entry.seq:
                    raise ShardDiverged(f"stream command {entry.seq} became engine command {result.seq}")
                await self._publish_applied()
                if result.seq % self.snapshot_every == 0:
                    self._snapshots.save(self.engine)
        finally:
            await queries.unsubscribe()

    async def _publish_applied(self) -> None:
        await self._nc.publish(f"hftsim.applied.{self.spec.name}", orjson.dumps({"seq": self.engine.seq}))

    def checkpoint(self) -> None:
        self._snapshots.save(self.engine)

    async def _query(self, msg: Msg) -> None:
        try:
            request = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            request = None
        reply: dict[str, Any]
        if isinstance(request, dict) and request.get("op") == "state":
            reply = {"seq": self.engine.seq, "state_hash": self.engine.state_hash(), "symbols": list(self.spec.symbols)}
        else:
            reply = {"error": {"code": "BAD_REQUEST", "message": 'send {"op": "state"}'}}
        await msg.respond(orjson.dumps(reply))


async def run_shard(
    layout: Layout, name: str, settings: Settings, nats_url: str, data_dir: Path, snapshot_every: int = SNAPSHOT_EVERY
) -> None:
    """`hftsim engine`: follow the stream until SIGINT/SIGTERM, then snapshot so a restart replays little.

    The NATS connection retries for ever: while nats-server is away the
    shard waits, and the ordered consumer resumes after the last command
    it applied.
    """
    index = layout.index(name)
    spec = layout.shards[index]
    engine, snapshots = restore(layout, index, settings, data_dir)
    nc = await connect(nats_url, f"hftsim-shard-{spec.name}")
    shard = EngineShard(spec, engine, nc, snapshots, snapshot_every)
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
        shard.checkpoint()
        await nc.close()
    if running.done() and not running.cancelled() and running.exception() is not None:
        raise running.exception()  # type: ignore[misc]
