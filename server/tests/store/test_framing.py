"""A group's records are framed as the segment's reader reads them: `HEADER` packed with the record's CRC (the
journal's `record_crc`), then the command (the layout segments.py describes), whatever the integers and however many
records."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hftsim.store.framing import HEADER, frames
from hftsim.store.journal import record_crc
from hftsim.store.segments import MAGIC, parse

INT64 = st.integers(-(2**63), 2**63 - 1)
RECORDS = st.lists(st.tuples(INT64, INT64, st.binary(max_size=300)), min_size=1, max_size=5)


@st.composite
def stamped(draw: st.DrawFn) -> list[tuple[int, int, bytes]]:
    """A group as the sequencer writes one: its records stamped with one ts, or with runs of a few (whose bytes
    `frames` makes once per run)."""
    stamps = draw(st.lists(INT64, min_size=1, max_size=3))
    size = st.integers(1, 4)
    return [(draw(INT64), ts, draw(st.binary(max_size=300))) for ts in stamps for _ in range(draw(size))]


def packed(seq: int, ts: int, data: bytes) -> bytes:
    """A record as the layout defines it, with `struct` and the journal's CRC."""
    return HEADER.pack(len(data), record_crc(seq, ts, data), seq, ts) + data


@given(st.one_of(RECORDS, stamped()))
def test_a_group_is_its_records_packed_one_after_the_other(records: list[tuple[int, int, bytes]]) -> None:
    assert frames(records) == b"".join(packed(*record) for record in records)


@given(st.lists(st.tuples(st.integers(1, 2**63 - 1), INT64, st.binary(max_size=300)), min_size=1, max_size=5))
def test_the_reader_gets_the_records_back_intact(records: list[tuple[int, int, bytes]]) -> None:
    read = parse(MAGIC + frames(records), 1)
    assert [(r.seq, r.ts, r.data) for r in read] == records
    assert all(r.intact for r in read)
