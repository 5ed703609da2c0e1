"""Latency injection: a user's added delay on order entry, measured, and who wins a race because of it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterator

import pytest
from market_client import MarketClient, ServerError

from hftsim.testing import ServerProcess, server_process

ADMIN = ("prof", "prof-pass-1")
DELAY_MS = 300


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(
        tmp_path_factory.mktemp("latency"),
        config={"latency": {"users": {"slow": DELAY_MS}}},
        admins=dict([ADMIN]),
        traders={name: f"{name}-pass-1" for name in ("slow", "fast")},
    ) as srv:
        yield srv


async def timed(coro: Awaitable[object]) -> float:
    started = time.monotonic()
    await coro
    return time.monotonic() - started


async def test_the_delay_is_measured_and_decides_the_race(venue: ServerProcess) -> None:
    url = venue.url
    async with (
        await MarketClient.connect(url, username="slow", password="slow-pass-1") as slow,
        await MarketClient.connect(url, username="fast", password="fast-pass-1") as fast,
        await MarketClient.connect(url) as maker,
        await MarketClient.connect(url, username=ADMIN[0], password=ADMIN[1]) as boss,
    ):
        assert slow.limits is not None and slow.limits["order_latency_ms"] == DELAY_MS
        assert fast.limits is not None and fast.limits["order_latency_ms"] == 0
        slow_rtt = [await timed(slow.place_order("ACME", "buy", "80.00", 1)) for _ in range(3)]
        fast_rtt = [await timed(fast.place_order("ACME", "buy", "80.00", 1)) for _ in range(3)]
        assert min(slow_rtt) >= DELAY_MS / 1000
        assert max(fast_rtt) < min(slow_rtt)
        assert await timed(slow.send("ping")) < DELAY_MS / 1000  # only order entry is delayed

        # A race for one lot: the slow user sends first, the fast one gets it.
        await maker.place_order("ACME", "sell", "100.00", 1)
        slow_buy = asyncio.ensure_future(slow.place_order("ACME", "buy", "100.00", 1, "IOC"))
        await asyncio.sleep(0.02)
        fast_buy = await fast.place_order("ACME", "buy", "100.00", 1, "IOC")
        assert fast_buy["order"]["filled_qty"] == 1
        assert (await slow_buy)["order"]["filled_qty"] == 0

        # An admin changes it at run time, per user or per role.
        table = await boss.send("admin.latency", {"username": "slow", "ms": 0})
        assert "slow" not in table["users"]
        assert await timed(slow.place_order("ACME", "buy", "80.00", 1)) < DELAY_MS / 1000
        await boss.send("admin.latency", {"role": "trader", "ms": 150})
        assert await timed(fast.place_order("ACME", "buy", "80.00", 1)) >= 0.15
        with pytest.raises(ServerError) as bad:
            await boss.send("admin.latency", {"role": "trader", "ms": -1})
        assert bad.value.code == "INVALID_FIELD"
        with pytest.raises(ServerError) as forbidden:
            await fast.send("admin.latency", {"ms": 0})
        assert forbidden.value.code == "FORBIDDEN"
