"""The command journal and engine snapshots, in SQLite.

Every command the sequencer applies is appended here with its sequence
number and time; restarting replays the journal over the latest snapshot
and rebuilds exactly the same state, because the engine is deterministic.

Rows are committed in groups: the sequencer appends during a loop tick and
the commit runs as the next ready callback, before any socket writer gets
to run, so nothing about a command reaches a client before it is in the
journal. With the default `synchronous = NORMAL` (WAL) a commit survives a
crash of the server process; `sync = "full"` also survives a power loss at
the cost of an fsync per group.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from ..engine import Command
from . import codec

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, command BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, state BLOB NOT NULL)",
]


class Journal:
    def __init__(self, path: Path, sync: Literal["normal", "full"] = "normal") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={sync.upper()}")
        for statement in SCHEMA:
            self._db.execute(statement)
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
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO journal (seq, ts, command) VALUES (?, ?, ?)", rows)

    def replay(self, after_seq: int) -> Iterator[tuple[int, int, Command]]:
        cursor = self._db.execute("SELECT seq, ts, command FROM journal WHERE seq > ? ORDER BY seq", (after_seq,))
        for seq, ts, data in cursor:
            yield seq, ts, codec.decode(data)

    def save_snapshot(self, seq: int, state: Any) -> None:
        """Store `state` as of `seq` and drop the journal rows it covers."""
        self.commit()
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO snapshot (id, seq, state) VALUES (1, ?, ?)", (seq, blob))
            self._db.execute("DELETE FROM journal WHERE seq <= ?", (seq,))

    def load_snapshot(self) -> tuple[int, Any] | None:
        row = self._db.execute("SELECT seq, state FROM snapshot WHERE id = 1").fetchone()
        if row is None:
            return None
        return int(row[0]), pickle.loads(row[1])  # noqa: S301 - our own file, written by save_snapshot

    def reset(self) -> None:
        self._pending.clear()
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM journal")
            self._db.execute("DELETE FROM snapshot")

    def close(self) -> None:
        self.commit()
        self._db.close()
