"""Snapshot files, and taking a snapshot in a forked child so the event loop never waits for it.

A snapshot is `snapshots/<seq, 20 digits>.snap`: the 8-byte magic
`HFTSNAP1`, then big-endian seq (i64), length (u64) and CRC-32 (u32) of the
pickled state (the CRC over seq and pickle, as journal.py says), then the
pickle. It is written to a `.tmp` file, fsynced, renamed into place and
the directory fsynced: a crash leaves either the old snapshot or the new
one, never half of one. Only the latest is kept.

`fork_snapshot` forks: the child holds a copy-on-write image of the market
as it stood at the fork, pickles it, writes it and drops the segments it
covers, while the parent's event loop goes on serving. The parent pays the
fork (copying page tables: milliseconds for a large market), not the
pickling; the child dies with the parent (PR_SET_PDEATHSIG), so a crashed
server leaves no writer behind to race the next start.

The fork freezes the parent's objects out of garbage collection
(`gc.freeze`) and they stay frozen: a collection writes to every object's
header, which would copy every page the child still shares, turning one
collection into a second-long stall. The server keeps its heap frozen
anyway (gateway/heap.py), so nothing is given back when the child ends.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CorruptSnapshot
from .journal import snapshot_crc

MAGIC = b"HFTSNAP1"
HEADER = struct.Struct(">qQI")
SUFFIX = ".snap"
PR_SET_PDEATHSIG = 1


class SnapshotFiles:
    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.dir.glob("*.tmp"):
            leftover.unlink(missing_ok=True)  # a write a crash interrupted: never renamed, never used

    def _files(self) -> list[Path]:
        return sorted(self.dir.glob(f"*{SUFFIX}"))

    def save(self, seq: int, state: Any) -> None:
        """Write `state` as of `seq` durably, then remove the older snapshots."""
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        path = self.dir / f"{seq:020d}{SUFFIX}"
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            out.write(MAGIC + HEADER.pack(seq, len(blob), snapshot_crc(seq, blob)))
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        for older in self._files():
            if older != path and int(older.name.removesuffix(SUFFIX)) < seq:
                older.unlink(missing_ok=True)

    def load(self) -> tuple[int, Any] | None:
        """The latest snapshot, checked; CorruptSnapshot when it does not check or cannot be read."""
        files = self._files()
        if not files:
            return None
        path = files[-1]
        named = int(path.name.removesuffix(SUFFIX))
        raw = path.read_bytes()
        start = len(MAGIC) + HEADER.size
        if raw[: len(MAGIC)] != MAGIC or len(raw) < start:
            raise CorruptSnapshot(named, "it is not a snapshot file")
        seq, length, crc = HEADER.unpack_from(raw, len(MAGIC))
        blob = raw[start:]
        if seq != named or length != len(blob) or crc != snapshot_crc(seq, blob):
            raise CorruptSnapshot(named, "its checksum does not match")
        try:
            return seq, pickle.loads(blob)
        except Exception as exc:
            raise CorruptSnapshot(seq, f"it cannot be read: {exc}") from None

    def clear(self) -> None:
        for path in self._files():
            path.unlink()


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when `parent` dies, so no writer outlives the server to race its next start."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def fork_snapshot(save: Callable[[int, Any], None], seq: int, state: Any) -> int:
    """Run `save(seq, state)` in a forked child; the child's pid (reap it with os.waitpid).

    The child never returns: it exits 0 once the snapshot is durable, 1 with the error on stderr otherwise.
    """
    parent = os.getpid()
    gc.freeze()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        die_with_parent(parent)
        gc.disable()  # a collection would touch every object and copy the parent's pages for nothing
        save(seq, state)
        code = 0
    except BaseException:
        os.write(2, f"snapshot at command {seq} failed:\n{traceback.format_exc()}".encode())
    finally:
        os._exit(code)
