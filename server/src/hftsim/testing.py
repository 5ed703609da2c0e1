"""Run a real `hftsim serve` in a subprocess, for tests and benchmarks.

Tests talk to the server exactly as users do: over loopback, through the
public protocol. Settings go in as HFTSIM_* environment variables (one
JSON value per table, merged over the shipped defaults).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .cluster.natsserver import NatsServer
from .compiled import GROUPS

TEST_DEFAULTS: dict[str, Any] = {
    "session": {
        "password_profile": "CHEAPEST",
        "password_min_length": 1,
        "handshake_per_ip": {"burst": 100_000, "per_second": 10_000},
        "login_per_user": {"burst": 100_000, "per_second": 10_000},
    },
    "traffic": {
        "per_connection": {"burst": 100_000, "per_second": 100_000},
        "per_user": {"burst": 100_000, "per_second": 100_000},
        "queued_per_user": 10_000,
    },
    "limits": {"max_open_orders": 10**9, "max_active_volume": 10**15},
    "testing": {"enable_hooks": True},
}
"""Limits high enough that only the tests of the limits meet them; cheap hashes and short passwords for
throwaway test accounts (the password policy's own tests set it back)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        *,
        bots: bool = False,
        seed: int = 1,
        config: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        port: int | None = None,
        log_level: str = "warning",
        args: tuple[str, ...] = (),
        launcher: tuple[str, ...] = (sys.executable, "-m", "hftsim"),
    ) -> None:
        """`args`: more `hftsim serve` options, e.g. ("--scenario", path, "--paused").

        `launcher`: the command that stands for `hftsim`, e.g. the same run under valgrind (bench/instructions.py).
        """
        self.data_dir = data_dir
        self._args = args
        self._launcher = launcher
        self._log_level = log_level
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._bots = bots
        self._seed = seed
        self._config = _merge(TEST_DEFAULTS, config or {})
        self._env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{f"HFTSIM_{k.upper()}": json.dumps(v) for k, v in self._config.items()}, **self._env}
        cmd = [
            *self._launcher,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--seed",
            str(self._seed),
            "--log-level",
            self._log_level,
        ]
        if not self._bots:
            cmd.append("--no-bots")
        cmd += self._args
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self._proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"hftsim serve exited with {self._proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"hftsim serve did not become healthy in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "the server is not running"
        return self._proc.pid

    def kill(self) -> None:
        """End the server abruptly (SIGKILL), as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def add_user(self, name: str, password: str, role: str = "trader") -> None:
        """Add a user through the real CLI, as an operator would."""
        self.cli("users", "add", name, "--role", role, "--password", password)

    def cli(self, *args: str) -> str:
        """Run `hftsim ARGS --data-dir DATA_DIR` with this server's settings; its standard output."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{f"HFTSIM_{k.upper()}": json.dumps(v) for k, v in self._config.items()}}
        done = subprocess.run(
            [sys.executable, "-m", "hftsim", *args, "--data-dir", str(self.data_dir)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"hftsim {' '.join(args)} exited with {done.returncode}: {done.stderr}")
        return done.stdout


class ShardProcess:
    """`hftsim engine` for one shard of a cluster's layout, snapshotting every few commands (a restart starts
    from one); `config` as ServerProcess's, merged over TEST_DEFAULTS by the caller."""

    def __init__(self, name: str, nats_url: str, data_dir: Path, config: dict[str, Any]) -> None:
        self.name = name
        self.args = [
            sys.executable, "-m", "hftsim", "engine", "--shard", name, "--nats", nats_url,
            "--data-dir", str(data_dir), "--snapshot-every", "4",
        ]  # fmt: skip
        self.env = {**os.environ, **{f"HFTSIM_{k.upper()}": json.dumps(v) for k, v in config.items()}}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@dataclass
class ClusterProcesses:
    nats_url: str
    gateways: list[ServerProcess]
    shards: list[ShardProcess]


@contextmanager
def cluster_processes(
    where: Path, shards: dict[str, list[str]], config: dict[str, Any] | None = None, *, announce: bool = False
) -> Iterator[ClusterProcesses]:
    """A nats-server, one `hftsim engine` per shard (they publish the market data) and two gateways over them,
    sharing one users' database; `config` goes to all of them; `announce`: the gateways list each other's
    address for the website (`cluster.gateways`)."""
    with ExitStack() as stack:
        nats_server = stack.enter_context(NatsServer(where / "nats"))
        ports = [free_port(), free_port()]
        cluster: dict[str, Any] = {"nats_url": nats_server.url, "shards": shards}
        if announce:
            cluster["gateways"] = [f"http://127.0.0.1:{port}" for port in ports]
        settings = {**(config or {}), "cluster": cluster}
        started = [
            ShardProcess(name, nats_server.url, where / f"shard-{name}", {**TEST_DEFAULTS, **settings})
            for name in shards
        ]
        for shard in started:
            shard.start()
            stack.callback(shard.kill)
        gateways = []
        for name, port in zip(("one", "two"), ports, strict=True):
            gateway = ServerProcess(where / "data", port=port, config=settings)
            gateway.log_path = where / f"gateway-{name}.log"
            gateway.start()
            stack.callback(gateway.stop)
            gateways.append(gateway)
        yield ClusterProcesses(nats_server.url, gateways, started)


COMPILED_LIBRARIES = tuple(group.library for group in GROUPS.values())
"""The shared libraries of the compiled groups: the engine core with the gateway's order path, the simulation."""
BLOCK_COMPILED = """
import importlib.abc
import sys


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith({libraries!r}):
            raise ImportError("blocked by the test")
        return None


sys.meta_path.insert(0, Block())
"""
"""A sitecustomize that makes the named compiled libraries fail to import, as a broken build would."""


def without_compiled_code(site_dir: Path, libraries: tuple[str, ...] = COMPILED_LIBRARIES) -> dict[str, str]:
    """Environment for a child Python (or server) whose compiled `libraries` (all by default) cannot import."""
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "sitecustomize.py").write_text(BLOCK_COMPILED.format(libraries=libraries))
    return {"PYTHONPATH": str(site_dir)}


@contextmanager
def server_process(
    data_dir: Path,
    *,
    bots: bool = False,
    seed: int = 1,
    config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    admins: Mapping[str, str] | None = None,
    traders: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """A started server, stopped on exit; `admins` and `traders` (name -> password) are added before it starts."""
    server = ServerProcess(data_dir, bots=bots, seed=seed, config=config, env=env, args=args)
    for role, users in (("admin", admins), ("trader", traders)):
        for name, password in (users or {}).items():
            server.add_user(name, password, role=role)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def postgres_bin_dir() -> Path:
    """Debian's PostgreSQL server binaries (`apt-get install postgresql`)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql (make test does)")
    return found[-1].parent


class PostgresServer:
    """A throwaway PostgreSQL server on a loopback port that can be stopped and started again on that port.

    PostgreSQL refuses to run as root, so as root the server runs as the
    `postgres` system user that Debian's package creates (in a folder of its
    own under the system temp dir, which that user can reach).
    """

    def __init__(self) -> None:
        self._bin = postgres_bin_dir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="hftsim-pg-"))
        self._data = self.base_dir / "pgdata"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.base_dir, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.url = f"postgresql://hftsim@127.0.0.1:{self.port}/postgres"
        """An admin URL."""
        initdb = [str(self._bin / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "hftsim", "--no-sync"]
        subprocess.run(
            [*self._as_user, *initdb],
            check=True,
            capture_output=True,
        )

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self._data), *args], check=check, capture_output=True
        )

    def start(self) -> None:
        """Start, and return once it accepts connections."""
        options = f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.base_dir / "pg.log"), "-w", "start")

    def stop(self) -> None:
        """Shut down as an operator would: clients lose their connections, committed work is kept.

        Not `immediate`: with `synchronous_commit = off` (the journal's "normal" sync) that would also
        drop the last acknowledged transactions, which is a power loss, not an outage.
        """
        self._ctl("-m", "fast", "-w", "stop", check=False)

    def remove(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base_dir, ignore_errors=True)


@contextmanager
def postgres_instance() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server on a loopback port; yields an admin URL."""
    with postgres_instance() as server:
        yield server.url
