"""Each journal test runs against both journals: segment files and PostgreSQL rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hftsim.store.database import Database
from hftsim.store.dbjournal import DatabaseJournal
from hftsim.store.journal import Journal
from hftsim.store.segments import SegmentJournal

from .tamper import SegmentTamper, SqlTamper, Tamper


@dataclass
class Backend:
    name: str
    open: Callable[[], Journal]
    """A journal on the same stored data each call (close the previous one first)."""
    tamper: Tamper


@pytest.fixture(params=["files", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "files":
        return Backend("files", lambda: SegmentJournal(tmp_path), SegmentTamper(tmp_path))
    db = Database(request.getfixturevalue("new_postgres_db")())
    return Backend("postgres", lambda: DatabaseJournal(db), SqlTamper(db))
