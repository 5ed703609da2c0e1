"""Change a journal's stored records behind its back, as a torn write or a bad disk would.

One interface over both journals, so each integrity test runs against the
segment files and the PostgreSQL rows alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hftsim.store.database import Database
from hftsim.store.framing import HEADER
from hftsim.store.segments import MAGIC, SUFFIX, parse


class Tamper(Protocol):
    def append(self, seq: int, ts: int, data: bytes, crc: int | None) -> None:
        """Store a record after the last one; `crc` None stores bytes with no record framing (or no crc)."""

    def replace_command(self, seq: int, data: bytes) -> None:
        """Change a record's command bytes, keeping its crc."""

    def shift_ts(self, seq: int) -> None:
        """Add one to a record's ts, keeping its crc."""

    def remove(self, seq: int) -> None: ...

    def corrupt_snapshot(self) -> None:
        """Make the stored snapshot claim seq 8 while its checksum covers another."""


class SqlTamper:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _run(self, sql: str, *args: object) -> None:
        conn = self.db.connect()
        conn.execute(self.db.sql(sql), args)
        conn.close()

    def append(self, seq: int, ts: int, data: bytes, crc: int | None) -> None:
        self._run("INSERT INTO journal (seq, ts, command, crc) VALUES (?, ?, ?, ?)", seq, ts, data, crc)

    def replace_command(self, seq: int, data: bytes) -> None:
        self._run("UPDATE journal SET command = ? WHERE seq = ?", data, seq)

    def shift_ts(self, seq: int) -> None:
        self._run("UPDATE journal SET ts = ts + 1 WHERE seq = ?", seq)

    def remove(self, seq: int) -> None:
        self._run("DELETE FROM journal WHERE seq = ?", seq)

    def null_crc(self, seq: int) -> None:
        """The one damage only a row can have: no crc at all."""
        self._run("UPDATE journal SET crc = NULL WHERE seq = ?", seq)

    def corrupt_snapshot(self) -> None:
        self._run("UPDATE snapshot SET seq = 8")


class SegmentTamper:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "journal"

    def files(self) -> list[Path]:
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    def _find(self, seq: int) -> tuple[Path, int, int]:
        """The segment holding record `seq`, and where its bytes start and end."""
        for path in self.files():
            buf = path.read_bytes()
            for record in parse(buf, int(path.name.removesuffix(SUFFIX))):
                if record.seq == seq:
                    start = record.at[1]
                    return path, start, start + HEADER.size + len(record.data)
        raise LookupError(f"no record {seq} in {self.dir}")

    def _splice(self, seq: int, new: bytes) -> None:
        path, start, end = self._find(seq)
        buf = path.read_bytes()
        path.write_bytes(buf[:start] + new + buf[end:])

    def append(self, seq: int, ts: int, data: bytes, crc: int | None) -> None:
        files = self.files()
        if files:
            path = files[-1]
        else:
            path = self.dir / f"{seq:020d}{SUFFIX}"
            path.write_bytes(MAGIC)
        framed = data if crc is None else HEADER.pack(len(data), crc, seq, ts) + data
        with path.open("ab") as f:
            f.write(framed)

    def replace_command(self, seq: int, data: bytes) -> None:
        path, start, _ = self._find(seq)
        _, crc, _, ts = HEADER.unpack_from(path.read_bytes(), start)
        self._splice(seq, HEADER.pack(len(data), crc, seq, ts) + data)

    def shift_ts(self, seq: int) -> None:
        path, start, end = self._find(seq)
        buf = path.read_bytes()
        length, crc, _, ts = HEADER.unpack_from(buf, start)
        self._splice(seq, HEADER.pack(length, crc, seq, ts + 1) + buf[start + HEADER.size : end])

    def remove(self, seq: int) -> None:
        self._splice(seq, b"")

    def tear(self, seq: int) -> None:
        """Cut the file in the middle of record `seq`, as a crash during its write would."""
        path, start, end = self._find(seq)
        path.write_bytes(path.read_bytes()[: (start + end) // 2])

    def flip_a_byte(self, seq: int) -> None:
        path, start, end = self._find(seq)
        buf = bytearray(path.read_bytes())
        buf[(start + HEADER.size + end) // 2] ^= 0x04
        path.write_bytes(bytes(buf))

    def seqs(self) -> list[int]:
        return [
            r.seq
            for path in self.files()
            for r in parse(path.read_bytes(), int(path.name.removesuffix(SUFFIX)))
            if r.intact and r.seq is not None
        ]

    def stored(self) -> dict[str, bytes]:
        """Every segment's bytes, by file name."""
        return {path.name: path.read_bytes() for path in self.files()}

    def corrupt_snapshot(self) -> None:
        (path,) = (self.dir / "snapshots").glob("*.snap")
        path.rename(path.with_name(f"{8:020d}.snap"))
