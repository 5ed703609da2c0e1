"""Fixtures shared across the server's test folders: a real PostgreSQL server; hypothesis without deadlines."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import psycopg
import pytest
from hypothesis import settings

from hftsim.testing import postgres_server

settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")
"""A property's examples are judged on what they compute, never on how long one took: on a loaded machine an
example that ran in 1 ms quiet can take 400 ms (speed is measured in bench/, not in tests)."""

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def new_postgres_db(postgres_admin_url: str) -> Callable[[], str]:
    """Make an empty database on the shared server; returns its URL."""

    def create() -> str:
        name = f"hftsim_test_{next(_names)}"
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"

    return create
