"""User accounts in SQLite, passwords hashed with argon2.

The server reads the table on every login instead of caching it, so a user
added with `hftsim users add` while the server runs can log in at once.
Each call opens its own connection: logins verify passwords in a worker
thread (argon2 is deliberately slow), and SQLite connections must not cross
threads.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import argon2
import argon2.profiles

from ..protocol.roles import Role

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL,
    is_guest INTEGER NOT NULL DEFAULT 0,
    is_bot INTEGER NOT NULL DEFAULT 0
)
"""
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    username: str
    role: Role
    is_guest: bool = False
    is_bot: bool = False


class UserExists(Exception):
    pass


def check_username(name: str) -> str:
    if not 1 <= len(name) <= 32 or not set(name) <= USERNAME_CHARS:
        raise ValueError("a username is 1-32 characters: letters, digits, '.', '_' or '-'")
    return name


class UserStore:
    def __init__(self, path: Path, password_profile: str = "RFC_9106_LOW_MEMORY") -> None:
        self._path = path
        self._hasher = argon2.PasswordHasher.from_parameters(getattr(argon2.profiles, password_profile))
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(
        self, username: str, password: str | None, role: Role, *, is_guest: bool = False, is_bot: bool = False
    ) -> User:
        check_username(username)
        password_hash = self._hasher.hash(password) if password else None
        try:
            with self._connect() as db:
                cur = db.execute(
                    "INSERT INTO users (username, password_hash, role, is_guest, is_bot) VALUES (?, ?, ?, ?, ?)",
                    (username, password_hash, role.label, int(is_guest), int(is_bot)),
                )
        except sqlite3.IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        assert cur.lastrowid is not None
        return User(cur.lastrowid, username, role, is_guest, is_bot)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user, when the password matches; None otherwise. Slow by design."""
        with self._connect() as db:
            row = db.execute(
                "SELECT user_id, username, role, is_guest, is_bot, password_hash FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        if row is None or row[5] is None:
            self._hasher.hash(password)  # same cost whether or not the user exists
            return None
        try:
            self._hasher.verify(row[5], password)
        except argon2.exceptions.VerificationError:
            return None
        return _user(row)

    def create_guest(self) -> User:
        while True:
            try:
                return self.add(f"guest-{secrets.token_hex(3)}", None, Role.TRADER, is_guest=True)
            except UserExists:
                continue

    def ensure_bot(self, name: str) -> User:
        """The account a simulated participant trades under, created on first use."""
        existing = self.by_name(name)
        if existing is not None:
            return existing
        return self.add(name, None, Role.TRADER, is_bot=True)

    def by_name(self, username: str) -> User | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT user_id, username, role, is_guest, is_bot FROM users WHERE username = ?", (username,)
            ).fetchone()
        return None if row is None else _user(row)

    def all(self) -> list[User]:
        with self._connect() as db:
            rows = db.execute("SELECT user_id, username, role, is_guest, is_bot FROM users ORDER BY user_id").fetchall()
        return [_user(r) for r in rows]


def _user(row: tuple[object, ...]) -> User:
    user_id, username, role, is_guest, is_bot = row[:5]
    assert isinstance(user_id, int) and isinstance(username, str) and isinstance(role, str)
    return User(user_id, username, Role.parse(role), bool(is_guest), bool(is_bot))
