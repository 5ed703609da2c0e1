"""The server's end of the snapshot process (snapshot_process.py): start it, tell it the durable seq, watch it.

All the loop ever does for a snapshot is write one short line to a pipe,
and once a second another, so that the process replays the journal as it
grows instead of all at once at the next snapshot. Starting the process
(with the server, after a replaced market or a round, and again after it
died) is a `vfork` and `exec`, which copies no page tables, and a few
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
from collections.abc import Callable
from pathlib import Path

from ..engine import Engine
from ..store.history import FillHistory, MarketHistory
from .snapshot_process import BREACH, FOLLOW, SAMPLE, Spec

log = logging.getLogger(__name__)

FOLLOW_S = 1.0
"""Seconds between the lines that tell a running process how far the journal is durable."""


class Snapshotter:
    """Snapshots of a segment journal in `journal_dir`, written by a process of their own."""

    def __init__(
        self,
        journal_dir: Path,
        keep_segments: bool,
        empty: tuple[Engine, MarketHistory, FillHistory],
        durable: Callable[[], int],
    ) -> None:
        """`empty`: the market before any command, where a process starts while no snapshot exists;
        `durable`: the last command journaled for good (the engine's seq: the sequencer applies none before)."""
        self._journal_dir = journal_dir
        self._keep = keep_segments
        self._empty = empty
        self._durable = durable
        self._told = 0
        self._unsent = bytearray()
        """What the pipe did not take (lines are whole only together)."""
        self._breaches: dict[int, int] = {}
        """Refusals of the rate limit by user, until the next line carries them."""
        self._follow_timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._pidfd = -1
        self._replies = b""

    def start(self, round_running: bool) -> bool:
        """Start the process unless it runs; False (and the reason logged) when it cannot start."""
        if self.process is None:
            try:
                self._start(round_running)
            except OSError as exc:
                log.error("the snapshot process could not start (%s); the journal still covers every command", exc)
                return False
        return True

    def restart(self, round_running: bool) -> None:
        """A new process for a replaced market, or a round that started or ended."""
        self.stop()
        self.start(round_running)

    def snapshot(self, durable: int, round_running: bool) -> None:
        """Have the process snapshot the market at `durable`: every command through it is journaled for good."""
        if self.start(round_running):
            self._tell(b"snapshot %d\n" % durable, durable)

    def sample(self, durable: int) -> None:
        """The server took a PnL sample of the round with its market at `durable`."""
        if self.process is not None:
            self._tell(b"%s %d\n" % (SAMPLE, durable), durable)

    def breach(self, user_id: int) -> None:
        """The rate limit refused one of `user_id`'s messages during a round; told with the next line."""
        if self.process is not None:
            self._breaches[user_id] = self._breaches.get(user_id, 0) + 1

    def _follow(self) -> None:
        durable = self._durable()
        if durable > self._told:
            self._tell(b"%s %d\n" % (FOLLOW, durable), durable)
        assert self._loop is not None
        self._follow_timer = self._loop.call_later(FOLLOW_S, self._follow)

    def _tell(self, line: bytes, durable: int) -> None:
        """Send `line` after the breaches counted since the last one and whatever the pipe could not take."""
        assert self.process is not None and self.process.stdin is not None
        counted = b"".join(b"%s %d %d\n" % (BREACH, user, n) for user, n in self._breaches.items())
        self._breaches.clear()
        self._unsent += counted + line
        self._told = durable
        try:
            sent = os.write(self.process.stdin.fileno(), self._unsent)
        except BlockingIOError:
            sent = 0  # a full pipe: the process is far behind; the rest goes with the next line
        except BrokenPipeError:
            return  # it has just died: the pidfd reports it
        del self._unsent[:sent]

    def _start(self, round_running: bool) -> None:
        started = time.perf_counter()
        spec = Spec(os.getpid(), self._journal_dir, self._keep, self._empty, round_running)
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
        self._told = 0
        self._follow_timer = loop.call_later(FOLLOW_S, self._follow)
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
        assert loop is not None and self._follow_timer is not None
        self._follow_timer.cancel()
        loop.remove_reader(self._pidfd)
        assert process.stdout is not None and process.stdin is not None
        loop.remove_reader(process.stdout.fileno())
        os.close(self._pidfd)
        code = process.wait()
        process.stdin.close()
        process.stdout.close()
        self.process = None
        self._replies = b""
        self._breaches.clear()
        self._unsent.clear()
        return code
