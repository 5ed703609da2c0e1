"""Sessions that outlive a restart.

Only a SHA-256 digest of each token is stored, so the table is useless to
anyone who reads it; the token itself stays with the client. A client that
kept its token can renew it after a server restart and is still the same
user (a guest included).
"""

from __future__ import annotations

import hashlib

from .database import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    session_key TEXT NOT NULL,
    user_id BIGINT,
    expires_at BIGINT NOT NULL
)
"""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """One connection, used from the event loop only: every call is a short indexed statement."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn = db.connect()
        self._conn.execute(SCHEMA)

    def save(self, token: str, session_key: str, user_id: int | None, expires_at: int) -> None:
        self._conn.execute(
            self._db.sql("INSERT INTO sessions (token_hash, session_key, user_id, expires_at) VALUES (?, ?, ?, ?)"),
            (digest(token), session_key, user_id, expires_at),
        )

    def bind(self, session_key: str, user_id: int) -> None:
        self._conn.execute(
            self._db.sql("UPDATE sessions SET user_id = ? WHERE session_key = ?"), (user_id, session_key)
        )

    def find(self, token: str) -> tuple[str, int | None, int] | None:
        """(session_key, user_id, expires_at) of a stored token."""
        row = self._conn.execute(
            self._db.sql("SELECT session_key, user_id, expires_at FROM sessions WHERE token_hash = ?"), (digest(token),)
        ).fetchone()
        return None if row is None else (str(row[0]), None if row[1] is None else int(row[1]), int(row[2]))

    def revoke(self, session_key: str) -> None:
        """Forget every token of the session (a logout)."""
        self._conn.execute(self._db.sql("DELETE FROM sessions WHERE session_key = ?"), (session_key,))

    def revoke_user(self, user_id: int) -> None:
        """Forget every token of every session of the user."""
        self._conn.execute(self._db.sql("DELETE FROM sessions WHERE user_id = ?"), (user_id,))

    def purge(self, now: int) -> None:
        self._conn.execute(self._db.sql("DELETE FROM sessions WHERE expires_at <= ?"), (now,))

    def close(self) -> None:
        self._conn.close()
