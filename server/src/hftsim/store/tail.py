"""Following the segment journal from another process, as far as the writer says it is durable.

The snapshot process (gateway/snapshotter.py) keeps its own copy of the
market by applying the journal's commands as the server writes them. It
reads the segment files (segments.py has the layout) without their lock,
which the server holds, and never writes to them. It applies only what the
server has said is durable: beyond that a record may belong to a group
whose write or sync is about to fail and be cut back, so it would replay a
command the server refused. Up to there every record must be whole, check
and follow the one before; anything else is damage, and the reader stops
with `Unfollowable` instead of guessing (the server's own start-up check,
integrity.py, decides what such damage means).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..engine import Command
from . import codec
from .errors import CodecError, StoreError
from .framing import HEADER
from .journal import record_crc
from .segments import MAGIC, SUFFIX, segment_name, segments_of


class Unfollowable(StoreError):
    """A durable command the reader cannot read: missing, damaged or out of order."""

    def __init__(self, seq: int, problem: str) -> None:
        self.seq = seq
        super().__init__(f"the journal cannot be followed at command {seq}: {problem}")


class SegmentTail:
    """The journal's commands after `after_seq`, read on from where the last call stopped."""

    def __init__(self, journal_dir: Path, after_seq: int) -> None:
        self._dir = journal_dir
        self.seq = after_seq
        """The last command read."""
        self._file: BinaryIO | None = None
        self._offset = 0

    def upto(self, durable: int) -> Iterator[tuple[int, int, Command]]:
        """Each (seq, ts, command) after the last one read, through `durable`, which must all be written."""
        while self.seq < durable:
            if self._file is None:
                self._open(self._first_holding(self.seq + 1))
            assert self._file is not None
            self._file.seek(self._offset)
            read = self._records(self._file.read(), durable)
            found = False
            for record in read:
                found = True
                yield record
            if not found and self.seq < durable:
                following = self._dir / segment_name(self.seq + 1)
                if not following.exists():
                    raise self._damage("it is not in the journal, though the server has written it")
                self._open(following)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _first_holding(self, seq: int) -> Path:
        """The segment `seq` is in: the last one starting at or before it."""
        holding = [p for p in segments_of(self._dir) if int(p.name.removesuffix(SUFFIX)) <= seq]
        if not holding:
            raise self._damage("no segment holds it")
        return holding[-1]

    def _open(self, path: Path) -> None:
        self.close()
        self._file = path.open("rb")
        if self._file.read(len(MAGIC)) != MAGIC:
            raise self._damage(f"{path.name} does not start as a segment")
        self._offset = len(MAGIC)

    def _records(self, buf: bytes, durable: int) -> Iterator[tuple[int, int, Command]]:
        """The whole records at the start of `buf` through `durable`; records at or before `self.seq` skipped."""
        pos = 0
        while self.seq < durable and pos + HEADER.size <= len(buf):
            length, crc, seq, ts = HEADER.unpack_from(buf, pos)
            end = pos + HEADER.size + length
            if seq == 0 or end > len(buf):
                return  # the zeros written ahead of the records, or a record still being written
            data = buf[pos + HEADER.size : end]
            if crc != record_crc(seq, ts, data):
                raise self._damage("its checksum does not match")
            self._offset += end - pos
            pos = end
            if seq <= self.seq:
                continue  # before the snapshot this reader started from
            if seq != self.seq + 1:
                raise self._damage(f"command {seq} follows command {self.seq}")
            try:
                command = codec.decode(data)
            except CodecError as exc:
                raise self._damage(str(exc)) from None
            self.seq = seq
            yield seq, ts, command

    def _damage(self, problem: str) -> Unfollowable:
        return Unfollowable(self.seq + 1, problem)
