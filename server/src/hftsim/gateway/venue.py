"""Everything one running exchange is made of, wired together once.

The FastAPI app, the CLI and the tests build a Venue from settings; the
routes only ever reach the parts through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..engine import Engine, OrderFilled, Result, Trade
from ..engine.instruments import cash_decimals
from ..protocol.render import Renderer
from ..store.history import FillHistory, MarketHistory
from ..store.users import UserStore
from .hub import Hub
from .ratelimit import RateLimiter
from .sequencer import Sequencer
from .sessions import SessionManager

if TYPE_CHECKING:
    from ..sim.runner import AgentRunner


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
    agents: AgentRunner | None = None

    @classmethod
    def build(cls, settings: Settings, data_dir: Path) -> Venue:
        instruments = settings.instruments()
        initial_cash = settings.accounts.initial_cash.scaleb(cash_decimals(instruments))
        engine = Engine(instruments, settings.engine_limits(), initial_cash=int(initial_cash))
        renderer = Renderer(engine)
        venue = cls(
            settings=settings,
            engine=engine,
            sequencer=Sequencer(engine),
            renderer=renderer,
            hub=Hub(engine, renderer),
            history=MarketHistory([i.sym for i in instruments]),
            fills=FillHistory(),
            users=UserStore(data_dir / "hftsim.db", settings.session.password_profile),
            sessions=SessionManager(int(settings.session.token_ttl_s * 1000)),
            handshake_limiter=RateLimiter(
                settings.session.handshake_per_ip.burst, settings.session.handshake_per_ip.per_second
            ),
            login_limiter=RateLimiter(
                settings.session.login_per_user.burst, settings.session.login_per_user.per_second
            ),
        )
        venue.sequencer.subscribe(venue._record)
        venue.sequencer.subscribe(venue.hub.on_result)
        return venue

    def _record(self, result: Result) -> None:
        for ev in result.events:
            if isinstance(ev, Trade):
                self.history.on_trade(ev)
            elif isinstance(ev, OrderFilled):
                self.fills.on_fill(ev.fill)
