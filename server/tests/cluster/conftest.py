"""What the cluster tests share: one nats-server per module, and a two-shard layout named for each test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

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
