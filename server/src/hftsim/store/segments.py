"""The segment log: the command journal as append-only files in the data directory.

Layout, in `DATA_DIR/journal/`:

- `LOCK`: held (flock) by the one process that uses the journal.
- `<first seq, 20 digits>.seg`: segments. Each starts with the 8-byte magic
  `HFTSEG01`, then records: a 24-byte header of big-endian length (u32,
  of the command), CRC-32 (u32), seq (i64) and ts (i64), then the command
  bytes (codec.py). The CRC covers seq, ts and command, as journal.py says.
- `snapshots/` (snapshots.py) and, with `keep_segments`, `archive/`.

A group of commands is one `pwrite` at the end of the last segment: with
`durability = "os"` that is all an acknowledgement waits for (it survives a
crash of the server, not of the machine); with `"fsync"` the sequencer also
waits for `sync()` (fdatasync, run in a thread, one per group), and the
segment is kept zero-filled ahead of its records (`PREZERO_BYTES`), so a
zero tail is where a segment ends, not damage. A failed write or sync cuts
the file back to where the group began, so a refused command never lingers
to be replayed.

The module is compiled with the order path (hftsim/compiled.py): a lone
order's group is a write of its own, and in plain Python `write`'s checks
and calls cost the interpreter about as much as framing the record.

Reading tolerates damage: where a record does not frame or check, the
reader looks for the next intact record further on and reports the bytes in
between as one damaged record, so integrity.py can tell a torn tail
(nothing intact after it) from damage in the middle.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
from pathlib import Path
from typing import Any

from mypy_extensions import mypyc_attr

from .errors import StoreUnavailable
from .framing import HEADER, frames
from .journal import Durability, Record
from .snapshots import SnapshotFiles

MAGIC = b"HFTSEG01"
SUFFIX = ".seg"
PREZERO_BYTES = 4 * 1024 * 1024
"""With `fsync`, the segment is extended with zeros this far ahead of the records, off the loop: an append
inside the file's size leaves its metadata alone, so each fdatasync flushes data only (as databases pre-zero
their write-ahead logs)."""


def segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}{SUFFIX}"


def _intact_at(buf: bytes, pos: int) -> Record | None:
    """The intact record starting at `pos`, if one does."""
    if pos + HEADER.size > len(buf):
        return None
    length, crc, seq, ts = HEADER.unpack_from(buf, pos)
    end = pos + HEADER.size + length
    if seq < 1 or end > len(buf):
        return None
    record = Record(seq, ts, buf[pos + HEADER.size : end], crc)
    return record if record.intact else None


def parse(buf: bytes, first_seq: int) -> list[Record]:
    """Every record of one segment's bytes, damaged stretches included as records that are not intact."""
    out: list[Record] = []
    if buf[: len(MAGIC)] != MAGIC:
        return [Record(None, 0, buf, None, (first_seq, 0))] if buf else []
    pos = len(MAGIC)
    while pos < len(buf):
        if not buf[pos] and not buf[pos:].strip(b"\0"):
            break  # the zeros written ahead of the records
        found = _intact_at(buf, pos)
        if found is not None:
            out.append(Record(found.seq, found.ts, found.data, found.crc, (first_seq, pos)))
            pos += HEADER.size + len(found.data)
            continue
        nxt = pos + 1
        while nxt < len(buf) and _intact_at(buf, nxt) is None:
            nxt += 1
        out.append(_damaged(buf, pos, nxt, first_seq))
        pos = nxt
    return out


def _damaged(buf: bytes, pos: int, end: int, first_seq: int) -> Record:
    """The bytes from `pos` to `end` as one record: its own fields if they frame exactly that stretch."""
    if pos + HEADER.size <= end:
        length, crc, seq, ts = HEADER.unpack_from(buf, pos)
        if pos + HEADER.size + length == end:
            return Record(seq, ts, buf[pos + HEADER.size : end], crc, (first_seq, pos))
    return Record(None, 0, buf[pos:end], None, (first_seq, pos))


def segments_of(journal_dir: Path) -> list[Path]:
    """The segment files, oldest first (their names sort as their first seqs do)."""
    return sorted(journal_dir.glob(f"*{SUFFIX}"))


def retire_covered(journal_dir: Path, seq: int, *, keep: bool) -> None:
    """Drop (with `keep`, move to `archive/`) every segment a snapshot at `seq` covers whole.

    A segment is covered when the one after it starts at or before `seq + 1`; the last one never is.
    """
    for path, following in itertools.pairwise(segments_of(journal_dir)):
        if int(following.name.removesuffix(SUFFIX)) > seq + 1:
            break
        try:
            if keep:
                archive = journal_dir / "archive"
                archive.mkdir(exist_ok=True)
                os.replace(path, archive / path.name)
            else:
                path.unlink()
        except FileNotFoundError:
            pass  # another snapshot retired it first


@mypyc_attr(allow_interpreted_subclasses=True)  # tests count its writes and syncs in a subclass
class SegmentJournal:
    def __init__(
        self,
        data_dir: Path,
        durability: Durability = "os",
        *,
        segment_bytes: int = 64 * 1024 * 1024,
        keep_segments: bool = False,
    ) -> None:
        self.dir = data_dir / "journal"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.syncs = durability == "fsync"
        self._segment_bytes = segment_bytes
        self._keep = keep_segments
        self._lock = os.open(self.dir / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._lock)
            raise StoreUnavailable(
                f"another hftsim process holds the journal in {self.dir}; stop it first (one server per market)"
            ) from None
        self.snapshots = SnapshotFiles(self.dir / "snapshots")
        self._fd: int | None = None
        self._offset = 0
        """Where the next write goes in the open segment."""
        self._synced = 0
        """How far the open segment is written as `durability` asks (the group before an unsynced one ends here)."""
        self._size = 0
        """The open segment's size: its records, then zeros written ahead."""
        self._new_file = False
        """A segment was created since the last sync: its directory entry needs syncing too."""
        self._rolled = False
        segments = self._segments()
        if segments:
            self._open(segments[-1])

    def _segments(self) -> list[Path]:
        return segments_of(self.dir)

    def _open(self, path: Path) -> None:
        """Append to `path` from its end; one a crash left without its magic gets it back first."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(path, os.O_RDWR)
        self._size = os.fstat(self._fd).st_size
        self._offset = self._synced = len(path.read_bytes().rstrip(b"\0"))
        if self._offset < len(MAGIC):
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, MAGIC, 0)
            self._offset = self._synced = self._size = len(MAGIC)

    def _start(self, first_seq: int) -> None:
        """Open a new segment for records from `first_seq` on."""
        path = self.dir / segment_name(first_seq)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, MAGIC)
        except OSError:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._offset, self._synced, self._size = fd, len(MAGIC), len(MAGIC), len(MAGIC)
        self._new_file = True
        self._rolled = False

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        if not records:
            return
        data = frames(records)
        try:
            if self._fd is None or self._rolled or self._offset >= self._segment_bytes:
                self._start(records[0][0])
        except OSError as exc:
            raise StoreUnavailable(f"journal write failed: {exc}") from exc
        assert self._fd is not None
        start = self._offset
        end = start + len(data)
        try:
            written = os.pwrite(self._fd, data, start)
            while written < len(data):  # a short write (interrupted, or the disk filling): the rest after it
                written += os.pwrite(self._fd, memoryview(data)[written:], start + written)
        except OSError as exc:
            self._cut_back(start)
            raise StoreUnavailable(f"journal write failed: {exc}") from exc
        self._offset = end
        if end > self._size:
            self._size = end
        if not self.syncs:
            self._synced = end

    def sync(self) -> None:
        """fdatasync the open segment (and the directory after a new segment), or cut the group back."""
        try:
            if self._fd is not None:
                os.fdatasync(self._fd)
            if self._new_file:
                self._sync_dir()
                self._new_file = False
        except OSError as exc:
            self._cut_back(self._synced)
            raise StoreUnavailable(f"journal sync failed: {exc}") from exc
        self._synced = self._offset
        if self.syncs and self._size - self._offset < PREZERO_BYTES // 2:
            self._zero_ahead()

    def _zero_ahead(self) -> None:
        """Extend the segment with durable zeros; only an optimisation, so a failure is left for the next sync."""
        assert self._fd is not None
        try:
            os.pwrite(self._fd, bytes(PREZERO_BYTES), self._size)
            os.fdatasync(self._fd)
        except OSError:
            pass
        self._size = os.fstat(self._fd).st_size

    def _sync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _cut_back(self, offset: int) -> None:
        """Drop a group that failed; if even the cut fails, the probe cuts again before another write."""
        self._offset = self._size = offset
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, offset)
            except OSError:
                pass

    def probe(self) -> bool:
        """True once a real write to the journal's directory succeeds and the open segment ends where it should."""
        probe = self.dir / "probe"
        try:
            if self._fd is not None:
                os.ftruncate(self._fd, self._offset)
                self._size = self._offset
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, b"\0" * 4096)
                os.fdatasync(fd)
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
        except OSError:
            return False
        return True

    def records(self, after_seq: int) -> list[Record]:
        everything: list[Record] = []
        for path in self._segments():
            everything += parse(path.read_bytes(), int(path.name.removesuffix(SUFFIX)))
        start = 0
        for index, record in enumerate(everything):
            if record.intact and record.seq is not None and record.seq <= after_seq:
                start = index + 1
        return everything[start:]

    def cut(self, first: Record) -> None:
        first_seq, offset = first.at
        for path in self._segments():
            seq = int(path.name.removesuffix(SUFFIX))
            if seq > first_seq:
                path.unlink()
            elif seq == first_seq:
                with path.open("r+b") as f:
                    if offset <= len(MAGIC):  # the whole segment goes, its magic too if that was damaged
                        f.truncate(0)
                        f.write(MAGIC)
                    else:
                        f.truncate(offset)
                    f.flush()
                    os.fsync(f.fileno())
        self._sync_dir()
        segments = self._segments()
        if segments:
            self._open(segments[-1])

    def roll(self) -> None:
        self._rolled = True

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Write the snapshot durably, then drop (or archive) the segments it covers whole."""
        try:
            self.snapshots.save(seq, state)
        except OSError as exc:
            raise StoreUnavailable(f"snapshot write failed: {exc}") from exc
        retire_covered(self.dir, seq, keep=self._keep)

    def load_snapshot(self) -> tuple[int, Any] | None:
        return self.snapshots.load()

    def reset(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for path in self._segments():
            path.unlink()
        shutil.rmtree(self.dir / "archive", ignore_errors=True)
        self.snapshots.clear()
        self._offset = self._synced = self._size = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        os.close(self._lock)
