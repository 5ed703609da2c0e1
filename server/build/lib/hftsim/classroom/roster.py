"""A class list: accounts read from CSV, given passwords, and added all at once.

An instructor keeps the class in a spreadsheet; one CSV row per student is
`username[,password[,role]]` (a first row starting with `username` is a
header). An empty password is generated here, so the sheet of credentials
(sheet.py) is the only place it is ever written down: the store keeps only
its argon2 hash.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from ..protocol.roles import Role
from ..store.passwords import WeakPassword
from ..store.users import UserExists, UserStore, check_username

PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits without the look-alikes (0/O, 1/l/I), for passwords read off paper."""
PASSWORD_LENGTH = 12
MAX_ROWS = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    username: str
    password: str
    role: Role
    generated: bool


class RosterError(ValueError):
    """The CSV cannot be enrolled; the message names the line."""


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def parse(text: str, default_role: Role = Role.TRADER) -> list[Entry]:
    """The entries of a CSV class list, passwords generated where empty; RosterError on any bad line."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() == "username":
            continue
        if len(cells) > 3:
            raise RosterError(f"line {line}: expected username[,password[,role]], got {len(cells)} fields")
        username = cells[0]
        try:
            check_username(username)
            role = Role.parse(cells[2]) if len(cells) > 2 and cells[2] else default_role
        except ValueError as exc:
            raise RosterError(f"line {line}: {exc}") from None
        if username in seen:
            raise RosterError(f"line {line}: {username!r} appears twice")
        seen.add(username)
        given = cells[1] if len(cells) > 1 else ""
        entries.append(Entry(username, given or generate_password(), role, not given))
        if len(entries) > MAX_ROWS:
            raise RosterError(f"a class list holds at most {MAX_ROWS} accounts")
    if not entries:
        raise RosterError("the class list holds no account")
    return entries


def enrol(store: UserStore, entries: list[Entry]) -> None:
    """Add every entry, or none when a username is taken or a password weak. Slow: one argon2 hash per entry."""
    for entry in entries:
        if not entry.generated:
            try:
                store.check_password(entry.username, entry.password)
            except WeakPassword as exc:
                raise WeakPassword(f"{entry.username}: {exc}") from None
    taken = [e.username for e in entries if store.by_name(e.username) is not None]
    if taken:
        raise UserExists(f"these usernames are taken: {', '.join(taken)}")
    for entry in entries:
        store.add(entry.username, entry.password, entry.role)
