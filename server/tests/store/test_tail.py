"""Following the segment journal from outside its writer: in order, across segments, never past the durable seq."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftsim.config import load
from hftsim.engine import Engine, PlaceOrder, Side
from hftsim.gateway.sequencer import Sequencer
from hftsim.store.codec import encode
from hftsim.store.segments import SegmentJournal, segment_name
from hftsim.store.tail import SegmentTail, Unfollowable


def flow(i: int) -> PlaceOrder:
    """Buys and sells of five users at nearby prices: they rest, and often trade."""
    side = Side.BUY if i % 2 else Side.SELL
    return PlaceOrder(1 + i % 5, "ACME", side, 1 + i % 3, 10_000 + (i % 5 if side is Side.BUY else i % 3))


def engine() -> Engine:
    settings = load()
    return Engine(settings.instruments(), settings.engine_limits(), initial_cash=10**12)


def written(tmp_path: Path, count: int, roll_at: tuple[int, ...] = ()) -> SegmentJournal:
    journal = SegmentJournal(tmp_path)
    sequencer = Sequencer(engine(), journal)
    for i in range(1, count + 1):
        sequencer.submit_now(flow(i))
        if i in roll_at:
            journal.roll()
    return journal


def test_it_reads_each_command_once_in_order_across_segments_and_stops_at_the_durable_seq(tmp_path: Path) -> None:
    journal = written(tmp_path, 250, roll_at=(100, 200))
    assert len(list(journal.dir.glob("*.seg"))) == 3
    tail = SegmentTail(journal.dir, 0)
    first = list(tail.upto(150))
    assert [seq for seq, _, _ in first] == list(range(1, 151)) and tail.seq == 150
    assert [encode(command) for _, _, command in first] == [encode(flow(i)) for i in range(1, 151)]
    assert list(tail.upto(150)) == []
    assert [seq for seq, _, _ in tail.upto(250)] == list(range(151, 251))
    tail.close()
    journal.close()


def test_it_starts_after_a_snapshots_seq_in_the_middle_of_a_segment(tmp_path: Path) -> None:
    journal = written(tmp_path, 250, roll_at=(100,))
    tail = SegmentTail(journal.dir, 120)
    assert [seq for seq, _, _ in tail.upto(250)] == list(range(121, 251))
    tail.close()
    journal.close()


def test_a_record_not_yet_durable_is_left_for_later_even_half_written(tmp_path: Path) -> None:
    journal = written(tmp_path, 10)
    segment = journal.dir / segment_name(1)
    whole = segment.read_bytes()
    journal.close()
    segment.write_bytes(whole[:-5])  # the last record still being written
    tail = SegmentTail(segment.parent, 0)
    assert [seq for seq, _, _ in tail.upto(9)] == list(range(1, 10))
    segment.write_bytes(whole)
    assert [seq for seq, _, _ in tail.upto(10)] == [10]
    tail.close()


def test_a_durable_command_missing_or_damaged_stops_the_reader(tmp_path: Path) -> None:
    journal = written(tmp_path, 10)
    segment = journal.dir / segment_name(1)
    journal.close()
    tail = SegmentTail(segment.parent, 0)
    with pytest.raises(Unfollowable, match="command 11: it is not in the journal"):
        list(tail.upto(11))
    tail.close()
    damaged = bytearray(segment.read_bytes())
    damaged[-3] ^= 0xFF
    segment.write_bytes(bytes(damaged))
    tail = SegmentTail(segment.parent, 0)
    with pytest.raises(Unfollowable, match="command 10: its checksum does not match"):
        list(tail.upto(10))
    tail.close()
