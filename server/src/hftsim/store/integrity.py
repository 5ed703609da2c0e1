"""Checking the journal before it is replayed: a torn tail is cut off, damage in the middle stops the start.

A record is sound when its sequence number is the next one, its checksum
matches and it decodes to a command. The first unsound record decides:

- if no sound record follows it, it is the tail a crash (or a bad disk
  block) left behind: the records from it on are moved to a quarantine file
  in the data directory, one warning line says so, and the market restarts
  as of the last sound record — nothing acknowledged can be lost there,
  because a command is acknowledged only after its whole batch committed;
- if a sound record follows it, cutting would silently drop history that
  clients were told about: the start stops with `CorruptJournal`, naming the
  record and the way out (`hftsim journal truncate`, or a backup).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..engine import Command
from . import codec
from .errors import CodecError, CorruptJournal
from .journal import Journal, Row, record_crc

log = logging.getLogger(__name__)


def fault(row: Row, expected_seq: int) -> str | None:
    """Why `row` is not the sound record `expected_seq`, or None when it is."""
    if row.seq != expected_seq:
        return f"record {expected_seq} is missing (the next one is {row.seq})"
    if row.crc is not None and row.crc != record_crc(row.seq, row.ts, row.command):
        return "its checksum does not match"
    try:
        codec.decode(row.command)
    except CodecError as exc:
        return str(exc)
    return None


def replay(journal: Journal, after_seq: int, data_dir: Path) -> Iterator[tuple[int, int, Command]]:
    """Each sound record after `after_seq` in order; a damaged tail is quarantined once they are read."""
    expected = after_seq + 1
    rows = journal.rows(after_seq)
    for row in rows:
        reason = fault(row, expected)
        if reason is not None:
            rest = [row, *rows]
            check_tail(expected, reason, rest, data_dir)
            path = quarantine(data_dir, rest)
            journal.delete_from(expected)
            log.warning(
                "journal: cut %d damaged record(s) from command %d on (%s); the market restarts as of command %d; "
                "the cut bytes are in %s",
                len(rest), expected, reason, expected - 1, path,
            )  # fmt: skip
            return
        yield row.seq, row.ts, codec.decode(row.command)
        expected += 1


def check_tail(seq: int, reason: str, rest: list[Row], data_dir: Path) -> None:
    """Raise CorruptJournal when a sound record follows the damaged record `seq`: it is not a tail."""
    sound = [row for row in rest if row.seq > seq and fault(row, row.seq) is None]
    if not sound:
        return
    raise CorruptJournal(
        f"journal record {seq} is damaged ({reason}) and {len(sound)} sound record(s) follow it, so it is not "
        f"a torn tail that could be cut off without losing history. Either restore the data directory (or the "
        f"database) from a backup, or accept losing everything from command {seq} on: "
        f"`hftsim journal truncate --from {seq} --data-dir {data_dir}` moves those records to a quarantine file "
        f"and the market restarts as of command {seq - 1}."
    )


def quarantine(data_dir: Path, rows: list[Row]) -> Path:
    """Keep cut records, byte for byte, in a JSON-lines file nobody reads by accident.

    The file is on disk (fsync) before the caller deletes the records: a
    crash in between leaves them in both places, never in neither.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    first = rows[0].seq if rows else 0
    path = data_dir / f"journal-quarantine-{first}-{stamp}.jsonl"
    data_dir.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as out:
        for row in rows:
            out.write(orjson.dumps({"seq": row.seq, "ts": row.ts, "crc": row.crc, "command": row.command.hex()}))
            out.write(b"\n")
        out.flush()
        os.fsync(out.fileno())
    return path
