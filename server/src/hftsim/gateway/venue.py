"""Everything one running exchange is made of, wired together once.

The FastAPI app, the CLI and the tests build a Venue from settings; the
routes only ever reach the parts through it. Building a venue recovers the
market from its data directory: the latest snapshot, then the journal.

A snapshot is taken every `journal.snapshot_every` commands. With the
segment journal it is written by the snapshot process (snapshot_process.py),
which keeps its own copy of the market from the journal: the loop only
writes it short lines. With the database journal a forked child
(store/snapshots.py) writes it, and the loop pays the fork. At a clean
shutdown the last one is written in-process, as nothing is left to serve.
A snapshot holds the engine and its read models: the trade and fill
histories, and the running round's book (classroom/scoring.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ..classroom.scoring import RoundBook
from ..config import ConfigError, Settings
from ..engine import RULES, Engine
from ..engine.queries import MarketQueries
from ..protocol.render import Renderer
from ..store.database import Database
from ..store.errors import StoreUnavailable
from ..store.history import FillHistory, MarketHistory
from ..store.integrity import verified
from ..store.journal import Journal, open_journal
from ..store.migrate import legacy_journal, migrate
from ..store.segments import SegmentJournal
from ..store.sessions import SessionStore
from ..store.snapshots import fork_snapshot
from ..store.users import UserStore
from .control import MarketControl
from .heap import HeapPolicy
from .hub import Hub
from .latency import LatencyGate
from .looplag import LoopLag
from .outbox import PassFlush
from .ratelimit import RateLimiter
from .readmodels import Recorder, Served, record
from .rounds import Rounds
from .scenarios import Scenarios
from .sequencer import Sequencer
from .sessions import SessionManager
from .snapshotter import Snapshotter
from .traffic import user_limiter

if TYPE_CHECKING:
    from ..cluster.mdfeed import MarketFeed
    from ..cluster.sequencer import StreamSequencer
    from ..cluster.sessions import Revocations
    from ..sim.runner import AgentRunner

log = logging.getLogger(__name__)

AnySequencer: TypeAlias = "Sequencer | StreamSequencer"
"""What orders the commands: the journal in one process, the shard's stream in a cluster. The cluster's
modules (and NATS, the `cluster` extra) are imported only by a cluster gateway: `hftsim serve` runs without."""

USERS_DB = "hftsim.db"
SNAPSHOT_POLL_S = 0.05
"""How often the loop looks whether the snapshot child has finished."""

Market: TypeAlias = "tuple[Engine, MarketHistory, FillHistory, RoundBook | None]"
"""What a snapshot of the market holds: the engine and its read models (no round book: no round running)."""


@dataclass(slots=True)
class Venue:
    settings: Settings
    engine: MarketQueries
    """The market's queries: the engine, or in a cluster gateway every shard's replica behind one."""
    sequencer: AnySequencer
    renderer: Renderer
    hub: Hub
    history: MarketHistory
    fills: FillHistory
    users: UserStore
    sessions: SessionManager
    handshake_limiter: RateLimiter
    login_limiter: RateLimiter
    user_messages: RateLimiter
    """Each user's message bucket, shared by all of the user's connections."""
    control: MarketControl
    journal: Journal | None
    """None in a cluster gateway: the shard's stream is the journal."""
    revocations: Revocations | None
    """In a cluster gateway: logouts announced to and heard from the other gateways."""
    market_data: MarketFeed | None = None
    """In a cluster gateway: the shards' market data, which the hub relays."""
    agents: AgentRunner | None = None
    recovered_at: int = 0
    """The last command the market was recovered with at start (0: a new market)."""
    loop_lag: LoopLag = field(default_factory=LoopLag)
    heap: HeapPolicy = field(default_factory=HeapPolicy)
    snapshot_pid: int | None = None
    """The forked child writing a snapshot, while one runs."""
    snapshotter: Snapshotter | None = None
    """The snapshot process's end, with a segment journal."""
    round_book: RoundBook | None = None
    """The running round's counts and samples (rounds.py), a read model fed every result like `fills`."""
    rounds: Rounds = field(init=False)
    scenarios: Scenarios = field(init=False)
    latency: LatencyGate = field(init=False)

    @classmethod
    def build(cls, settings: Settings, data_dir: Path, *, reset: bool = False) -> Venue:
        """The venue of `data_dir`; in a cluster gateway (`cluster.nats_url`), a replica of the market's stream.

        A replica starts from each shard's published snapshot and replays the rest of its stream once its
        sequencer starts (`lifespan`): it keeps no journal of its own, as the stream is the journal.
        """
        store_url = settings.store.url
        journal: Journal | None = None
        sequencer: AnySequencer
        revocations: Revocations | None = None
        snapshotter: Snapshotter | None = None
        queue_limit = settings.traffic.queued_per_user
        cmd_flush = PassFlush()
        if settings.cluster.nats_url:
            from ..cluster.sequencer import StreamSequencer
            from ..cluster.sessions import Revocations

            if reset:
                raise ConfigError("--reset does not apply to a cluster gateway: the market is the shard's stream")
            from ..cluster.snapshots import ReadModels

            _, history, fills = new_market(settings)
            url = settings.cluster.nats_url
            sequencer = StreamSequencer.for_layout(settings, url, queue_limit, ReadModels(history, fills))
            engine: MarketQueries = sequencer.engine
            round_book = None
            revocations = Revocations(sequencer)
        else:
            journal = market_journal(settings, data_dir)
            if reset:
                journal.reset()
                log.info(
                    "--reset: opened a new market (empty books, every account back to its opening cash); users kept"
                )
            core, history, fills, round_book = recover(settings, journal, data_dir)
            if isinstance(journal, SegmentJournal):
                keep = settings.journal.keep_segments
                snapshotter = Snapshotter(journal.dir, keep, new_market(settings), lambda: core.seq)
            sequencer = Sequencer(core, journal, queue_limit=queue_limit, outgoing=cmd_flush)
            engine = core
        renderer = Renderer(engine)
        session = settings.session
        users = UserStore(
            Database.choose(store_url, data_dir, USERS_DB), session.password_profile, session.password_min_length
        )
        sessions = SessionStore(Database.choose(store_url, data_dir, USERS_DB))
        venue = cls(
            settings=settings,
            engine=engine,
            sequencer=sequencer,
            renderer=renderer,
            hub=Hub(engine, renderer, cmd_flush),
            history=history,
            fills=fills,
            users=users,
            sessions=SessionManager(int(session.token_ttl_s * 1000), sessions, users.get),
            handshake_limiter=RateLimiter(session.handshake_per_ip.burst, session.handshake_per_ip.per_second),
            login_limiter=RateLimiter(session.login_per_user.burst, session.login_per_user.per_second),
            user_messages=user_limiter(settings.traffic),
            journal=journal,
            revocations=revocations,
            recovered_at=engine.seq,
            control=MarketControl(data_dir),
            round_book=round_book,
            snapshotter=snapshotter,
        )
        checkpoint = venue.checkpoint if journal is not None else None
        venue.sequencer.subscribe(Recorder(venue, settings.journal.snapshot_every, checkpoint).on_result)
        venue.sequencer.subscribe(venue.hub.on_result)
        venue.rounds = Rounds(venue, data_dir)
        if settings.cluster.nats_url:
            from ..cluster.mdfeed import MarketFeed
            from ..cluster.sequencer import StreamSequencer
            from .stream_rounds import StreamRounds

            assert isinstance(sequencer, StreamSequencer)
            venue.rounds.cluster = StreamRounds(venue, venue.rounds, sequencer)
            venue.market_data = MarketFeed(sequencer, venue.hub.relay, venue.hub.resynced)
            venue.hub.relay_from(venue.market_data)
        venue.scenarios = Scenarios(venue, Path(settings.scenarios.dir))
        lag = settings.latency
        venue.latency = LatencyGate(lag.default_ms, {str(r): ms for r, ms in lag.roles.items()}, lag.users)
        return venue

    def market(self) -> Served:
        """The state a snapshot saves."""
        return self.engine, self.history, self.fills, self.round_book

    def start_snapshots(self) -> None:
        """As the server starts, or once the market was replaced: the snapshot process follows the journal."""
        if self.snapshotter is not None:
            self.snapshotter.start(self.round_book is not None)

    def restart_snapshots(self) -> None:
        """A round ended: a new snapshot process, without the round's book."""
        if self.snapshotter is not None:
            self.snapshotter.restart(self.round_book is not None)

    def checkpoint(self) -> None:
        """Snapshot the market, so that a restart replays only what follows: by the snapshot process, or
        (the database journal) in a forked child.

        A snapshot is an optimisation: when one is still being written, or its writer fails, the journal
        still holds every command, so this one is skipped or the failure logged, and trading goes on.
        Every command through `engine.seq` is durable here: the sequencer applies none before.
        """
        if self.snapshot_pid is not None:
            log.warning("a snapshot is still being written at command %d; this one is skipped", self.engine.seq)
            return
        if self.journal is None:
            return
        seq = self.engine.seq
        self.journal.roll()
        if self.snapshotter is not None:
            self.snapshotter.snapshot(seq, self.round_book is not None)
            return
        started = time.perf_counter()
        self.snapshot_pid = fork_snapshot(self.journal.save_snapshot, seq, self.market())
        held_ms = (time.perf_counter() - started) * 1000
        asyncio.get_running_loop().call_later(SNAPSHOT_POLL_S, self._reap_snapshot, seq, held_ms)

    def _reap_snapshot(self, seq: int, held_ms: float) -> None:
        """Poll the snapshot child (no thread to outlive the loop); log how it ended."""
        if self.snapshot_pid is None:
            return  # close() waited for it
        pid, status = os.waitpid(self.snapshot_pid, os.WNOHANG)
        if pid == 0:
            asyncio.get_running_loop().call_later(SNAPSHOT_POLL_S, self._reap_snapshot, seq, held_ms)
            return
        self.snapshot_pid = None
        if os.waitstatus_to_exitcode(status) == 0:
            log.info("snapshot at command %d written by a child process (the fork held the loop %.1f ms)", seq, held_ms)
        else:
            log.error("snapshot at command %d failed (see the error above); the journal still covers it", seq)

    def close(self) -> None:
        """Wait for a snapshot being written, write the last one in-process, and close the journal."""
        if self.snapshotter is not None:
            self.snapshotter.stop()
        if self.snapshot_pid is not None:
            os.waitpid(self.snapshot_pid, 0)
            self.snapshot_pid = None
        if self.journal is None:
            return
        try:
            self.journal.save_snapshot(self.engine.seq, self.market())
        except StoreUnavailable as exc:
            log.error("snapshot at command %d failed (%s); the journal still covers it", self.engine.seq, exc)
        self.journal.close()


def market_journal(settings: Settings, data_dir: Path, *, migrate_legacy: bool = True) -> Journal:
    """The journal `settings` choose for `data_dir`; a SQLite `market.db` from before segments moves over first.

    Without `migrate_legacy` (`hftsim journal truncate`) a data directory not yet migrated yields its old
    journal, so the repair a failed migration asks for works on the journal that failed.
    """
    j = settings.journal
    if j.store == "files" and not migrate_legacy:
        old = legacy_journal(data_dir)
        if old is not None:
            return old
    url = settings.store.url
    journal = open_journal(
        j.store, data_dir, url, j.durability, segment_bytes=j.segment_bytes, keep_segments=j.keep_segments
    )
    if isinstance(journal, SegmentJournal) and migrate_legacy:
        try:
            migrate(data_dir, journal)
        except BaseException:
            journal.close()
            raise
    return journal


def new_market(settings: Settings) -> tuple[Engine, MarketHistory, FillHistory]:
    engine = settings.new_engine()
    return engine, MarketHistory([i.sym for i in engine.instruments]), FillHistory()


def recover(settings: Settings, journal: Journal, data_dir: Path) -> Market:
    """The market as the journal left it: snapshot, then every intact later command replayed.

    A torn journal tail is cut into a quarantine file in `data_dir`; damage anywhere else raises a StoreError.
    """
    snapshot = journal.load_snapshot()
    round_book: RoundBook | None = None
    if snapshot is None:
        engine, history, fills = new_market(settings)
    else:
        _, (engine, history, fills, *saved_book) = snapshot  # snapshots from before rounds hold no round book
        round_book = saved_book[0] if saved_book else None
        if getattr(engine, "rules", 1) != RULES:
            raise ConfigError(
                "the market in this data directory was saved by an engine with other trading rules (an older "
                "version); start it with --reset to open a new market (user accounts are kept), or use another "
                "--data-dir"
            )
        fresh = settings.new_engine()
        if (list(engine.instruments), engine.limits, engine.initial_cash) != (
            list(fresh.instruments),
            fresh.limits,
            fresh.initial_cash,
        ):
            raise ConfigError(
                "the market in this data directory was created with other symbols, limits or initial cash; "
                "start it with --reset to open a new market (user accounts are kept), or use another --data-dir"
            )
    replayed = 0
    for seq, ts, command in verified(journal, engine.seq, data_dir):
        result = engine.apply(command, ts)
        if result.seq != seq:
            raise RuntimeError(f"journal replay diverged: command {seq} became {result.seq}")
        record(result, (engine, history, fills, round_book))
        replayed += 1
    if snapshot is not None or replayed:
        log.info("recovered the market at command %d (%d replayed from the journal)", engine.seq, replayed)
    return engine, history, fills, round_book
