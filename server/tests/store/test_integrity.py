"""Journal checksums, migration, and what start-up does with damaged records."""

from __future__ import annotations

import base64
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from hftsim.config import load
from hftsim.engine import CancelOrder, PlaceOrder, Side
from hftsim.gateway.venue import recover
from hftsim.store import codec
from hftsim.store.database import Database
from hftsim.store.errors import CorruptJournal, CorruptSnapshot, StoreError
from hftsim.store.integrity import verified
from hftsim.store.journal import Journal, record_crc, snapshot_crc

COMMANDS = [PlaceOrder(1, "ACME", Side.SELL, 5, 10000 + i) for i in range(5)] + [CancelOrder(1, 2)]


def fill(journal: Journal, count: int = len(COMMANDS)) -> list[tuple[int, int, bytes]]:
    records = [(seq, 1000 + seq, codec.encode(c)) for seq, c in enumerate(COMMANDS[:count], start=1)]
    journal.write(records)
    return records


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "sqlite":
        return Database(str(tmp_path / "market.db"))
    return Database(request.getfixturevalue("new_postgres_db")())


def raw(db: Database, sql: str, *args: object) -> None:
    """Change the stored rows behind the journal's back, as a torn write or a bad disk would."""
    conn = db.connect()
    conn.execute(db.sql(sql), args)
    conn.close()


def quarantined(tmp_path: Path) -> list[dict[str, object]]:
    (path,) = tmp_path.glob("journal-quarantine-*.jsonl")
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_every_row_carries_the_crc_of_seq_ts_and_command(database: Database) -> None:
    journal = Journal(database)
    records = fill(journal)
    stored = journal.records(0)
    assert [(r.seq, r.ts, r.data) for r in stored] == records
    assert [r.crc for r in stored] == [record_crc(seq, ts, data) for seq, ts, data in records]
    assert all(r.intact for r in stored)
    assert record_crc(1, 1001, records[0][2]) != record_crc(1, 1002, records[0][2])
    journal.close()


def test_an_intact_journal_replays_whole(database: Database, tmp_path: Path) -> None:
    journal = Journal(database)
    fill(journal)
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == COMMANDS
    assert not list(tmp_path.glob("journal-quarantine-*"))


@pytest.mark.parametrize("damage", ["garbage", "flipped", "no_crc", "bad_json"])
def test_a_torn_tail_is_cut_into_a_quarantine_file(
    database: Database, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(database)
    records = fill(journal, 4)
    journal.close()
    if damage == "garbage":
        raw(database, "INSERT INTO journal (seq, ts, command, crc) VALUES (5, 7, ?, 12345)", b"\x00\xffgarbage")
        raw(database, "INSERT INTO journal (seq, ts, command, crc) VALUES (6, 8, ?, NULL)", b"more")
    elif damage == "flipped":
        flipped = records[3][2].replace(b"10003", b"10013")
        raw(database, "UPDATE journal SET command = ? WHERE seq = 4", flipped)
    elif damage == "no_crc":
        raw(database, "UPDATE journal SET crc = NULL WHERE seq = 4")
    else:
        data = b'{"k": "place"'
        raw(database, "INSERT INTO journal (seq, ts, command, crc) VALUES (5, 9, ?, ?)", data, record_crc(5, 9, data))
    journal = Journal(database)
    cut = [r for r in journal.records(0) if r.seq >= (4 if damage in ("flipped", "no_crc") else 5)]
    with caplog.at_level(logging.WARNING, "hftsim.store.integrity"):
        good = verified(journal, 0, tmp_path)
    assert [c for _, _, c in good] == COMMANDS[: 3 if damage in ("flipped", "no_crc") else 4]
    assert [r.seq for r in journal.records(0)] == [seq for seq, _, _ in good]
    lines = quarantined(tmp_path)
    assert [(x["seq"], x["ts"], x["crc"], base64.b64decode(str(x["command_b64"]))) for x in lines] == [
        (r.seq, r.ts, r.crc, r.data) for r in cut
    ]
    (warning,) = caplog.records
    assert f"cut {len(cut)} damaged record(s)" in warning.message and f"from command {cut[0].seq}" in warning.message
    assert "journal-quarantine-" in warning.message
    # The cut is durable: the next start finds an intact journal.
    journal.close()
    assert verified(Journal(database), 0, tmp_path) == good


@pytest.mark.parametrize("damage", ["flipped", "gap"])
def test_damage_with_intact_records_after_it_stops_the_start(database: Database, tmp_path: Path, damage: str) -> None:
    journal = Journal(database)
    fill(journal)
    journal.close()
    if damage == "flipped":
        raw(database, "UPDATE journal SET ts = ts + 1 WHERE seq = 3")
    else:
        raw(database, "DELETE FROM journal WHERE seq = 3")
    journal = Journal(database)
    with pytest.raises(CorruptJournal) as caught:
        verified(journal, 0, tmp_path)
    assert caught.value.seq == 3
    message = str(caught.value)
    assert "command 3" in message and f"hftsim journal truncate --from 3 --data-dir {tmp_path}" in message
    assert len(journal.records(0)) == (5 if damage == "gap" else 6), "nothing may be cut"
    assert not list(tmp_path.glob("journal-quarantine-*"))


def test_the_scan_starts_after_the_snapshot(database: Database, tmp_path: Path) -> None:
    settings = load()
    journal = Journal(database)
    engine, history, fills = recover(settings, journal, tmp_path)
    for seq, command in enumerate(COMMANDS[:3], start=1):
        journal.write([(seq, seq, codec.encode(command))])
        engine.apply(command, seq)
    journal.save_snapshot(engine.seq, (engine, history, fills))
    journal.write([(4, 4, codec.encode(COMMANDS[3]))])
    journal.close()
    raw(database, "INSERT INTO journal (seq, ts, command, crc) VALUES (5, 5, ?, 0)", b"torn")
    again, _, _ = recover(settings, Journal(database), tmp_path)
    assert again.seq == 4
    assert [x["seq"] for x in quarantined(tmp_path)] == [5]


def test_a_snapshot_failing_its_checksum_is_refused(database: Database, tmp_path: Path) -> None:
    journal = Journal(database)
    journal.save_snapshot(7, {"state": 1})
    assert journal.load_snapshot() == (7, {"state": 1})
    journal.close()
    raw(database, "UPDATE snapshot SET seq = 8")
    with pytest.raises(CorruptSnapshot, match=r"snapshot at command 8 is damaged.*--reset") as caught:
        recover(load(), Journal(database), tmp_path)
    assert isinstance(caught.value, StoreError)


def test_a_journal_from_before_checksums_gets_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "market.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE journal (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, command BLOB NOT NULL)")
    old.execute(
        "CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, state BLOB NOT NULL)"
    )
    rows = [(seq, 50 + seq, codec.encode(c)) for seq, c in enumerate(COMMANDS, start=1)]
    old.executemany("INSERT INTO journal VALUES (?, ?, ?)", rows)
    old.execute("INSERT INTO snapshot VALUES (1, 0, ?)", (b"\x80\x05K\x01.",))  # pickle of 1
    old.commit()
    old.close()
    journal = Journal(Database(str(path)))
    assert [r.crc for r in journal.records(0)] == [record_crc(*row) for row in rows]
    assert journal.load_snapshot() == (0, 1)
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == COMMANDS
    journal.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT crc FROM snapshot").fetchone() == (snapshot_crc(0, b"\x80\x05K\x01."),)
    conn.close()


def hftsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hftsim", *args], capture_output=True, text=True, timeout=60)


def test_truncate_moves_the_records_from_a_seq_on_to_quarantine(tmp_path: Path) -> None:
    database = Database(str(tmp_path / "market.db"))
    journal = Journal(database)
    fill(journal)
    before = journal.records(0)
    journal.close()
    done = hftsim("journal", "truncate", "--from", "4", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "moved 3 journal record(s) from command 4" in done.stdout
    lines = quarantined(tmp_path)
    assert [(x["seq"], base64.b64decode(str(x["command_b64"]))) for x in lines] == [(r.seq, r.data) for r in before[3:]]
    journal = Journal(database)
    assert journal.records(0) == before[:3]
    journal.close()
    again = hftsim("journal", "truncate", "--from", "4", "--data-dir", str(tmp_path))
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert hftsim("journal", "truncate", "--from", "0", "--data-dir", str(tmp_path)).returncode != 0


def test_a_store_that_lost_committed_commands_stays_refused(new_postgres_db: Callable[[], str]) -> None:
    database = Database(new_postgres_db())
    journal = Journal(database)
    fill(journal)
    assert journal.probe()
    raw(database, "DELETE FROM journal WHERE seq >= 5")  # what a crash under synchronous_commit = off can do
    assert not journal.probe()
    journal.save_snapshot(6, {"state": 1})  # an operator's repair, or the store catching up
    assert journal.probe()
    journal.close()
