"""The snapshot process: a second copy of the market, kept by replaying the journal, that writes the snapshots.

A snapshot of the serving process would stop its event loop: pickling the
market there takes seconds, and even forking a child to pickle it held the
loop 4-18 ms (copying page tables, then copy-on-write faults). So the
server starts this process once (`python -m hftsim.gateway.snapshot_process`,
snapshotter.py is the server's end) and never pickles or forks for a
snapshot again. The process loads the latest snapshot, or starts from the
empty market the server hands it, and then follows the segment journal
(store/tail.py). Every `journal.snapshot_every` commands the server rolls
the journal and writes one line to the process's stdin, the seq through
which the journal is durable: the process applies the commands up to it,
feeds its read models as the server's are fed (readmodels.record), writes
the snapshot file exactly as the server would (store/snapshots.py), drops
the segments it covers, and answers the seq on its stdout.

The engine is deterministic, so its state equals the server's at that seq.
The process inherits the server's CPUs and scheduling; it gives the
priority up (time-shared at niceness 10 at least): a real-time server's
loop always runs before it, and a time-shared one gets most of a core they
both want. It dies with the server (PR_SET_PDEATHSIG); on any error it
prints it and exits 1, and the server starts a new one at the next snapshot.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

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


class Replica:
    """The market as of the journal's last durable seq the server named, and the snapshots written from it."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self.files = SnapshotFiles(spec.journal_dir / "snapshots")
        loaded = self.files.load()
        engine, history, fills = spec.empty
        if loaded is not None:
            _, (engine, history, fills, *_) = loaded  # a round's book is kept by the server's own snapshots
        self.market: Served = (engine, history, fills, None)
        self._engine = engine
        self._tail = SegmentTail(spec.journal_dir, engine.seq)

    def snapshot(self, durable: int) -> None:
        """Apply the journal through `durable`, then write the snapshot there and drop the segments it covers."""
        for seq, ts, command in self._tail.upto(durable):
            result = self._engine.apply(command, ts)
            if result.seq != seq:
                raise RuntimeError(f"journal replay diverged: command {seq} became {result.seq}")
            record(result, self.market)
        self.files.save(durable, self.market)
        retire_covered(self._spec.journal_dir, durable, keep=self._spec.keep_segments)


NICENESS = 10
"""At least this nice: the weight of a tenth of the server's when both want the same core."""


def yield_to_the_server() -> None:
    """Time-shared, and nicer than the server: a real-time or pinned server's priority is not for this process."""
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, 0, max(NICENESS, os.getpriority(os.PRIO_PROCESS, 0)))


def main() -> None:
    """Read the Spec, then one durable seq a line until the server closes stdin; answer each once written."""
    source = sys.stdin.buffer
    spec: Spec = pickle.load(source)
    code = 1
    try:
        die_with_parent(spec.parent)
        yield_to_the_server()
        replica = Replica(spec)
        for line in source:
            durable = int(line)
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
