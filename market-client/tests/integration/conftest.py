"""Integration fixtures: a real `hftsim serve` per test, over loopback, no mocks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import MarketClient, StaleBook


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with server_process(tmp_path / "server") as srv:
        yield srv


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[MarketClient]:
    c = await MarketClient.connect(server.url)
    yield c
    await c.aclose()


async def eventually(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll `check` until it holds; fail the test with `what` after `timeout` seconds.

    A check that reads a book which is stale right now (StaleBook) does not hold yet.
    """
    deadline = time.monotonic() + timeout
    while not _holds(check):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def _holds(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except StaleBook:
        return False
