"""What the cluster tests share: one nats-server per module, and a two-shard layout named for each test."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hftsim.cluster.natsserver import NatsServer
from hftsim.config import Settings, load

_tests = itertools.count(1)


@pytest.fixture(scope="module")
def shared_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One nats-server for a module's tests: each test names its own shards, so their streams never meet."""
    with NatsServer(tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture
def two_shards() -> Settings:
    """ACME and BOLT on the first shard, CRUX, DUNE and EMBR on the second; names unique to the test."""
    n = next(_tests)
    return load(cluster={"shards": {f"t{n}a": ["ACME", "BOLT"], f"t{n}b": ["CRUX", "DUNE", "EMBR"]}})


class Shard:
    """`hftsim engine` for one shard of SHARDS, snapshotting every few commands (a restart starts from one)."""

    def __init__(self, name: str, url: str, data_dir: Path, config: dict[str, Any]) -> None:
        self.name = name
        self.args = [
            sys.executable, "-m", "hftsim", "engine", "--shard", name, "--nats", url,
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
