"""`hftsim serve`: the venue behind uvicorn, the banner once it listens, one log format for both.

Kept apart from the CLI so that `hftsim users ...` does not import the web
stack, and so that the start-up order is in one place: settings and port
are checked before the market is opened (a taken port is a one-line
refusal, not a traceback after the journal was read), and the banner is
printed only once the socket really listens.
"""

from __future__ import annotations

import errno
import logging
import logging.config
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn

from .banner import Listening, banner
from .config import Settings
from .gateway.app import create_app
from .gateway.request_deadline import deadline_protocol
from .logs import LogFormat, log_config


class UserError(Exception):
    """A mistake the person starting the server can fix; the message says how."""


def check_port_free(host: str, port: int) -> None:
    """Refuse a port another process holds before the market is opened (uvicorn would only say so later)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} is in use (another hftsim serve?); stop it, or pick another: --port N "
                    "(make run: PORT=N make run)"
                ) from None
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port") from None


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory on the first start; refuse a path that cannot be one."""
    if data_dir.exists() and not data_dir.is_dir():
        raise UserError(f"{data_dir} is a file, not a data directory; check --data-dir")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the data directory {data_dir} ({exc.strerror}); check --data-dir") from None


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, which prints the banner once it listens (never before the port is really open)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], str]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            print(self._announce(), flush=True)


def serve(
    settings: Settings,
    where: Listening,
    *,
    bots: bool,
    reset: bool,
    log_level: str,
    log_format: LogFormat,
    version: str,
    scenario: Path | None = None,
    paused: bool = False,
) -> None:
    """Open the market in `where.data_dir` and serve it until interrupted."""
    check_port_free(where.host, where.port)
    prepare_data_dir(where.data_dir)
    logs = log_config(log_level, log_format)
    logging.config.dictConfig(logs)
    app = create_app(
        settings,
        where.data_dir,
        seed=where.seed,
        bots=bots,
        reset=reset,
        bind_host=where.host,
        scenario=scenario,
        paused=paused,
    )
    config = uvicorn.Config(
        app,
        host=where.host,
        port=where.port,
        log_level=log_level,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=deadline_protocol(settings.server.request_deadline_s, app.state.sockets.upgrade),
        ws="none",  # the WebSocket routes are served by picows (gateway/transport.py)
        access_log=False,
        log_config=logs,
    )
    server = AnnouncingServer(config, lambda: banner(app.state.venue, where, version, reset=reset))
    server.run()
    if not server.started:
        raise UserError(f"the server did not start on {where.host}:{where.port}; the lines above say why")
