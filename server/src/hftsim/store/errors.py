"""The store's exceptions, under one root so callers can tell store trouble from bugs.

Every message says what the operator can do about it, because these end up
as the one line `hftsim serve` prints before it refuses to start.
"""

from __future__ import annotations


class StoreError(Exception):
    """Something about durable state; the message says what to do."""


class StoreUnavailable(StoreError):
    """The journal cannot be written; nothing of the failed batch was stored."""


class CodecError(StoreError, ValueError):
    """A command the journal cannot represent exactly, or stored bytes that are no command.

    A ValueError too, so the engine-facing callers that validate input treat it as bad input.
    """


class CorruptJournal(StoreError):
    """A damaged record with intact records after it: cutting it would lose acknowledged commands."""

    def __init__(self, seq: int, reason: str, data_dir: str) -> None:
        self.seq = seq
        super().__init__(
            f"the market journal is damaged at command {seq} ({reason}) and intact commands follow it, "
            f"so it cannot be repaired by dropping a torn tail. The market cannot start without losing "
            f"commands {seq} and later: to accept that, run "
            f"`hftsim journal truncate --from {seq} --data-dir {data_dir}` (the records move to a quarantine "
            f"file in the data dir) and start again; otherwise restore the data dir from a backup."
        )


class CorruptSnapshot(StoreError):
    """The stored snapshot fails its checksum: the journal before it is gone, so nothing can rebuild it."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        super().__init__(
            f"the market snapshot at command {seq} is damaged ({reason}); the commands before it were "
            f"dropped when it was taken, so the market cannot be rebuilt from this data dir. Restore the "
            f"data dir from a backup, or start with --reset to open a new market (user accounts are kept)."
        )


class DatabaseBusy(StoreError):
    """Another process writes what this one was to write: two writers would interleave their rows."""
