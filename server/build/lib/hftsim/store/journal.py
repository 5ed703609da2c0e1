"""The command journal: what every journal keeps, and which one a data directory uses.

Every command the sequencer applies is written to the journal first, with
its sequence number and time; restarting replays the journal over the
latest snapshot and rebuilds exactly the same state, because the engine is
deterministic. Two journals keep that promise:

- `SegmentJournal` (segments.py, the default): append-only segment files in
  the data directory, one write per group of commands, no database on the
  order path.
- `DatabaseJournal` (dbjournal.py): rows in the PostgreSQL database of
  `store.url`, for deployments that keep the whole market in the database;
  one transaction per group.

Both checksum each record with the same CRC-32 (zlib.crc32, the IEEE
polynomial) over the big-endian signed 64-bit seq and ts followed by the
command bytes, and a snapshot over its seq and pickled state, so a torn or
flipped record is found at start-up instead of replayed (integrity.py).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from .database import Database

Durability = Literal["os", "fsync"]


def record_crc(seq: int, ts: int, data: bytes) -> int:
    return zlib.crc32(data, zlib.crc32(struct.pack(">qq", seq, ts)))


def snapshot_crc(seq: int, blob: bytes) -> int:
    return zlib.crc32(blob, zlib.crc32(struct.pack(">q", seq)))


@dataclass(frozen=True, slots=True)
class Record:
    """One stored record, unchecked: integrity.py decides what it is worth.

    `crc` is None when the stored bytes do not even frame a record (a torn
    segment tail) or a database row lacks one; `seq` is None when no seq
    could be read at all. `at` says where it is stored, for `Journal.cut`.
    """

    seq: int | None
    ts: int
    data: bytes
    crc: int | None
    at: tuple[int, int] = (0, 0)

    @property
    def intact(self) -> bool:
        return self.seq is not None and self.crc == record_crc(self.seq, self.ts, self.data)


class Journal(Protocol):
    syncs: bool
    """True when `write` leaves the records in the OS and `sync` must make them durable before an ack."""

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        """Store encoded (seq, ts, command) records, or raise StoreUnavailable with nothing stored."""

    def sync(self) -> None:
        """Make what `write` stored durable, or drop it and raise StoreUnavailable; may run in a thread."""

    def probe(self) -> bool:
        """True once the store takes writes again (and still holds everything acknowledged)."""

    def records(self, after_seq: int) -> list[Record]:
        """Every stored record after the last intact one at or before `after_seq`, in order, unchecked."""

    def cut(self, first: Record) -> None:
        """Remove `first` and everything stored after it."""

    def roll(self) -> None:
        """Start a new segment with the next write, so that a snapshot of what is applied covers whole ones."""

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Store `state` as of `seq` durably and drop the records it covers; safe in a forked child."""

    def load_snapshot(self) -> tuple[int, Any] | None:
        """The latest snapshot, checked against its checksum; CorruptSnapshot when it does not match."""

    def reset(self) -> None:
        """Forget every record and snapshot: a new market."""

    def close(self) -> None: ...


def open_journal(
    kind: Literal["files", "database"],
    data_dir: Path,
    store_url: str,
    durability: Durability = "os",
    *,
    segment_bytes: int = 64 * 1024 * 1024,
    keep_segments: bool = False,
) -> Journal:
    """The data directory's journal: segment files, or the PostgreSQL database of `store_url`."""
    if kind == "database":
        from .dbjournal import DatabaseJournal

        return DatabaseJournal(Database(store_url), durability)
    from .segments import SegmentJournal

    return SegmentJournal(data_dir, durability, segment_bytes=segment_bytes, keep_segments=keep_segments)
