"""Where durable state lives: SQLite files in the data directory (the default) or PostgreSQL.

Both speak DB-API; this module hides the four ways they differ for us:
how to connect, the parameter placeholder, how a transaction starts, and
how one process claims a lock that dies with it.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    """`postgresql://…`, or the path of a SQLite file."""

    @classmethod
    def choose(cls, store_url: str, data_dir: Path, sqlite_name: str) -> Database:
        """The configured PostgreSQL database, or `sqlite_name` in the data directory."""
        return cls(store_url if store_url else str(data_dir / sqlite_name))

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))

    def connect(self) -> Any:
        """A connection in autocommit mode: callers open transactions explicitly."""
        if self.is_postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        Path(self.url).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.url, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def sql(self, text: str) -> str:
        """Write queries with `?`; PostgreSQL's driver wants `%s`."""
        return text.replace("?", "%s") if self.is_postgres else text

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        if self.is_postgres:
            with conn.transaction():
                yield
            return
        conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def claim(self, conn: Any, name: str) -> Callable[[], None] | None:
        """Take the lock `name` in this database, or None if another process holds it; call the result to drop it.

        PostgreSQL: a session advisory lock on `conn` (a 64-bit key from the
        name), dropped by the server when the session ends. SQLite: a lock on
        the file `<database>.<name>.lock` beside it, dropped by the OS when
        the process ends. So a holder that crashes never leaves it taken.
        """
        if self.is_postgres:
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            (taken,) = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not taken:
                return None

            def release() -> None:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

            return release
        lock = Path(f"{self.url}.{name}.lock").open("ab")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return None
        return lock.close

    @property
    def shown(self) -> str:
        """The database for a message: a SQLite path, or a PostgreSQL URL without its password."""
        if not self.is_postgres or "@" not in self.url:
            return self.url
        scheme, rest = self.url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"

    def is_integrity_error(self, exc: Exception) -> bool:
        if self.is_postgres:
            import psycopg

            return isinstance(exc, psycopg.IntegrityError)
        return isinstance(exc, sqlite3.IntegrityError)
