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
from hftsim.store.dbjournal import DatabaseJournal
from hftsim.store.errors import CorruptJournal, CorruptSnapshot, StoreError
from hftsim.store.integrity import verified
from hftsim.store.journal import Journal, Record, record_crc, snapshot_crc
from hftsim.store.segments import SegmentJournal

from .conftest import Backend
from .tamper import SegmentTamper, SqlTamper

COMMANDS = [PlaceOrder(1, "ACME", Side.SELL, 5, 10000 + i) for i in range(5)] + [CancelOrder(1, 2)]


def fill(journal: Journal, count: int = len(COMMANDS)) -> list[tuple[int, int, bytes]]:
    records = [(seq, 1000 + seq, codec.encode(c)) for seq, c in enumerate(COMMANDS[:count], start=1)]
    journal.write(records)
    return records


def quarantined(tmp_path: Path) -> list[dict[str, object]]:
    (path,) = tmp_path.glob("journal-quarantine-*.jsonl")
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_every_record_carries_the_crc_of_seq_ts_and_command(backend: Backend) -> None:
    journal = backend.open()
    records = fill(journal)
    stored = journal.records(0)
    assert [(r.seq, r.ts, r.data) for r in stored] == records
    assert [r.crc for r in stored] == [record_crc(seq, ts, data) for seq, ts, data in records]
    assert all(r.intact for r in stored)
    assert record_crc(1, 1001, records[0][2]) != record_crc(1, 1002, records[0][2])
    journal.close()


def test_an_intact_journal_replays_whole(backend: Backend, tmp_path: Path) -> None:
    journal = backend.open()
    fill(journal)
    assert [c for _, _, c in verified(journal, 0, tmp_path)] == COMMANDS
    assert not list(tmp_path.glob("journal-quarantine-*"))


def line_of(r: Record) -> tuple[object, ...]:
    if r.seq is None:
        return (None, None, None, r.data)
    return (r.seq, r.ts, r.crc, r.data)


def quarantined_lines(tmp_path: Path) -> list[tuple[object, ...]]:
    return [
        (x["seq"], None, None, base64.b64decode(str(x["raw_b64"])))
        if x["seq"] is None
        else (x["seq"], x["ts"], x["crc"], base64.b64decode(str(x["command_b64"])))
        for x in quarantined(tmp_path)
    ]


TAILS = [("files", "garbage"), ("files", "flipped"), ("files", "torn"), ("files", "bad_json")] + [
    ("postgres", damage) for damage in ("garbage", "flipped", "no_crc", "bad_json")
]


@pytest.mark.parametrize(("backend", "damage"), TAILS, indirect=["backend"])
def test_a_torn_tail_is_cut_into_a_quarantine_file(
    backend: Backend, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal = backend.open()
    records = fill(journal, 4)
    journal.close()
    tamper = backend.tamper
    if damage == "garbage":
        tamper.append(5, 7, b"\x00\xffgarbage", 12345)
        tamper.append(6, 8, b"more", None)
    elif damage == "flipped":
        tamper.replace_command(4, records[3][2].replace(b"10003", b"10013"))
    elif damage == "no_crc":
        assert isinstance(tamper, SqlTamper)
        tamper.null_crc(4)
    elif damage == "torn":
        assert isinstance(tamper, SegmentTamper)
        tamper.tear(4)
    else:
        data = b'{"k": "place"'
        tamper.append(5, 9, data, record_crc(5, 9, data))
    first_cut = 4 if damage in ("flipped", "no_crc", "torn") else 5
    journal = backend.open()
    cut = [r for r in journal.records(0) if r.seq is None or r.seq >= first_cut]
    with caplog.at_level(logging.WARNING, "hftsim.store.integrity"):
        good = verified(journal, 0, tmp_path)
    assert [c for _, _, c in good] == COMMANDS[: first_cut - 1]
    assert [r.seq for r in journal.records(0)] == [seq for seq, _, _ in good]
    assert quarantined_lines(tmp_path) == [line_of(r) for r in cut]
    (warning,) = caplog.records
    assert f"cut {len(cut)} damaged record(s)" in warning.message and f"from command {first_cut}" in warning.message
    assert "journal-quarantine-" in warning.message
    # The cut is durable: the next start finds an intact journal, and writing goes on after it.
    journal.close()
    journal = backend.open()
    assert verified(journal, 0, tmp_path) == good
    journal.write([(first_cut, 50, codec.encode(COMMANDS[first_cut - 1]))])
    assert [r.seq for r in journal.records(0)] == list(range(1, first_cut + 1))
    journal.close()


@pytest.mark.parametrize("damage", ["flipped", "gap"])
def test_damage_with_intact_records_after_it_stops_the_start(backend: Backend, tmp_path: Path, damage: str) -> None:
    journal = backend.open()
    fill(journal)
    journal.close()
    if damage == "flipped":
        backend.tamper.shift_ts(3)
    else:
        backend.tamper.remove(3)
    journal = backend.open()
    before = journal.records(0)
    with pytest.raises(CorruptJournal) as caught:
        verified(journal, 0, tmp_path)
    assert caught.value.seq == 3
    message = str(caught.value)
    assert "command 3" in message and f"hftsim journal truncate --from 3 --data-dir {tmp_path}" in message
    assert journal.records(0) == before and len(before) == (5 if damage == "gap" else 6), "nothing may be cut"
    assert not list(tmp_path.glob("journal-quarantine-*"))
    journal.close()


def test_the_scan_starts_after_the_snapshot(backend: Backend, tmp_path: Path) -> None:
    settings = load()
    journal = backend.open()
    engine, history, fills, _ = recover(settings, journal, tmp_path)
    for seq, command in enumerate(COMMANDS[:3], start=1):
        journal.write([(seq, seq, codec.encode(command))])
        engine.apply(command, seq)
    journal.roll()
    journal.save_snapshot(engine.seq, (engine, history, fills))
    journal.write([(4, 4, codec.encode(COMMANDS[3]))])
    journal.close()
    backend.tamper.append(5, 5, b"torn", 0)
    again, *_ = recover(settings, backend.open(), tmp_path)
    assert again.seq == 4
    assert [x["seq"] for x in quarantined(tmp_path)] == [5]


def test_a_snapshot_failing_its_checksum_is_refused(backend: Backend, tmp_path: Path) -> None:
    journal = backend.open()
    journal.save_snapshot(7, {"state": 1})
    assert journal.load_snapshot() == (7, {"state": 1})
    journal.close()
    backend.tamper.corrupt_snapshot()
    with pytest.raises(CorruptSnapshot, match=r"snapshot at command 8 is damaged.*--reset") as caught:
        recover(load(), backend.open(), tmp_path)
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
    journal = DatabaseJournal(Database(str(path)))
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
    journal = SegmentJournal(tmp_path)
    fill(journal)
    before = journal.records(0)
    journal.close()
    done = hftsim("journal", "truncate", "--from", "4", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "moved 3 journal record(s) from command 4" in done.stdout
    lines = quarantined(tmp_path)
    assert [(x["seq"], base64.b64decode(str(x["command_b64"]))) for x in lines] == [(r.seq, r.data) for r in before[3:]]
    journal = SegmentJournal(tmp_path)
    assert journal.records(0) == before[:3]
    journal.close()
    again = hftsim("journal", "truncate", "--from", "4", "--data-dir", str(tmp_path))
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert hftsim("journal", "truncate", "--from", "0", "--data-dir", str(tmp_path)).returncode != 0


def test_truncate_is_refused_while_a_server_holds_the_journal(tmp_path: Path) -> None:
    journal = SegmentJournal(tmp_path)
    fill(journal)
    refused = hftsim("journal", "truncate", "--from", "4", "--data-dir", str(tmp_path))
    assert refused.returncode != 0 and "stop the server" in refused.stderr
    assert len(journal.records(0)) == len(COMMANDS)
    journal.close()


def test_a_store_that_lost_committed_commands_stays_refused(new_postgres_db: Callable[[], str]) -> None:
    database = Database(new_postgres_db())
    journal = DatabaseJournal(database)
    fill(journal)
    assert journal.probe()
    conn = database.connect()
    conn.execute("DELETE FROM journal WHERE seq >= 5")
    conn.close()  # what a crash under synchronous_commit = off can do
    assert not journal.probe()
    journal.save_snapshot(6, {"state": 1})  # an operator's repair, or the store catching up
    assert journal.probe()
    journal.close()
