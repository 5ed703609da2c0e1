"""The class list: CSV rows to accounts, generated passwords, the sheet."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftsim.classroom.roster import PASSWORD_ALPHABET, PASSWORD_LENGTH, RosterError, enrol, parse
from hftsim.classroom.sheet import credentials_sheet
from hftsim.protocol.roles import Role
from hftsim.store.database import Database
from hftsim.store.users import UserExists, UserStore


def test_rows_with_header_given_and_generated_passwords_and_roles() -> None:
    entries = parse("username,password,role\nann,ann-secret-1\nbob,,viewer\n\ncat\n", Role.TRADER)
    assert [(e.username, e.role, e.generated) for e in entries] == [
        ("ann", Role.TRADER, False),
        ("bob", Role.VIEWER, True),
        ("cat", Role.TRADER, True),
    ]
    assert entries[0].password == "ann-secret-1"
    for e in entries[1:]:
        assert len(e.password) == PASSWORD_LENGTH and set(e.password) <= set(PASSWORD_ALPHABET)
    assert entries[1].password != entries[2].password


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("ann\nann\n", "line 2: 'ann' appears twice"),
        ("ann\nb@d\n", "line 2: a username is"),
        ("ann,pw,emperor\n", "line 1: unknown role"),
        ("ann,pw,trader,extra\n", "line 1: expected username"),
        ("username,password\n\n", "holds no account"),
    ],
)
def test_bad_lists_are_refused_naming_the_line(text: str, says: str) -> None:
    with pytest.raises(RosterError, match=says):
        parse(text)


def test_enrol_adds_all_or_none(tmp_path: Path) -> None:
    store = UserStore(Database(str(tmp_path / "u.db")), "CHEAPEST")
    store.add("bob", "bob-pass-1", Role.TRADER)
    with pytest.raises(UserExists, match="bob"):
        enrol(store, parse("ann\nbob\n"))
    assert store.by_name("ann") is None
    entries = parse("ann\ncat,cat-pw-1\n")
    enrol(store, entries)
    assert store.authenticate("ann", entries[0].password) is not None
    assert store.authenticate("cat", "cat-pw-1") is not None


def test_sheet_has_one_card_per_account_and_escapes() -> None:
    entries = parse("ann,<b>pw</b>\nbob\n")
    sheet = credentials_sheet(entries, "http://class.example:8000")
    assert sheet.count('class="card"') == 2
    assert "&lt;b&gt;pw&lt;/b&gt;" in sheet and "<b>pw" not in sheet
    assert entries[1].password in sheet and "http://class.example:8000" in sheet


def test_old_user_table_gains_the_disabled_column(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "old.db"))
    conn = db.connect()
    conn.execute(
        "CREATE TABLE users (user_id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE,"
        " password_hash TEXT, role TEXT NOT NULL, is_guest INTEGER NOT NULL DEFAULT 0,"
        " is_bot INTEGER NOT NULL DEFAULT 0)"
    )
    conn.execute("INSERT INTO users (username, role) VALUES ('old', 'trader')")
    conn.close()
    store = UserStore(db, "CHEAPEST")
    old = store.by_name("old")
    assert old is not None and not old.disabled
    assert store.set_disabled("old", True).disabled
