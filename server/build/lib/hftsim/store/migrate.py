"""Moving a data directory's journal from SQLite (`market.db`, before the segment log) into segment files, once.

The old journal is checked as a start-up would check it (a torn tail goes
to a quarantine file; damage in the middle stops with the usual
`hftsim journal truncate` advice, which then works on `market.db`), its
snapshot and commands are written to the segment log and made durable, and
only then is `market.db` renamed to `market.db.migrated`: a crash half-way
leaves the old journal in place to migrate again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from . import codec
from .database import Database
from .dbjournal import DatabaseJournal
from .integrity import verified
from .segments import SegmentJournal

log = logging.getLogger(__name__)

LEGACY = "market.db"


def legacy_journal(data_dir: Path) -> DatabaseJournal | None:
    """The SQLite journal of a data directory not yet migrated, if there is one."""
    path = data_dir / LEGACY
    return DatabaseJournal(Database(str(path))) if path.is_file() else None


def migrate(data_dir: Path, journal: SegmentJournal) -> None:
    """Move `market.db`'s snapshot and commands into `journal`, then rename it; a no-op without one."""
    old = legacy_journal(data_dir)
    if old is None:
        return
    try:
        snapshot = old.load_snapshot()
        after = 0 if snapshot is None else snapshot[0]
        commands = verified(old, after, data_dir)
    finally:
        old.close()
    journal.reset()  # anything a crashed earlier attempt left
    if snapshot is not None:
        journal.roll()
        journal.save_snapshot(*snapshot)
    journal.write([(seq, ts, codec.encode(command)) for seq, ts, command in commands])
    journal.sync()
    for suffix in ("", "-wal", "-shm"):
        source = data_dir / f"{LEGACY}{suffix}"
        if source.exists():
            source.rename(data_dir / f"{LEGACY}.migrated{suffix}")
    log.warning(
        "moved the market journal from %s into segment files in %s (%d commands after the snapshot); "
        "the old file is kept as %s.migrated: delete it once the market is as you left it",
        data_dir / LEGACY,
        journal.dir,
        len(commands),
        LEGACY,
    )
