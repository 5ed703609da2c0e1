"""The server's end of the snapshot process (snapshot_process.py): start it, tell it the durable seq, watch it.

All the loop ever does for a snapshot is write one short line to a pipe;
starting the process (at the first snapshot, and again after it died) is a
`posix_spawn`/`vfork` and `exec`, which copies no page tables, and a few
kilobytes of empty market on its stdin. Its exit is watched through a
pidfd, so a crash is reported the moment it happens and never waited for;
the next snapshot starts a new process, which recovers from the latest
snapshot and the journal. A snapshot is an optimisation: while there is no
process, the journal still holds every command, and trading goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

from ..engine import Engine
from ..store.history import FillHistory, MarketHistory
from .snapshot_process import Spec

log = logging.getLogger(__name__)


class Snapshotter:
    """Snapshots of a segment journal in `journal_dir`, written by a process of their own."""

    def __init__(
        self, journal_dir: Path, keep_segments: bool, empty: tuple[Engine, MarketHistory, FillHistory]
    ) -> None:
        """`empty`: the market before any command, where a process starts while no snapshot exists."""
        self._journal_dir = journal_dir
        self._keep = keep_segments
        self._empty = empty
        self._loop: asyncio.AbstractEventLoop | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._pidfd = -1
        self._replies = b""

    def snapshot(self, durable: int) -> None:
        """Have the process snapshot the market at `durable`: every command through it is journaled for good."""
        if self.process is None:
            try:
                self._start()
            except OSError as exc:
                log.error(
                    "the snapshot process could not start (%s); the snapshot at command %d is skipped", exc, durable
                )
                return
        assert self.process is not None and self.process.stdin is not None
        try:
            os.write(self.process.stdin.fileno(), b"%d\n" % durable)
        except BlockingIOError:
            log.warning("the snapshot process is far behind; the snapshot at command %d is skipped", durable)
        except BrokenPipeError:
            pass  # it has just died: the pidfd reports it

    def _start(self) -> None:
        started = time.perf_counter()
        spec = Spec(os.getpid(), self._journal_dir, self._keep, self._empty)
        process = subprocess.Popen(
            [sys.executable, "-m", "hftsim.gateway.snapshot_process"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
            process.stdin.flush()
        except OSError:
            process.kill()
            process.wait()
            raise
        os.set_blocking(process.stdin.fileno(), False)
        self._pidfd = os.pidfd_open(process.pid)
        loop = self._loop = asyncio.get_running_loop()
        loop.add_reader(self._pidfd, self._ended)
        loop.add_reader(process.stdout.fileno(), self._replied)
        self.process = process
        held_ms = (time.perf_counter() - started) * 1000
        log.info("started the snapshot process (pid %d; starting it held the loop %.1f ms)", process.pid, held_ms)

    def _replied(self) -> None:
        """The seqs the process has written snapshots at, one a line."""
        assert self.process is not None and self.process.stdout is not None
        chunk = os.read(self.process.stdout.fileno(), 4096)
        if not chunk:
            assert self._loop is not None
            self._loop.remove_reader(self.process.stdout.fileno())
            return  # it is exiting: the pidfd says how
        *lines, self._replies = (self._replies + chunk).split(b"\n")
        for line in lines:
            log.info("snapshot at command %d written by the snapshot process", int(line))

    def _ended(self) -> None:
        """The process exited on its own: report it; the next snapshot starts another."""
        process = self.process
        assert process is not None
        code = self._release()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        log.error(
            "the snapshot process (pid %d) %s; the journal still covers every command, and the next snapshot "
            "starts a new one",
            process.pid,
            how,
        )

    def stop(self) -> None:
        """End the process now (a snapshot it was writing is left unfinished, never half-written)."""
        if self.process is not None:
            self.process.kill()
            self._release()

    def _release(self) -> int:
        """Reap the process, forget its pipes and pidfd; its exit code."""
        process = self.process
        assert process is not None
        loop = self._loop
        assert loop is not None
        loop.remove_reader(self._pidfd)
        assert process.stdout is not None and process.stdin is not None
        loop.remove_reader(process.stdout.fileno())
        os.close(self._pidfd)
        code = process.wait()
        process.stdin.close()
        process.stdout.close()
        self.process = None
        self._replies = b""
        return code
