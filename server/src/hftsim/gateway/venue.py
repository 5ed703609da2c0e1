"""Everything one running exchange is made of, wired together once.

The FastAPI app, the CLI and the tests build a Venue from settings; the
routes only ever reach the parts through it. Building a venue recovers the
market from its data directory: the latest snapshot, then the journal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ConfigError, Settings
from ..engine import Engine, OrderFilled, Result, Trade
from ..engine.engine import RULES
from ..engine.instruments import cash_decimals
from ..protocol.render import Renderer
from ..store.database import Database
from ..store.errors import StoreUnavailable
from ..store.history import FillHistory, MarketHistory
from ..store.integrity import verified
from ..store.journal import Journal
from ..store.sessions import SessionStore
from ..store.users import UserStore
from .hub import Hub
from .looplag import LoopLag
from .ratelimit import RateLimiter
from .sequencer import Sequencer
from .sessions import SessionManager
from .traffic import user_limiter

if TYPE_CHECKING:
    from ..sim.runner import AgentRunner

log = logging.getLogger(__name__)

MARKET_DB = "market.db"
USERS_DB = "hftsim.db"


@dataclass(slots=True)
class Venue:
    settings: Settings
    engine: Engine
    sequencer: Sequencer
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
    journal: Journal
    agents: AgentRunner | None = None
    recovered_at: int = 0
    """The last command the market was recovered with at start (0: a new market)."""
    loop_lag: LoopLag = field(default_factory=LoopLag)

    @classmethod
    def build(cls, settings: Settings, data_dir: Path, *, reset: bool = False) -> Venue:
        store_url = settings.store.url
        journal = Journal(Database.choose(store_url, data_dir, MARKET_DB), settings.journal.sync)
        if reset:
            journal.reset()
            log.info("--reset: opened a new market (empty books, every account back to its opening cash); users kept")
        engine, history, fills = recover(settings, journal, data_dir)
        renderer = Renderer(engine)
        session = settings.session
        users = UserStore(
            Database.choose(store_url, data_dir, USERS_DB), session.password_profile, session.password_min_length
        )
        sessions = SessionStore(Database.choose(store_url, data_dir, USERS_DB))
        venue = cls(
            settings=settings,
            engine=engine,
            sequencer=Sequencer(engine, journal, queue_limit=settings.traffic.queued_per_user),
            renderer=renderer,
            hub=Hub(engine, renderer),
            history=history,
            fills=fills,
            users=users,
            sessions=SessionManager(int(session.token_ttl_s * 1000), sessions, users.get),
            handshake_limiter=RateLimiter(session.handshake_per_ip.burst, session.handshake_per_ip.per_second),
            login_limiter=RateLimiter(session.login_per_user.burst, session.login_per_user.per_second),
            user_messages=user_limiter(settings.traffic),
            journal=journal,
            recovered_at=engine.seq,
        )
        venue.sequencer.subscribe(venue._record)
        venue.sequencer.subscribe(venue.hub.on_result)
        return venue

    def _record(self, result: Result) -> None:
        record(result, self.history, self.fills)
        if result.seq % self.settings.journal.snapshot_every == 0:
            asyncio.get_running_loop().call_soon(self.checkpoint)

    def checkpoint(self) -> None:
        """Snapshot the market so that a restart replays only what follows.

        A snapshot is an optimisation: when the store refuses it, the journal
        still holds every command, so the failure is logged and trading goes on.
        """
        try:
            self.journal.save_snapshot(self.engine.seq, (self.engine, self.history, self.fills))
        except StoreUnavailable as exc:
            log.error("snapshot at command %d failed (%s); the journal still covers it", self.engine.seq, exc)

    def close(self) -> None:
        self.checkpoint()
        self.journal.close()


def record(result: Result, history: MarketHistory, fills: FillHistory) -> None:
    for ev in result.events:
        if isinstance(ev, Trade):
            history.on_trade(ev)
        elif isinstance(ev, OrderFilled):
            fills.on_fill(ev.fill)


def recover(settings: Settings, journal: Journal, data_dir: Path) -> tuple[Engine, MarketHistory, FillHistory]:
    """The market as the journal left it: snapshot, then every intact later command replayed.

    A torn journal tail is cut into a quarantine file in `data_dir`; damage anywhere else raises a StoreError.
    """
    instruments = settings.instruments()
    limits = settings.engine_limits()
    initial_cash = int(settings.accounts.initial_cash.scaleb(cash_decimals(instruments)))
    snapshot = journal.load_snapshot()
    if snapshot is None:
        engine = Engine(instruments, limits, initial_cash=initial_cash)
        history, fills = MarketHistory([i.sym for i in instruments]), FillHistory()
    else:
        _, (engine, history, fills) = snapshot
        if getattr(engine, "rules", 1) != RULES:
            raise ConfigError(
                "the market in this data directory was saved by an engine with other trading rules (before buying "
                "power); start it with --reset to open a new market (user accounts are kept), or use another --data-dir"
            )
        if (list(engine.instruments), engine.limits, engine.initial_cash) != (instruments, limits, initial_cash):
            raise ConfigError(
                "the market in this data directory was created with other symbols, limits or initial cash; "
                "start it with --reset to open a new market (user accounts are kept), or use another --data-dir"
            )
    replayed = 0
    for seq, ts, command in verified(journal, engine.seq, data_dir):
        result = engine.apply(command, ts)
        if result.seq != seq:
            raise RuntimeError(f"journal replay diverged: command {seq} became {result.seq}")
        record(result, history, fills)
        replayed += 1
    if snapshot is not None or replayed:
        log.info("recovered the market at command %d (%d replayed from the journal)", engine.seq, replayed)
    return engine, history, fills
