"""The FastAPI application factory.

`create_app` builds the venue and mounts the routes; the lifespan starts
the background work (heartbeats, in-process agents) and stops it again,
closing every socket with 1012 so clients know to reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .. import compiled
from ..config import ConfigError, Settings
from ..protocol.errors import ProtocolError
from . import admin_control, admin_latency, admin_rounds, admin_scenarios, admin_users  # noqa: F401  (ops)
from .control import set_paused
from .dispatch import Dispatcher
from .exports import router as exports_router
from .hosts import HostGuard, HostRules, allowed_hosts
from .http import router as http_router
from .outbox import CLOSE_SERVICE_RESTART
from .sockets import SocketServer
from .venue import Venue

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"

NOT_BUILT = """<!doctype html><title>HFT Simulator</title>
<body style="font-family:sans-serif;background:#111;color:#ddd;padding:2em">
<h1>HFT Simulator</h1><p>The server is running, but the website has not been built.
Run <code>make run</code> (or <code>make web</code>) from the repository root.</p></body>"""


def hard_frame_limit(settings: Settings) -> int:
    """Frames above the message limit get an error response; above this one the socket is closed (1009)."""
    return max(1024 * 1024, settings.server.max_message_bytes * 2)


def create_app(
    settings: Settings,
    data_dir: Path,
    *,
    seed: int = 1,
    bots: bool = True,
    reset: bool = False,
    bind_host: str = "127.0.0.1",
    scenario: Path | None = None,
    paused: bool = False,
) -> FastAPI:
    """`scenario`: a scenario file to play from the start; `paused`: start with the market paused."""
    venue = Venue.build(settings, data_dir, reset=reset)
    if bots and settings.sim.enabled and settings.cluster.nats_url:
        log.warning("a cluster gateway hosts no agents: run them against any gateway with `hftsim bots`")
    elif bots and settings.sim.enabled:
        from .agents import start_agents

        venue.agents = start_agents(venue, seed)
    if paused:
        set_paused(venue, True)
    if scenario is not None:
        try:
            venue.scenarios.start(scenario)
        except ProtocolError as exc:
            raise ConfigError(f"--scenario: {exc.message}") from None

    dispatcher = Dispatcher(venue)

    def log_out(session_key: str) -> None:
        """Another gateway took this session's logout: forget it here too and close its sockets."""
        venue.sessions.forget(session_key)
        dispatcher.sockets.log_out(session_key)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for group in compiled.GROUPS.values():
            log.log(logging.INFO if group.compiled else logging.WARNING, group.note)
        await venue.sequencer.start()
        if venue.revocations is not None:
            await venue.revocations.start(log_out)
        heartbeat = asyncio.create_task(venue.hub.heartbeats(settings.server.heartbeat_ms))
        lag = asyncio.create_task(venue.loop_lag.watch(), name="hftsim-loop-lag")
        venue.heap.start()
        venue.start_snapshots()
        if venue.agents is not None:
            venue.agents.start()
        venue.rounds.start_background()
        try:
            yield
        finally:
            await venue.rounds.stop()
            if venue.agents is not None:
                await venue.agents.stop()
            heartbeat.cancel()
            lag.cancel()
            venue.heap.stop()
            if venue.market_data is not None:
                await venue.market_data.stop()
            await venue.sequencer.stop()
            venue.hub.close_all(CLOSE_SERVICE_RESTART, "server shutting down")
            await asyncio.sleep(0.05)
            venue.close()

    app = FastAPI(title="HFT Simulator", lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    app.state.dispatcher = dispatcher
    app.state.venue = venue
    server = settings.server
    rules = HostRules(allowed_hosts(bind_host, server.allowed_hosts), server.allowed_origins)
    app.state.sockets = SocketServer(dispatcher, rules, hard_frame_limit(settings))
    app.add_middleware(HostGuard, rules=rules)
    app.include_router(http_router)
    app.include_router(exports_router)
    if (STATIC_DIR / "index.html").is_file():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    else:

        @app.get("/", include_in_schema=False)
        async def not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)

    return app
