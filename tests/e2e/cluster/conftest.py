"""Fixtures for the website on a cluster: a nats-server and two gateways (`hftsim serve` on NATS, two shards).

The browser and the pages are the website tests' own (tests/e2e/web/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from hftsim.cluster.natsserver import NatsServer
from hftsim.testing import ServerProcess, free_port
from web.conftest import browser, built_site, new_page

__all__ = ["browser", "built_site", "new_page"]

SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
"""ACME and BOLT on one shard, CRUX, DUNE and EMBR on the other."""


@contextmanager
def two_gateways(where: Path) -> Iterator[list[ServerProcess]]:
    """A nats-server and two quiet gateways over it (no agents), sharing one users' database and
    announcing each other's address to the website (`cluster.gateways`)."""
    with ExitStack() as stack:
        nats_server = stack.enter_context(NatsServer(where / "nats"))
        ports = [free_port(), free_port()]
        cluster = {
            "nats_url": nats_server.url,
            "shards": SHARDS,
            "gateways": [f"http://127.0.0.1:{port}" for port in ports],
        }
        gateways = []
        for name, port in zip(("one", "two"), ports, strict=True):
            gateway = ServerProcess(
                where / "data", port=port, config={"cluster": cluster}
            )
            gateway.log_path = where / f"gateway-{name}.log"
            gateway.start()
            stack.callback(gateway.stop)
            gateways.append(gateway)
        yield gateways


@pytest.fixture
def cluster(tmp_path: Path, built_site: Path) -> Iterator[list[ServerProcess]]:
    """Two gateways over two shards, for one test."""
    with two_gateways(tmp_path) as gateways:
        yield gateways
