"""The snapshot process: a second copy of the market, kept by replaying the journal, that writes the snapshots.

A snapshot of the serving process would stop its event loop: pickling the
market there takes seconds, and even forking a child to pickle it held the
loop 4-18 ms (copying page tables, then copy-on-write faults). So the
server starts this process (`python -m hftsim.gateway.snapshot_process`;
snapshotter.py is the server's end) and never pickles or forks for a
snapshot again. The process loads the latest snapshot, or starts from the
empty market the server hands it, and then follows the segment journal
(store/tail.py) as far as the server says it is durable, feeding its read
models as the server's are fed (readmodels.record). The server writes it
one line a second, `follow SEQ`, so it replays as the journal grows; and
every `journal.snapshot_every` commands, once it has rolled the journal,
`snapshot SEQ`: the process applies the commands up to SEQ, writes the
snapshot file exactly as the server would (store/snapshots.py), drops the
segments it covers, and answers SEQ on its stdout.

While a round runs, its book (classroom/scoring.py) also counts what no
command records, and the server tells the process those too, in order with
the seqs: `sample SEQ`, a PnL sample taken when the server's market stood
at SEQ (the marks and PnL are functions of the market there), and
`breach USER COUNT`, refusals of the rate limit. A process started during
a round (the server starts one when a round starts or ends, and after a
crash) starts from the book in the latest snapshot; a crash loses the
samples and breaches since then from its snapshots until the round ends,
never from the server's own book, which the shutdown snapshot saves.

The engine is deterministic, so its state equals the server's at that seq.
The process gives the server's priority up (time-shared, at niceness 10
at least) and, whenever the server is pinned to some of the machine's CPUs
(at start or later), runs on the others: it never competes for a real-time
or pinned server's core, nor fills its caches. It dies with the server (PR_SET_PDEATHSIG); on any error it prints
it and exits 1, and the server starts a new one at the next snapshot.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..classroom.scoring import RoundBook
from ..engine import Engine
from ..store.history import FillHistory, MarketHistory
from ..store.segments import retire_covered
from ..store.snapshots import SnapshotFiles, die_with_parent
from ..store.tail import SegmentTail
from .readmodels import Served, record


@dataclass(frozen=True, slots=True)
class Spec:
    """What the server hands a new snapshot process, pickled on its stdin ahead of the seqs."""

    parent: int
    journal_dir: Path
    keep_segments: bool
    empty: tuple[Engine, MarketHistory, FillHistory]
    """The market before any command: where the process starts when no snapshot exists yet."""
    round_running: bool
    """Keep a round's book (the snapshot's, or a new one) and feed it; without a round, drop the snapshot's."""


class Replica:
    """The market as of the journal's last durable seq the server named, and the snapshots written from it."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self.files = SnapshotFiles(spec.journal_dir / "snapshots")
        loaded = self.files.load()
        engine, history, fills = spec.empty
        saved: list[RoundBook | None] = []
        if loaded is not None:
            _, (engine, history, fills, *saved) = loaded  # snapshots from before rounds hold no round book
        book: RoundBook | None = None
        if spec.round_running:  # as gateway/rounds.py recovers it; without a round, the snapshot's book is stale
            book = saved[0] if saved and saved[0] is not None else RoundBook()
        self.market: Served = (engine, history, fills, book)
        self._engine = engine
        self._book = book
        self._tail = SegmentTail(spec.journal_dir, engine.seq)

    def follow(self, durable: int) -> None:
        """Apply the journal through `durable`."""
        for seq, ts, command in self._tail.upto(durable):
            result = self._engine.apply(command, ts)
            if result.seq != seq:
                raise RuntimeError(f"journal replay diverged: command {seq} became {result.seq}")
            record(result, self.market)

    def sample(self, durable: int) -> None:
        """The round's PnL sample the server took with its market at `durable`."""
        self.follow(durable)
        if self._book is not None:
            self._book.sample(self._engine)

    def breach(self, user_id: int, count: int) -> None:
        if self._book is not None:
            for _ in range(count):
                self._book.breach(user_id)

    def snapshot(self, durable: int) -> None:
        """Apply the journal through `durable`, then write the snapshot there and drop the segments it covers."""
        self.follow(durable)
        self.files.save(durable, self.market)
        retire_covered(self._spec.journal_dir, durable, keep=self._spec.keep_segments)


FOLLOW = b"follow"
"""The verb of a line that only says how far the journal is durable; `snapshot` also asks for a snapshot there."""
SAMPLE = b"sample"
BREACH = b"breach"
NICENESS = 10
"""At least this nice: the weight of a tenth of the server's when both want the same core."""


def yield_to_the_server() -> None:
    """Time-shared and nicer than the server (a real-time server's scheduling is inherited)."""
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, 0, max(NICENESS, os.getpriority(os.PRIO_PROCESS, 0)))


def keep_off(server: int) -> None:
    """Run on the CPUs the server is not pinned to, as it is pinned now (a running server may be pinned later).

    A server on every CPU leaves this process on every CPU too; one pinned to them all has no others to give.
    """
    pinned = os.sched_getaffinity(server)
    wanted = (set(range(os.cpu_count() or 1)) - pinned) or pinned
    if wanted != os.sched_getaffinity(0):
        try:
            os.sched_setaffinity(0, wanted)
        except OSError:
            pass  # none of them is this process's to use (a container's CPU set): it stays beside the server


def main() -> None:
    """Read the Spec, then `follow SEQ` or `snapshot SEQ` a line until the server closes stdin; answer each
    snapshot's seq once it is written."""
    source = sys.stdin.buffer
    spec: Spec = pickle.load(source)
    code = 1
    try:
        die_with_parent(spec.parent)
        yield_to_the_server()
        replica = Replica(spec)
        for line in source:
            keep_off(spec.parent)
            verb, *numbers = line.split()
            if verb == FOLLOW:
                replica.follow(int(numbers[0]))
            elif verb == SAMPLE:
                replica.sample(int(numbers[0]))
            elif verb == BREACH:
                replica.breach(int(numbers[0]), int(numbers[1]))
            else:
                durable = int(numbers[0])
                replica.snapshot(durable)
                sys.stdout.buffer.write(b"%d\n" % durable)
                sys.stdout.buffer.flush()
        code = 0
    except BaseException:
        os.write(2, f"the snapshot process failed:\n{traceback.format_exc()}".encode())
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
