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


def _check(record: Record, expected_seq: int) -> Command | str:
    """The command `record` holds if it can be replayed at `expected_seq`, or why not."""
    if not record.intact:
        return "its checksum does not match"
    if record.seq != expected_seq:
        return f"command {expected_seq} is missing"
    try:
        return codec.decode(record.data)
    except CodecError as exc:
        return str(exc)


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
        checked = _check(record, after_seq + index + 1)
        if isinstance(checked, str):
            _cut_tail(journal, records[index:], after_seq + index + 1, checked, data_dir)
            break
        good.append((after_seq + index + 1, record.ts, checked))
    return good


def _cut_tail(journal: Journal, rest: list[Record], seq: int, problem: str, data_dir: Path) -> None:
    """Quarantine and delete `rest`, the records from the first bad one on, unless a readable one is among them."""
    # A readable record from here on (the first, after a gap, included) means the damage is not a torn tail.
    if any(_readable(record) for record in rest):
        raise CorruptJournal(seq, problem, str(data_dir))
    path = quarantine(rest, seq, data_dir)
    journal.cut(rest[0])
    log.warning(
        "journal: cut %d damaged record(s) from the end, from command %d (%s); they were never "
        "acknowledged and are kept in %s",
        len(rest),
        seq,
        problem,
        path,
    )


def quarantine(records: list[Record], first_seq: int, data_dir: Path) -> Path:
    """Write `records` byte for byte to a new file in `data_dir`, durably, before anyone deletes them.

    One JSON line per record; bytes that did not even frame a record (no seq) are kept whole as `raw_b64`.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = data_dir / f"journal-quarantine-{first_seq}-{stamp}.jsonl"
    data_dir.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as out:
        for r in records:
            encoded = base64.b64encode(r.data).decode()
            line: dict[str, object] = {"seq": r.seq, "ts": r.ts, "crc": r.crc, "command_b64": encoded}
            if r.seq is None:
                line = {"seq": None, "raw_b64": encoded}
            out.write(orjson.dumps(line) + b"\n")
        out.flush()
        os.fsync(out.fileno())
    return path


def truncate(journal: Journal, from_seq: int, data_dir: Path) -> tuple[int, Path | None]:
    """Move every record at or after `from_seq` to a quarantine file; how many, and where."""
    records = journal.records(from_seq - 1)
    if not records:
        return 0, None
    path = quarantine(records, from_seq, data_dir)
    journal.cut(records[0])
    return len(records), path
