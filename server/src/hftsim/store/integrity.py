"""Start-up check of the journal: replay only what is intact, cut a torn tail, stop on a damaged middle.

A record is good when its checksum matches, it decodes, and its seq follows
the previous one. A crash or a full disk can leave bad records only at the
end, after the last acknowledged command: those were never answered, so
they are cut and kept in a quarantine file, and the market starts. A bad
record with a good one after it is something else (a damaged disk, a hand
edit); dropping it would silently lose acknowledged commands, so the start
stops with CorruptJournal and the operator decides with
`hftsim journal truncate`.
"""

from __future__ import annotations

import base64
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..engine import Command
from . import codec
from .errors import CodecError, CorruptJournal
from .journal import Journal, Record

log = logging.getLogger(__name__)


def _problem(record: Record, expected_seq: int) -> str | None:
    """Why `record` cannot be replayed at `expected_seq`, or None."""
    if not record.intact:
        return "its checksum does not match"
    if record.seq != expected_seq:
        return f"command {expected_seq} is missing"
    try:
        codec.decode(record.data)
    except CodecError as exc:
        return str(exc)
    return None


def _readable(record: Record) -> bool:
    if not record.intact:
        return False
    try:
        codec.decode(record.data)
    except CodecError:
        return False
    return True


def verified(journal: Journal, after_seq: int, data_dir: Path) -> list[tuple[int, int, Command]]:
    """The commands to replay after `after_seq`, cutting a torn tail into a quarantine file first."""
    records = journal.records(after_seq)
    good: list[tuple[int, int, Command]] = []
    for index, record in enumerate(records):
        expected = after_seq + index + 1
        problem = _problem(record, expected)
        if problem is None:
            good.append((record.seq, record.ts, codec.decode(record.data)))
            continue
        # A readable record from here on (this one, after a gap, included) means the damage is not a torn tail.
        if any(_readable(later) for later in records[index:]):
            raise CorruptJournal(expected, problem, str(data_dir))
        tail = records[index:]
        path = quarantine(tail, data_dir)
        journal.delete_from(tail[0].seq)
        log.warning(
            "journal: cut %d damaged record(s) from the end, from command %d (%s); they were never "
            "acknowledged and are kept in %s",
            len(tail),
            tail[0].seq,
            problem,
            path,
        )
        break
    return good


def quarantine(records: list[Record], data_dir: Path) -> Path:
    """Write `records` byte for byte to a new file in `data_dir`, durably, before anyone deletes them."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = data_dir / f"journal-quarantine-{records[0].seq}-{stamp}.jsonl"
    data_dir.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as out:
        for r in records:
            line = {"seq": r.seq, "ts": r.ts, "crc": r.crc, "command_b64": base64.b64encode(r.data).decode()}
            out.write(orjson.dumps(line) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def truncate(journal: Journal, from_seq: int, data_dir: Path) -> tuple[int, Path | None]:
    """Move every record at or after `from_seq` to a quarantine file; how many, and where."""
    records = journal.records(from_seq - 1)
    if not records:
        return 0, None
    path = quarantine(records, data_dir)
    journal.delete_from(from_seq)
    return len(records), path
