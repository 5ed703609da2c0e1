"""The command journal and engine snapshots, in SQLite or PostgreSQL.

Every command the sequencer applies is appended here with its sequence
number and time; restarting replays the journal over the latest snapshot
and rebuilds exactly the same state, because the engine is deterministic.

Rows are committed in groups: the sequencer appends during a loop tick and
the commit runs as the next ready callback, before any socket writer gets
to run, so nothing about a command reaches a client before it is in the
journal. With the default `sync = "normal"` a commit survives a crash of
the server process (SQLite WAL with `synchronous = NORMAL`, PostgreSQL with
`synchronous_commit = off`); `sync = "full"` also survives a power loss at
the cost of an fsync per group.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any, Literal

from ..engine import Command
from . import codec
from .database import Database


def schema(db: Database) -> list[str]:
    blob = "BYTEA" if db.is_postgres else "BLOB"
    return [
        f"CREATE TABLE IF NOT EXISTS journal (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, command {blob} NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, "
        f"state {blob} NOT NULL)",
    ]


class StoreUnavailable(Exception):
    """The journal cannot be written; nothing of the failed batch was stored."""


class Journal:
    def __init__(self, db: Database, sync: Literal["normal", "full"] = "normal") -> None:
        self._db = db
        self._conn = db.connect()
        if db.is_postgres:
            self._conn.execute(f"SET synchronous_commit = {'on' if sync == 'full' else 'off'}")
        else:
            # The server is the journal's only user: holding the lock halves the cost of a commit.
            self._conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._conn.execute(f"PRAGMA synchronous={sync.upper()}")
        for statement in schema(db):
            self._conn.execute(statement)
        self._pending: list[tuple[int, int, bytes]] = []
        self.appended = 0

    def append(self, seq: int, ts: int, command: Command) -> bool:
        """Queue one command; True when it is the first of a new group (the caller schedules `commit`)."""
        self._pending.append((seq, ts, codec.encode(command)))
        self.appended += 1
        return len(self._pending) == 1

    def commit(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with self._db.transaction(self._conn):
            insert = self._db.sql("INSERT INTO journal (seq, ts, command) VALUES (?, ?, ?)")
            self._conn.cursor().executemany(insert, rows)

    def write(self, records: list[tuple[int, int, bytes]]) -> None:
        """Commit encoded records in one transaction, or raise StoreUnavailable with nothing stored."""
        try:
            with self._db.transaction(self._conn):
                insert = self._db.sql("INSERT INTO journal (seq, ts, command) VALUES (?, ?, ?)")
                self._conn.cursor().executemany(insert, records)
        except Exception as exc:
            raise StoreUnavailable(f"journal write failed: {exc}") from exc

    def probe(self) -> bool:
        """True once the store accepts a write transaction again."""
        try:
            with self._db.transaction(self._conn):
                self._conn.execute("DELETE FROM journal WHERE seq < 0")
        except Exception:
            return False
        return True

    def replay(self, after_seq: int) -> Iterator[tuple[int, int, Command]]:
        cursor = self._conn.execute(
            self._db.sql("SELECT seq, ts, command FROM journal WHERE seq > ? ORDER BY seq"), (after_seq,)
        )
        for seq, ts, data in cursor:
            yield seq, ts, codec.decode(bytes(data))

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Store `state` as of `seq` and drop the journal rows it covers."""
        self.commit()
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        sql = self._db.sql
        with self._db.transaction(self._conn):
            self._conn.execute(sql("DELETE FROM snapshot"))
            self._conn.execute(sql("INSERT INTO snapshot (id, seq, state) VALUES (1, ?, ?)"), (seq, blob))
            self._conn.execute(sql("DELETE FROM journal WHERE seq <= ?"), (seq,))

    def load_snapshot(self) -> tuple[int, Any] | None:
        row = self._conn.execute("SELECT seq, state FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        return int(row[0]), pickle.loads(bytes(row[1]))

    def reset(self) -> None:
        self._pending.clear()
        with self._db.transaction(self._conn):
            self._conn.execute("DELETE FROM journal")
            self._conn.execute("DELETE FROM snapshot")

    def close(self) -> None:
        self.commit()
        self._conn.close()
