"""The snapshot process: a venue's snapshots written from a replayed copy of its market, never by forking the server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import orjson
import pytest

from hftsim.config import load
from hftsim.engine import Engine, PlaceOrder, Side
from hftsim.gateway import snapshotter
from hftsim.gateway.control import canonical, replace_market
from hftsim.gateway.snapshotter import FOLLOW_S
from hftsim.gateway.venue import Venue
from hftsim.store.history import FillHistory, MarketHistory
from hftsim.store.segments import SUFFIX
from hftsim.store.snapshots import SnapshotFiles

EVERY = 1000


def flow(i: int) -> PlaceOrder:
    """Buys and sells of five users at nearby prices: they rest, and often trade."""
    side = Side.BUY if i % 2 else Side.SELL
    return PlaceOrder(1 + i % 5, "ACME", side, 1 + i % 3, 10_000 + (i % 5 if side is Side.BUY else i % 3))


@pytest.fixture
async def venue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Venue]:
    def forbidden() -> int:
        raise AssertionError("the serving process forked")

    monkeypatch.setattr(os, "fork", forbidden)
    built = Venue.build(load(journal={"snapshot_every": EVERY}), tmp_path)
    yield built
    built.close()


async def trade(venue: Venue, last: int) -> None:
    """Orders until the market's last command is `last`."""
    for i in range(venue.engine.seq + 1, last + 1):
        result = await venue.sequencer.submit(flow(i), 1 + i % 5)
        assert result.seq == i


class Heard(logging.Handler):
    """Sets an event when the snapshotter logs a line holding `words`."""

    def __init__(self, words: str) -> None:
        super().__init__(logging.INFO)
        self.words = words
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


async def heard(words: str, during: Awaitable[None] | None = None) -> None:
    """Run `during`, then wait until the snapshotter has logged `words` (meanwhile or before)."""
    logger = logging.getLogger("hftsim.gateway.snapshotter")
    handler = Heard(words)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        if during is not None:
            await during
        async with asyncio.timeout(120):
            await handler.event.wait()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def reported(venue: Venue, last: int) -> None:
    """Trade up to command `last`, then wait until the process says its snapshot at `last` is durable."""
    await heard(f"snapshot at command {last} written", trade(venue, last))


def saved(tmp_path: Path) -> tuple[int, str, int, int]:
    """The latest snapshot file as a restart loads it: its seq, its engine's state hash, its trades and fills."""
    loaded = SnapshotFiles(tmp_path / "journal" / "snapshots").load()
    assert loaded is not None
    seq, (engine, history, fills, round_book) = loaded
    assert round_book is None
    return seq, engine.state_hash(), len(history.trades("ACME", 10**6)), len(fills.fills(1, None, 10**6))


def live(venue: Venue) -> tuple[int, str, int, int]:
    trades, fills = len(venue.history.trades("ACME", 10**6)), len(venue.fills.fills(1, None, 10**6))
    return venue.engine.seq, venue.engine.state_hash(), trades, fills


@pytest.mark.parametrize("follow_s", [FOLLOW_S, 0.0])
async def test_the_snapshot_process_writes_the_live_market_and_drops_the_segments_it_covers(
    venue: Venue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, follow_s: float
) -> None:
    """Started with the server, it follows the journal (with 0 s, told at every pass of the loop)."""
    monkeypatch.setattr(snapshotter, "FOLLOW_S", follow_s)
    venue.start_snapshots()
    await reported(venue, EVERY)
    assert saved(tmp_path) == live(venue), "the replayed market is the served one, read models included"
    assert live(venue)[2] > 100, "the flow trades"
    await reported(venue, 2 * EVERY)
    assert saved(tmp_path) == live(venue)
    segments = sorted(int(p.name.removesuffix(SUFFIX)) for p in (tmp_path / "journal").glob(f"*{SUFFIX}"))
    assert segments[0] == EVERY + 1, "the first segment, which the first snapshot covers whole, is gone"


async def test_a_crashed_snapshot_process_is_reported_and_the_next_snapshot_starts_another(
    venue: Venue, tmp_path: Path
) -> None:
    await reported(venue, EVERY)
    assert venue.snapshotter is not None and venue.snapshotter.process is not None
    first = venue.snapshotter.process.pid
    os.kill(first, signal.SIGKILL)
    await heard(f"the snapshot process (pid {first}) was killed by signal 9", trade(venue, EVERY + 50))
    assert venue.snapshotter.process is None, "reported at once; orders went on meanwhile"
    await reported(venue, 2 * EVERY)
    assert venue.snapshotter.process is not None and venue.snapshotter.process.pid != first
    assert saved(tmp_path) == live(venue), "the new process recovered from the snapshot and the journal"


async def test_a_replaced_market_ends_the_process_and_a_new_one_follows_the_new_market(
    venue: Venue, tmp_path: Path
) -> None:
    await reported(venue, EVERY)
    assert venue.snapshotter is not None and venue.snapshotter.process is not None
    following_the_old = venue.snapshotter.process.pid
    old = venue.engine
    assert isinstance(old, Engine)
    empty = Engine(old.instruments, old.limits, initial_cash=old.initial_cash)
    replace_market(venue, (empty, MarketHistory([i.sym for i in old.instruments]), FillHistory(), None))
    assert venue.snapshotter.process is not None and venue.snapshotter.process.pid != following_the_old
    assert saved(tmp_path) == live(venue) and live(venue)[2] == 0
    await reported(venue, 2 * EVERY)
    assert saved(tmp_path) == live(venue)


async def test_during_a_round_the_process_keeps_the_rounds_book_breaches_and_samples_included(
    venue: Venue, tmp_path: Path
) -> None:
    venue.start_snapshots()
    venue.rounds.start("snapshotted", None)
    assert venue.round_book is not None
    await trade(venue, 300)
    for user in (2, 2, 3):
        venue.rounds.breach(user)  # refusals no command records
    venue.rounds.sample()
    await reported(venue, EVERY)
    loaded = SnapshotFiles(tmp_path / "journal" / "snapshots").load()
    assert loaded is not None
    seq, (engine, _, _, book) = loaded
    assert seq == EVERY and engine.state_hash() == venue.engine.state_hash()
    assert book is not None and canonical(book, {}) == canonical(venue.round_book, {})
    assert book.of(2).breaches == 2 and len(book.of(1).curve) == 1 and book.of(1).volume > 0
    venue.rounds.end()
    await reported(venue, 2 * EVERY)
    assert saved(tmp_path) == live(venue), "once the round ended, its book is not in the snapshots"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a server pinned to the only CPU leaves none")
def test_the_process_keeps_off_the_cpus_a_server_is_pinned_to_even_later() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    server = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        os.sched_setaffinity(server.pid, {cpus[-1]})
        moved = subprocess.run(
            [sys.executable, "-c", KEEP_OFF, str(server.pid)], capture_output=True, text=True, check=True
        ).stdout
        assert cpus[-1] not in orjson.loads(moved) and orjson.loads(moved)
        os.sched_setaffinity(server.pid, set(cpus))
        stays = subprocess.run([sys.executable, "-c", KEEP_OFF, str(server.pid)], capture_output=True, text=True)
        assert set(orjson.loads(stays.stdout)) == set(cpus), "an unpinned server leaves it on every CPU"
    finally:
        server.kill()
        server.wait()


KEEP_OFF = """
import os, sys
from hftsim.gateway.snapshot_process import keep_off
keep_off(int(sys.argv[1]))
print(sorted(os.sched_getaffinity(0)))
"""
