"""The command journal in a database: the PostgreSQL option (`journal.store = "database"`).

For deployments that keep the whole market in PostgreSQL: each group of
commands is one transaction of rows `(seq, ts, command, crc)`, and the
snapshot one row. It also reads the SQLite `market.db` of data directories
from before the segment log, to move them over (migrate.py).

Tables from before the checksum get the column on open and their rows are
checksummed then: they were trusted until now, and a filled column keeps
one rule for every row afterwards.

`durability = "os"` commits with `synchronous_commit = off` (a commit
survives a crash of the server, not of the database); `"fsync"` waits for
the database's WAL flush on every commit. A snapshot taken in a forked
child writes through a connection of its own.
"""

from __future__ import annotations

import logging
import os
import pickle
from typing import Any

from .database import Database
from .errors import CorruptSnapshot, StoreUnavailable
from .journal import Durability, Record, record_crc, snapshot_crc

log = logging.getLogger(__name__)

LOCK_WAIT_MS = 1000


def schema(db: Database) -> list[str]:
    blob = "BYTEA" if db.is_postgres else "BLOB"
    return [
        f"CREATE TABLE IF NOT EXISTS journal (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, command {blob} NOT NULL, "
        "crc BIGINT)",
        f"CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, "
        f"state {blob} NOT NULL, crc BIGINT)",
    ]


class DatabaseJournal:
    syncs = False
    """Each write is a commit: the database's own `synchronous_commit` decides what it survives."""

    def __init__(self, db: Database, durability: Durability = "os") -> None:
        self._db = db
        self._durability = durability
        self._pid = os.getpid()
        self._conn = self._connect()
        for statement in schema(db):
            self._conn.execute(statement)
        self._add_checksums()
        self._written_through = 0
        """The last seq this journal committed: a store that comes back without it lost acknowledged commands."""
        self._lost_reported = False

    def _connect(self) -> Any:
        conn = self._db.connect()
        if self._db.is_postgres:
            # One writer per journal: a second server (or a truncate while the server runs) on the same
            # database would interleave two histories. A lock a just-closed session held is released a moment
            # after its close returns, so the lock is waited for briefly before another holder is assumed.
            from psycopg.errors import LockNotAvailable

            conn.execute(f"SET lock_timeout = '{LOCK_WAIT_MS}ms'")
            try:
                conn.execute("SELECT pg_advisory_lock(hashtext('hftsim.journal'))")
            except LockNotAvailable:
                conn.close()
                raise StoreUnavailable(
                    "another hftsim process holds this database's journal; stop it first (one server per market)"
                ) from None
            conn.execute("SET lock_timeout = 0")
            conn.execute(f"SET synchronous_commit = {'on' if self._durability == 'fsync' else 'off'}")
        else:
            # Only read by a migration now, which is its only user: holding the lock halves a commit's cost.
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute(f"PRAGMA synchronous={'FULL' if self._durability == 'fsync' else 'NORMAL'}")
        return conn

    def _columns(self, table: str) -> set[str]:
        cursor = self._conn.execute(f"SELECT * FROM {table} LIMIT 0")
        return {column[0] for column in cursor.description}

    def _add_checksums(self) -> None:
        """Give tables written before checksums their crc column, filled for every existing row.

        Only at that migration: afterwards a row without a crc was not written by the journal and counts as damaged.
        """
        sql = self._db.sql
        with self._db.transaction(self._conn):
            if "crc" not in self._columns("journal"):
                self._conn.execute("ALTER TABLE journal ADD COLUMN crc BIGINT")
                for seq, ts, data in self._conn.execute("SELECT seq, ts, command FROM journal").fetchall():
                    crc = record_crc(int(seq), int(ts), bytes(data))
                    self._conn.execute(sql("UPDATE journal SET crc = ? WHERE seq = ?"), (crc, seq))
            if "crc" not in self._columns("snapshot"):
                self._conn.execute("ALTER TABLE snapshot ADD COLUMN crc BIGINT")
                for seq, blob in self._conn.execute("SELECT seq, state FROM snapshot").fetchall():
                    self._conn.execute(sql("UPDATE snapshot SET crc = ?"), (snapshot_crc(int(seq), bytes(blob)),))

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        """Commit encoded records in one transaction, or raise StoreUnavailable with nothing stored."""
        rows = [(seq, ts, data, record_crc(seq, ts, data)) for seq, ts, data in records]
        try:
            with self._db.transaction(self._conn):
                insert = self._db.sql("INSERT INTO journal (seq, ts, command, crc) VALUES (?, ?, ?, ?)")
                self._conn.cursor().executemany(insert, rows)
        except Exception as exc:
            raise StoreUnavailable(f"journal write failed: {exc}") from exc
        if records:
            self._written_through = records[-1][0]

    def sync(self) -> None:
        """Nothing to do: the commit in `write` already waited for what `durability` asks."""

    def roll(self) -> None:
        """Nothing to do: rows are dropped one by one when a snapshot covers them."""

    def probe(self) -> bool:
        """True once the store accepts a write transaction again and still holds everything it acknowledged.

        A restarted PostgreSQL never takes the old connection back, so a failed probe reconnects for the next.
        SQLite keeps its connection: a new one would wait on the lock the old one holds. A store that comes
        back without commands it had committed (a database crash under `synchronous_commit = off`) stays
        refused: writing on would leave a hole in the journal that stops the next start.
        """
        try:
            with self._db.transaction(self._conn):  # a real write: deleting nothing would not touch the disk
                self._conn.execute(self._db.sql("INSERT INTO journal (seq, ts, command) VALUES (-1, 0, ?)"), (b"",))
                self._conn.execute("DELETE FROM journal WHERE seq = -1")
            kept = self._last_seq()
        except Exception:
            self._reconnect()
            return False
        if kept < self._written_through:
            if not self._lost_reported:
                self._lost_reported = True
                log.error(
                    "the store came back holding the journal only up to command %d, but commands up to %d had "
                    'been committed (a database crash with journal.sync = "normal"?): state-changing requests '
                    "stay refused; restart the server to continue from what the store kept",
                    kept,
                    self._written_through,
                )
            return False
        return True

    def _last_seq(self) -> int:
        """The highest seq the store holds, in the journal or covered by the snapshot."""
        row = self._conn.execute(
            "SELECT MAX(seq) FROM (SELECT seq FROM journal UNION ALL SELECT seq FROM snapshot) AS stored"
        ).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def _reconnect(self) -> None:
        if not self._db.is_postgres:
            return
        try:
            self._conn.close()
        except Exception:
            pass  # it is broken already; the new connection replaces it either way
        try:
            self._conn = self._connect()
        except Exception:
            return  # still down: this closed connection fails the next probe, which tries again

    def records(self, after_seq: int) -> list[Record]:
        """Every stored row after `after_seq`, unchecked: integrity.py decides what they are worth."""
        cursor = self._conn.execute(
            self._db.sql("SELECT seq, ts, command, crc FROM journal WHERE seq > ? ORDER BY seq"), (after_seq,)
        )
        return [
            Record(int(seq), int(ts), bytes(data), None if crc is None else int(crc)) for seq, ts, data, crc in cursor
        ]

    def cut(self, first: Record) -> None:
        with self._db.transaction(self._conn):
            self._conn.execute(self._db.sql("DELETE FROM journal WHERE seq >= ?"), (first.seq,))

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Store `state` as of `seq` and drop the journal rows it covers; StoreUnavailable if the store refuses.

        In a forked child the parent's connection is not ours to use: the child writes through its own.
        """
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        sql = self._db.sql
        forked = os.getpid() != self._pid
        try:
            conn = self._db.connect() if forked else self._conn
            try:
                with self._db.transaction(conn):
                    conn.execute(sql("DELETE FROM snapshot"))
                    conn.execute(
                        sql("INSERT INTO snapshot (id, seq, state, crc) VALUES (1, ?, ?, ?)"),
                        (seq, blob, snapshot_crc(seq, blob)),
                    )
                    conn.execute(sql("DELETE FROM journal WHERE seq <= ?"), (seq,))
            finally:
                if forked:
                    conn.close()
        except Exception as exc:
            raise StoreUnavailable(f"snapshot write failed: {exc}") from exc

    def load_snapshot(self) -> tuple[int, Any] | None:
        """The latest snapshot, checked against its checksum; CorruptSnapshot when it does not match."""
        row = self._conn.execute("SELECT seq, state, crc FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        seq, blob = int(row[0]), bytes(row[1])
        if row[2] is None or int(row[2]) != snapshot_crc(seq, blob):
            raise CorruptSnapshot(seq, "its checksum does not match")
        try:
            return seq, pickle.loads(blob)
        except Exception as exc:
            raise CorruptSnapshot(seq, f"it cannot be read: {exc}") from None

    def reset(self) -> None:
        with self._db.transaction(self._conn):
            self._conn.execute("DELETE FROM journal")
            self._conn.execute("DELETE FROM snapshot")

    def close(self) -> None:
        self._conn.close()
