"""Gateways start from the shards' published snapshots, not from the start of the streams.

The shards run in process on a real nats-server and snapshot every few
commands; a gateway started late must reach the same state after the
streams lost every command its snapshots cover (purged), which it could
not if it replayed from command 1.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import orjson
import pytest
from nats.aio.client import Client as Nats

from hftsim.cluster.commandlog import CommandLog, Entry, stream_name
from hftsim.cluster.connection import connect
from hftsim.cluster.layout import Layout
from hftsim.cluster.markers import Marker
from hftsim.cluster.natsserver import NatsServer
from hftsim.cluster.sequencer import StreamSequencer, _Follower
from hftsim.cluster.shard import EngineShard, restore
from hftsim.cluster.snapshots import PublishedSnapshots, ReadModels, Snapshot, SnapshotFile
from hftsim.config import ConfigError, Settings, load
from hftsim.engine import Engine, PlaceOrder, Side
from hftsim.gateway.readmodels import record
from hftsim.store.history import FillHistory, MarketHistory

WAIT_S = 30.0
EVERY = 5


@dataclass
class Running:
    nc: Nats
    layout: Layout
    shards: list[EngineShard]


@pytest.fixture
async def running(shared_nats: NatsServer, two_shards: Settings, tmp_path: Path) -> AsyncIterator[Running]:
    """Both shards of the layout, snapshotting every EVERY commands, on one connection."""
    nc = await connect(shared_nats.url, "test-shards")
    layout = Layout.of(two_shards)
    shards = []
    for i, spec in enumerate(layout.shards):
        state, snapshots = restore(layout, i, two_shards, tmp_path)
        shards.append(EngineShard(spec, state, nc, snapshots, snapshot_every=EVERY))
    tasks = [asyncio.create_task(shard.run()) for shard in shards]
    yield Running(nc, layout, shards)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await nc.close()


def gateway(settings: Settings, url: str) -> StreamSequencer:
    """A sequencer with read models fed as a venue feeds them: from the snapshots, then by every result."""
    models = ReadModels(MarketHistory([s.sym for s in settings.symbols]), FillHistory())
    sequencer = StreamSequencer.for_layout(settings, url, read_models=models)
    market = (cast(Engine, sequencer.engine), models.history, models.fills, None)
    sequencer.subscribe(lambda result, origin: record(result, market))
    return sequencer


async def applied(nc: Nats, shard: str, seq: int) -> None:
    """Wait until the shard says it has applied command `seq` (and published any snapshot up to it)."""
    progress = await nc.subscribe(f"hftsim.applied.{shard}")
    try:
        async with asyncio.timeout(WAIT_S):
            while orjson.loads((await progress.next_msg(timeout=WAIT_S)).data)["seq"] < seq:
                pass
    finally:
        await progress.unsubscribe()


async def test_a_late_gateway_starts_from_the_snapshots_and_has_the_same_market(
    shared_nats: NatsServer, two_shards: Settings, running: Running
) -> None:
    early = gateway(two_shards, shared_nats.url)
    await early.start()
    try:
        a, b = running.layout.shards
        waits = [
            asyncio.ensure_future(applied(running.nc, a.name, 12)),
            asyncio.ensure_future(applied(running.nc, b.name, 3)),
        ]
        for i in range(12):  # crossing orders on ACME (first shard): trades and fills
            side = Side.BUY if i % 2 else Side.SELL
            await early.submit(PlaceOrder(user_id=1 + i % 2, sym="ACME", side=side, qty=10, price=10_000), 1)
        for i in range(3):  # fewer than EVERY on the second shard: no snapshot there
            await early.submit(PlaceOrder(user_id=3, sym="CRUX", side=Side.BUY, qty=1, price=17_000 + i), 3)
        await asyncio.gather(*waits)
        js = running.nc.jetstream()
        await js.purge_stream(stream_name(a.name), seq=11)  # the first shard's stream keeps commands 11 and 12 only
        late = gateway(two_shards, shared_nats.url)
        await late.start()
        try:
            assert late.started_from == [10, 0]  # the first shard's snapshot at 10; the second replayed from 1
            assert late.engine.state_hash() == early.engine.state_hash()
            assert [e.state_hash() for e in late.engine.engines] == [s.engine.state_hash() for s in running.shards]
            assert late.read_models is not None and early.read_models is not None
            for user in (1, 2):
                assert late.read_models.fills.fills(user, None, 100) == early.read_models.fills.fills(user, None, 100)
            assert late.read_models.history.trades("ACME", 100) == early.read_models.history.trades("ACME", 100)
            assert len(early.read_models.history.trades("ACME", 100)) == 6
        finally:
            await late.stop()
        await js.purge_stream(stream_name(b.name), seq=3)  # lost, and no snapshot covers it
        with pytest.raises(RuntimeError, match="no snapshot"):
            await gateway(two_shards, shared_nats.url).start()
    finally:
        await early.stop()


def test_a_shards_snapshot_from_another_layout_is_refused(tmp_path: Path) -> None:
    settings = load()
    half = Layout.split(settings, 2).engine(settings, 0)
    SnapshotFile(tmp_path, "a").save(Snapshot(half, 0, MarketHistory(["ACME"]), FillHistory()).dumps())
    with pytest.raises(ConfigError):
        restore(Layout.single(settings, "a", None), 0, settings, tmp_path)  # one shard: the whole cash, not half


class Gapped:
    """A stream that lost commands while a replica was behind: it delivers 1, 2, then 6 and 7."""

    shard = "a"
    stream = "HFTSIM_CMD_A"

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    async def follow(self, after_seq: int) -> AsyncIterator[Entry]:
        for entry in self.entries:
            if entry.seq > after_seq:
                yield entry


class Published:
    def __init__(self, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot

    async def latest(self, shard: str) -> Snapshot | None:
        return self.snapshot


def orders(settings: Settings) -> tuple[list[Entry], Snapshot]:
    """Seven crossing orders as stream entries, and the snapshot a shard took after the fifth."""
    engine = Layout.of(settings).engine(settings, 0)
    entries, snapshot = [], None
    for i in range(1, 8):
        side = Side.BUY if i % 2 else Side.SELL
        command = PlaceOrder(user_id=1 + i % 2, sym="ACME", side=side, qty=5, price=10_000)
        entry = Entry(i, 1_000 + i, command, None)
        engine.apply(command, entry.ts)
        entries.append(entry)
        if i == 5:
            snapshot = Snapshot(pickle.loads(pickle.dumps(engine)), entry.ts, MarketHistory(["ACME"]), FillHistory())
    assert snapshot is not None
    return entries, snapshot


async def follow_gapped(settings: Settings, snapshot: Snapshot | None) -> tuple[StreamSequencer, list[int]]:
    entries, _ = orders(settings)
    sequencer = StreamSequencer.for_layout(settings, "nats://unused")
    sequencer._published = cast(PublishedSnapshots, Published(snapshot))
    heard: list[int] = []
    sequencer.subscribe(lambda result, origin: heard.append(result.seq))
    follower = _Follower(
        cast(CommandLog, Gapped([e for e in entries if not 3 <= e.seq <= 5])), sequencer.engine.engines[0]
    )
    done = asyncio.get_running_loop().create_future()
    await sequencer._follow(follower, 7, done)
    assert done.done()
    return sequencer, heard


async def test_a_replica_bridges_a_gap_in_its_stream_with_the_shards_snapshot() -> None:
    settings = load()
    entries, snapshot = orders(settings)
    sequencer, heard = await follow_gapped(settings, snapshot)
    assert heard == [1, 2, 6, 7]  # 3 to 5 come in the snapshot
    reference = Layout.of(settings).engine(settings, 0)
    for entry in entries:
        assert not isinstance(entry.command, Marker)
        reference.apply(entry.command, entry.ts)
    assert sequencer.engine.engines[0].state_hash() == reference.state_hash()


async def test_a_gap_no_snapshot_covers_stops_the_replica() -> None:
    with pytest.raises(RuntimeError, match="no snapshot covers the gap"):
        await follow_gapped(load(), None)
