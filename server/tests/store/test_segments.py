"""The segment log: group commit, durability modes, segments, snapshots in a forked child, migration."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
from pathlib import Path
from typing import Any

import pytest

from hftsim.config import ConfigError, load
from hftsim.engine import Engine, PlaceOrder, Result, Side
from hftsim.gateway.sequencer import Promise, Sequencer
from hftsim.gateway.venue import market_journal, recover
from hftsim.protocol.errors import ErrorCode, ProtocolError
from hftsim.store import codec, segments
from hftsim.store.database import Database
from hftsim.store.dbjournal import DatabaseJournal
from hftsim.store.errors import CorruptJournal
from hftsim.store.integrity import verified
from hftsim.store.segments import SegmentJournal
from hftsim.store.snapshots import fork_snapshot

from .tamper import SegmentTamper


def order(user: int, i: int) -> PlaceOrder:
    return PlaceOrder(user, "ACME", Side.BUY, 1, 9000 + i)


class Counting(SegmentJournal):
    """Counts the writes and syncs the sequencer asks for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes: list[int] = []
        self.syncs_done = 0

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        self.writes.append(len(records))
        super().write(records)

    def sync(self) -> None:
        self.syncs_done += 1
        super().sync()


def engine() -> Engine:
    settings = load()
    return Engine(settings.instruments(), settings.engine_limits(), initial_cash=10**12)


@pytest.mark.parametrize("durability", ["os", "fsync"])
async def test_the_commands_of_one_loop_pass_share_one_write(tmp_path: Path, durability: str) -> None:
    journal = Counting(tmp_path, durability)
    sequencer = Sequencer(engine(), journal)
    first = [sequencer.submit(order(user, user), user) for user in range(1, 51)]
    results = await asyncio.gather(*first)
    assert journal.writes == [50]
    assert journal.syncs_done == (1 if durability == "fsync" else 0)
    assert [r.seq for r in results] == list(range(1, 51))
    await sequencer.submit(order(1, 99), 1)
    assert journal.writes == [50, 1]
    await sequencer.stop()
    assert [r.seq for r in journal.records(0)] == list(range(1, 52))


@pytest.mark.parametrize("durability", ["os", "fsync"])
async def test_a_lone_command_is_written_at_once_and_one_that_finds_others_queued_shares_their_write(
    tmp_path: Path, durability: str
) -> None:
    journal = Counting(tmp_path, durability)
    sequencer = Sequencer(engine(), journal)
    loop = asyncio.get_running_loop()

    def send(user: int, i: int, last: bool) -> asyncio.Future[Result]:
        future: asyncio.Future[Result] = loop.create_future()
        sequencer.send(order(user, i), user, Promise(future), last)
        return future

    lone = send(1, 1, True)
    assert journal.writes == [1]
    assert lone.done() == (durability == "os"), "with fsync it is applied once its sync returns"
    assert (await lone).seq == 1
    first, second = send(1, 2, False), send(2, 3, True)
    assert journal.writes == [1] and not first.done() and not second.done()
    assert [r.seq for r in await asyncio.gather(first, second)] == [2, 3]
    assert journal.writes == [1, 2]
    await sequencer.stop()


async def test_with_fsync_nothing_is_applied_before_its_sync_returns(tmp_path: Path) -> None:
    """While one group syncs, the next gathers; it is written, synced and applied after the first."""
    release = asyncio.Event()
    entered = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Held(Counting):
        def sync(self) -> None:
            loop.call_soon_threadsafe(entered.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
            super().sync()

    journal = Held(tmp_path, "fsync")
    sequencer = Sequencer(engine(), journal)
    first = sequencer.submit(order(1, 1), 1)
    await entered.wait()
    entered.clear()
    later = [sequencer.submit(order(user, user), user) for user in range(2, 6)]
    await asyncio.sleep(0)  # let the sequencer's drain run: it must wait for the sync
    assert not first.done() and sequencer.engine.seq == 0
    assert journal.writes == [1]
    release.set()
    assert (await first).seq == 1
    assert [r.seq for r in await asyncio.gather(*later)] == [2, 3, 4, 5]
    assert journal.writes == [1, 4] and journal.syncs_done == 2
    await sequencer.stop()


async def test_a_failed_sync_refuses_the_group_and_cuts_it_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = SegmentJournal(tmp_path, "fsync")
    sequencer = Sequencer(engine(), journal)
    assert (await sequencer.submit(order(1, 1), 1)).seq == 1
    real = os.fdatasync

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", broken)
    with pytest.raises(ProtocolError) as refused:
        await sequencer.submit(order(1, 2), 1)
    assert refused.value.code == ErrorCode.STORE_UNAVAILABLE
    assert sequencer.engine.seq == 1
    assert [r.seq for r in journal.records(0)] == [1], "the refused group must not be replayed"
    monkeypatch.setattr(os, "fdatasync", real)
    assert journal.probe()
    sequencer.store_error = None
    assert (await sequencer.submit(order(1, 3), 1)).seq == 2
    await sequencer.stop()
    assert [r.seq for r in journal.records(0)] == [1, 2]


def test_a_short_write_goes_on_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pwrite may write less than it was given (a signal, a disk filling up): the group's rest follows it."""
    real = os.pwrite
    calls: list[int] = []

    def short(fd: int, data: Any, offset: int) -> int:
        calls.append(len(data))
        return real(fd, bytes(data)[:7], offset)

    journal = SegmentJournal(tmp_path)
    journal.write([(1, 1, codec.encode(order(1, 1)))])
    monkeypatch.setattr(os, "pwrite", short)
    group = [(seq, seq, codec.encode(order(1, seq))) for seq in (2, 3)]
    journal.write(group)
    monkeypatch.setattr(os, "pwrite", real)
    journal.write([(4, 4, codec.encode(order(1, 4)))])
    assert len(calls) > 2 and calls == sorted(calls, reverse=True), "each call the rest of the group"
    stored = [(r.seq, r.intact, codec.decode(r.data)) for r in journal.records(0)]
    assert stored == [(seq, True, order(1, seq)) for seq in range(1, 5)]
    journal.close()


def test_segments_roll_over_and_a_snapshot_retires_the_ones_it_covers(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path, segment_bytes=300)
    for seq in range(1, 21):
        journal.write([(seq, seq, codec.encode(order(1, seq)))])
    files = SegmentTamper(tmp_path).files()
    assert len(files) > 3
    assert [r.seq for r in journal.records(0)] == list(range(1, 21))
    journal.roll()
    journal.save_snapshot(20, {"state": 20})
    journal.write([(21, 21, codec.encode(order(1, 21)))])
    journal.save_snapshot(20, {"state": 20})
    assert [p.name for p in SegmentTamper(tmp_path).files()] == [segments.segment_name(21)]
    assert [r.seq for r in journal.records(20)] == [21]
    journal.close()


def test_archived_segments_are_kept_outside_the_log(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path, keep_segments=True)
    journal.write([(1, 1, codec.encode(order(1, 1)))])
    journal.roll()
    journal.write([(2, 2, codec.encode(order(1, 2)))])
    journal.save_snapshot(1, {"state": 1})
    assert [p.name for p in (tmp_path / "journal" / "archive").iterdir()] == [segments.segment_name(1)]
    assert [r.seq for r in journal.records(0)] == [2]
    journal.close()


def test_damage_in_an_earlier_segment_with_intact_ones_after_stops_the_start(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path)
    for seq in range(1, 4):
        journal.roll()
        journal.write([(seq, seq, codec.encode(order(1, seq)))])
    SegmentTamper(tmp_path).tear(2)
    with pytest.raises(CorruptJournal) as caught:
        verified(journal, 0, tmp_path)
    assert caught.value.seq == 2
    journal.close()


def test_a_snapshot_is_written_by_a_child_while_the_parent_goes_on(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path)
    go_read, go_write = os.pipe()

    def save_when_told(seq: int, state: Any) -> None:
        os.read(go_read, 1)
        journal.save_snapshot(seq, state)

    pid = fork_snapshot(save_when_told, 5, {"book": list(range(1000))})
    assert journal.load_snapshot() is None, "the parent returns before the child writes"
    assert gc.get_freeze_count() > 0, "a collection meanwhile would copy every page the child shares"
    os.write(go_write, b"x")
    _, status = os.waitpid(pid, 0)
    assert status == 0 and gc.get_freeze_count() > 0, "the heap stays frozen (gateway/heap.py)"
    gc.unfreeze()
    assert journal.load_snapshot() == (5, {"book": list(range(1000))})
    journal.close()


def test_a_failing_snapshot_child_exits_1(tmp_path: Path) -> None:
    def fail(seq: int, state: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    _, status = os.waitpid(fork_snapshot(fail, 5, {}), 0)
    gc.unfreeze()
    assert os.waitstatus_to_exitcode(status) == 1


def test_a_sqlite_journal_from_before_segments_moves_over_once(tmp_path: Path) -> None:
    settings = load()
    old = DatabaseJournal(Database(str(tmp_path / "market.db")))
    engine_, history, fills, _ = recover(settings, old, tmp_path)
    sequencer = Sequencer(engine_, old)
    for i in range(1, 31):
        sequencer.submit_now(order(1 + i % 3, i))
        if i == 10:
            old.save_snapshot(engine_.seq, (engine_, history, fills))
    old.close()
    journal = market_journal(settings, tmp_path)
    again, *_ = recover(settings, journal, tmp_path)
    assert again.seq == 30 and again.state_hash() == engine_.state_hash()
    assert not (tmp_path / "market.db").exists() and (tmp_path / "market.db.migrated").exists()
    assert [r.seq for r in journal.records(10)] == list(range(11, 31))
    journal.close()
    journal = market_journal(settings, tmp_path)
    assert recover(settings, journal, tmp_path)[0].state_hash() == engine_.state_hash()
    journal.close()


def test_the_old_sync_setting_still_means_durability() -> None:
    assert load(journal={"sync": "full"}).journal.durability == "fsync"
    assert load(journal={"sync": "normal"}).journal.durability == "os"
    assert load(journal={"sync": "full", "durability": "os"}).journal.durability == "os"
    with pytest.raises(ConfigError, match=r"store\.url"):
        load(journal={"store": "database"})


def test_a_segment_a_crash_left_empty_gets_its_magic_before_records(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path)
    journal.write([(1, 1, codec.encode(order(1, 1)))])
    journal.close()
    (tmp_path / "journal" / segments.segment_name(2)).write_bytes(b"")  # created, then the crash
    journal = SegmentJournal(tmp_path)
    journal.write([(2, 2, codec.encode(order(1, 2)))])
    journal.close()
    journal = SegmentJournal(tmp_path)
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == [order(1, 1), order(1, 2)]
    journal.close()


def test_a_torn_segment_without_its_magic_is_cut_whole_and_written_again(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path)
    journal.write([(1, 1, codec.encode(order(1, 1)))])
    journal.close()
    (tmp_path / "journal" / segments.segment_name(2)).write_bytes(b"HFTS\x00\x01garbage")
    journal = SegmentJournal(tmp_path)
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == [order(1, 1)]
    journal.write([(2, 2, codec.encode(order(1, 2)))])
    journal.close()
    journal = SegmentJournal(tmp_path)
    assert [r.seq for r in journal.records(0)] == [1, 2] and all(r.intact for r in journal.records(0))
    journal.close()


def test_with_fsync_the_zeros_written_ahead_are_where_a_segment_ends(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path, "fsync")
    journal.write([(1, 1, codec.encode(order(1, 1)))])
    journal.sync()
    (path,) = SegmentTamper(tmp_path).files()
    assert path.stat().st_size >= segments.PREZERO_BYTES, "the segment is zero-filled ahead of its records"
    journal.close()
    journal = SegmentJournal(tmp_path, "fsync")
    journal.write([(2, 2, codec.encode(order(1, 2)))])
    journal.sync()
    journal.close()
    journal = SegmentJournal(tmp_path, "fsync")
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == [order(1, 1), order(1, 2)]
    assert not list(tmp_path.glob("journal-quarantine-*"))
    journal.close()
