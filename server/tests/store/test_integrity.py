"""Journal checks before replay: torn tails are cut and kept, damage in the middle stops the start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from hftsim.engine import CancelAll, PlaceOrder, Side
from hftsim.store import codec, integrity
from hftsim.store.database import Database
from hftsim.store.errors import CorruptJournal
from hftsim.store.journal import Journal


def journal_of(tmp_path: Path, n: int) -> tuple[Journal, Path]:
    path = tmp_path / "market.db"
    journal = Journal(Database(str(path)))
    commands = [PlaceOrder(1, "ACME", Side.BUY, 1, 9_900 + i) for i in range(n)]
    journal.write([(i, 1000 + i, codec.encode(c)) for i, c in enumerate(commands, start=1)])
    return journal, path


def damage(path: Path, journal: Journal, sql: str, *params: object) -> Journal:
    """Change the rows behind the journal's back, as a bad disk or a stray tool would."""
    journal.close()
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, params)
    db.close()
    return Journal(Database(str(path)))


def seqs(journal: Journal, data_dir: Path) -> list[int]:
    return [seq for seq, _, _ in integrity.replay(journal, 0, data_dir)]


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE journal SET command = ? WHERE seq >= 9", (b'{"k":"place","user_id":1,"sym":"AC',)),
        ("UPDATE journal SET command = ? WHERE seq = 10", (b"\x00garbage\xff",)),
        ("UPDATE journal SET crc = crc + 1 WHERE seq = 10", ()),
        ("UPDATE journal SET command = ? WHERE seq = 10", (orjson.dumps({"k": "launch", "missiles": 3}),)),
    ],
    ids=["torn", "garbage", "checksum", "not a command"],
)
def test_a_damaged_tail_is_cut_to_the_last_sound_record_and_kept(
    tmp_path: Path, sql: str, params: tuple[object, ...], caplog: pytest.LogCaptureFixture
) -> None:
    journal, path = journal_of(tmp_path, 10)
    before = {row.seq: row.command for row in journal.rows(0)}
    journal = damage(path, journal, sql, *params)
    damaged = {row.seq: row.command for row in journal.rows(0)}
    kept = seqs(journal, tmp_path)
    first_bad = min(s for s in damaged if damaged[s] != before[s] or ("crc" in sql and s == 10))
    assert kept == list(range(1, first_bad))
    assert [row.seq for row in journal.rows(0)] == kept  # cut from the journal itself
    [file] = tmp_path.glob("journal-quarantine-*.jsonl")
    lines = [orjson.loads(line) for line in file.read_bytes().splitlines()]
    assert [(x["seq"], bytes.fromhex(x["command"])) for x in lines] == [(s, damaged[s]) for s in range(first_bad, 11)]
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert f"from command {first_bad} on" in warning.getMessage() and str(file) in warning.getMessage()
    assert seqs(journal, tmp_path) == kept  # the next start finds a sound journal


@pytest.mark.parametrize(
    ("sql", "params", "named"),
    [
        ("UPDATE journal SET command = ? WHERE seq = 4", (b"\x00garbage",), 4),
        ("DELETE FROM journal WHERE seq = 6", (), 6),
    ],
    ids=["garbage", "missing"],
)
def test_damage_followed_by_sound_records_stops_the_start_and_names_the_way_out(
    tmp_path: Path, sql: str, params: tuple[object, ...], named: int
) -> None:
    journal, path = journal_of(tmp_path, 10)
    journal = damage(path, journal, sql, *params)
    with pytest.raises(CorruptJournal) as info:
        seqs(journal, tmp_path)
    message = str(info.value)
    assert f"journal record {named} is damaged" in message
    assert f"hftsim journal truncate --from {named}" in message
    assert len(list(journal.rows(0))) == 9 + (named == 4)  # nothing was cut
    assert not list(tmp_path.glob("journal-quarantine-*"))


def test_a_journal_from_before_checksums_gets_the_column_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "market.db"
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE journal (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, command BLOB NOT NULL)")
        db.execute("CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, state BLOB)")
        db.execute("INSERT INTO journal VALUES (1, 5, ?)", (codec.encode(CancelAll(1)),))
    db.close()
    journal = Journal(Database(str(path)))
    assert [(s, c) for s, _, c in integrity.replay(journal, 0, tmp_path)] == [(1, CancelAll(1))]
    journal.write([(2, 6, codec.encode(CancelAll(2)))])
    assert [row.crc is None for row in journal.rows(0)] == [True, False]


def test_a_snapshot_that_fails_its_checksum_is_refused(tmp_path: Path) -> None:
    journal, path = journal_of(tmp_path, 3)
    journal.save_snapshot(3, {"state": 1})
    journal = damage(path, journal, "UPDATE snapshot SET crc = crc + 1")
    with pytest.raises(CorruptJournal, match="snapshot at command 3 fails its checksum"):
        journal.load_snapshot()
