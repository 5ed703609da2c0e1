"""Where durable state lives: SQLite files in the data directory (the default) or PostgreSQL.

Both speak DB-API; this module hides the three ways they differ for us:
how to connect, the parameter placeholder, and how a transaction starts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
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

    def is_integrity_error(self, exc: Exception) -> bool:
        if self.is_postgres:
            import psycopg

            return isinstance(exc, psycopg.IntegrityError)
        return isinstance(exc, sqlite3.IntegrityError)
