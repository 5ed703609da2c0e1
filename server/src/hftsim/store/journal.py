"""The command journal and engine snapshots, in SQLite or PostgreSQL.

Every command the sequencer applies is written here first, with its
sequence number and time, in one transaction per batch (group commit);
restarting replays the journal over the latest snapshot and rebuilds
exactly the same state, because the engine is deterministic. With the
default `sync = "normal"` a commit survives a crash of the server process
(SQLite WAL with `synchronous = NORMAL`, PostgreSQL with
`synchronous_commit = off`); `sync = "full"` also survives a power loss at
the cost of an fsync per batch.

Each record and the snapshot carry a CRC-32 (zlib's) of their content:
`store.integrity` checks them before anything is replayed. Journals written
before the checksum existed get the column on open; their rows are checked
by decoding alone.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Iterator
from typing import Any, Literal, NamedTuple

from .database import Database
from .errors import CorruptJournal, StoreUnavailable


class Row(NamedTuple):
    seq: int
    ts: int
    command: bytes
    crc: int | None
    """None for a row written before records carried a checksum."""


def record_crc(seq: int, ts: int, command: bytes) -> int:
    return zlib.crc32(command, zlib.crc32(struct.pack("<qq", seq, ts)))


def schema(db: Database) -> list[str]:
    blob = "BYTEA" if db.is_postgres else "BLOB"
    return [
        f"CREATE TABLE IF NOT EXISTS journal (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, command {blob} NOT NULL, "
        "crc BIGINT)",
        f"CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, "
        f"state {blob} NOT NULL, crc BIGINT)",
    ]


class Journal:
    def __init__(self, db: Database, sync: Literal["normal", "full"] = "normal") -> None:
        self._db = db
        try:
            self._conn = db.connect()
            if db.is_postgres:
                self._conn.execute(f"SET synchronous_commit = {'on' if sync == 'full' else 'off'}")
            else:
                # The server is the journal's only user: holding the lock halves the cost of a commit.
                self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
                self._conn.execute(f"PRAGMA synchronous={sync.upper()}")
            for statement in schema(db):
                self._conn.execute(statement)
            self._add_checksums()
        except Exception as exc:
            raise StoreUnavailable(f"cannot open the market's journal ({exc}); is the store reachable?") from exc

    def _add_checksums(self) -> None:
        """Give a journal from before record checksums its `crc` columns (old rows keep NULL)."""
        for table in ("journal", "snapshot"):
            if self._db.is_postgres:
                found = self._conn.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'crc'", (table,)
                ).fetchone()
            else:
                found = any(col[1] == "crc" for col in self._conn.execute(f"PRAGMA table_info({table})"))
            if not found:
                self._conn.execute(f"ALTER TABLE {table} ADD COLUMN crc BIGINT")

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        """Commit encoded records in one transaction, or raise StoreUnavailable with nothing stored."""
        rows = [(seq, ts, data, record_crc(seq, ts, data)) for seq, ts, data in records]
        try:
            with self._db.transaction(self._conn):
                insert = self._db.sql("INSERT INTO journal (seq, ts, command, crc) VALUES (?, ?, ?, ?)")
                self._conn.cursor().executemany(insert, rows)
        except Exception as exc:
            raise StoreUnavailable(f"journal write failed: {exc}") from exc

    def probe(self) -> bool:
        """True once the store takes a write again (a row written and removed in one transaction)."""
        try:
            with self._db.transaction(self._conn):
                sql = self._db.sql
                self._conn.execute(sql("INSERT INTO journal (seq, ts, command) VALUES (?, 0, ?)"), (-1, b"probe"))
                self._conn.execute(sql("DELETE FROM journal WHERE seq = ?"), (-1,))
        except Exception:
            return False
        return True

    def rows(self, after_seq: int) -> Iterator[Row]:
        """Every record after `after_seq`, in order, unchecked: `store.integrity` checks them."""
        cursor = self._conn.execute(
            self._db.sql("SELECT seq, ts, command, crc FROM journal WHERE seq > ? ORDER BY seq"), (after_seq,)
        )
        for seq, ts, data, crc in cursor:
            yield Row(int(seq), int(ts), bytes(data), None if crc is None else int(crc))

    def delete_from(self, from_seq: int) -> None:
        """Remove the records from `from_seq` on (quarantine them first)."""
        with self._db.transaction(self._conn):
            self._conn.execute(self._db.sql("DELETE FROM journal WHERE seq >= ?"), (from_seq,))

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Store `state` as of `seq` and drop the journal rows it covers."""
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        sql = self._db.sql
        try:
            with self._db.transaction(self._conn):
                self._conn.execute(sql("DELETE FROM snapshot"))
                self._conn.execute(
                    sql("INSERT INTO snapshot (id, seq, state, crc) VALUES (1, ?, ?, ?)"),
                    (seq, blob, zlib.crc32(blob)),
                )
                self._conn.execute(sql("DELETE FROM journal WHERE seq <= ?"), (seq,))
        except Exception as exc:
            raise StoreUnavailable(f"snapshot write failed: {exc}") from exc

    def snapshot_seq(self) -> int:
        """The command the snapshot covers up to, 0 without one."""
        row = self._conn.execute("SELECT seq FROM snapshot WHERE id = 1").fetchone()
        return 0 if row is None else int(row[0])

    def load_snapshot(self) -> tuple[int, Any] | None:
        row = self._conn.execute("SELECT seq, state, crc FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        seq, blob = int(row[0]), bytes(row[1])
        if row[2] is not None and zlib.crc32(blob) != int(row[2]):
            raise CorruptJournal(
                f"the market's snapshot at command {seq} fails its checksum, and the journal records it covers "
                "are gone; restore the data directory (or the database) from a backup, or start with --reset "
                "to open a new market (user accounts are kept)"
            )
        return seq, pickle.loads(blob)

    def reset(self) -> None:
        with self._db.transaction(self._conn):
            self._conn.execute("DELETE FROM journal")
            self._conn.execute("DELETE FROM snapshot")

    def close(self) -> None:
        self._conn.close()
