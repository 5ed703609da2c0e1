"""Rounds and restores on a cluster: markers in every shard's stream, applied everywhere at one position.

Two gateway processes (sharing one data directory, as on one machine) and
both shards as `hftsim engine` processes, on a real
nats-server, used through the real client: a round started on one gateway
resets the accounts the other shows, both score the round identically,
a restore brings both gateways and the shards to one state hash, and a
shard killed after a round reset resumes to the same hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from market_client import MarketClient

from hftsim.cluster.connection import connect
from hftsim.testing import ClusterProcesses, cluster_processes

WAIT_S = 30.0
SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
ADMIN = ("boss", "boss-pass-1")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcesses]:
    with cluster_processes(tmp_path_factory.mktemp("rounds"), SHARDS, {"rounds": {"sample_s": 0.1}}) as processes:
        processes.gateways[0].add_user(*ADMIN, role="admin")
        yield processes


@asynccontextmanager
async def admins(cluster: ClusterProcesses) -> AsyncIterator[list[MarketClient]]:
    """The admin logged in on each gateway."""
    one, two = cluster.gateways
    async with (
        await MarketClient.connect(one.url, username=ADMIN[0], password=ADMIN[1]) as on_one,
        await MarketClient.connect(two.url, username=ADMIN[0], password=ADMIN[1]) as on_two,
    ):
        yield [on_one, on_two]


async def until(what: str, check: Callable[[], Awaitable[Any]]) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (value := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return value


async def within(seconds: float, check: Callable[[], Awaitable[Any]]) -> bool:
    """Whether `check` holds within `seconds` (no failure when it does not)."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def shard_hashes(cluster: ClusterProcesses) -> dict[str, tuple[int, str]]:
    """Each shard process's (command, state hash), asked over NATS."""
    nc = await connect(cluster.nats_url, "test-rounds")
    try:
        found = {}
        for shard in cluster.shards:
            reply = orjson.loads((await nc.request(f"hftsim.query.{shard.name}", b'{"op": "state"}', timeout=5)).data)
            found[shard.name] = (reply["seq"], reply["state_hash"])
        return found
    finally:
        await nc.close()


def venue_hash(shards: dict[str, tuple[int, str]]) -> str:
    """What a gateway's snapshot reports for a market whose shards have these hashes (gateway/control.py)."""
    market = hashlib.sha256("".join(shards[name][1] for name in SHARDS).encode()).hexdigest()
    return hashlib.sha256(market.encode()).hexdigest()


async def trade(buyer: MarketClient, seller: MarketClient, sym: str, price: str, qty: int) -> None:
    await buyer.place_order(sym, "buy", price, qty)
    sold = await seller.place_order(sym, "sell", price, qty)
    assert sold["order"]["status"] == "filled", sold


async def test_a_round_started_on_one_gateway_resets_and_scores_the_same_on_the_other(
    cluster: ClusterProcesses,
) -> None:
    one, two = cluster.gateways
    async with (
        admins(cluster) as (boss, boss_two),
        await MarketClient.connect(two.url) as alice,
        await MarketClient.connect(one.url) as bob,
    ):
        await trade(alice, bob, "ACME", "99.50", 10)
        await alice.place_order("EMBR", "buy", "28000.0", 1)  # a resting order the reset removes
        assert [p["sym"] for p in (await alice.get_account())["positions"]] == ["ACME"]

        started = await boss.admin.start_round("heat")
        assert (started["round_id"], started["status"]) == (1, "running")
        listed = await until("gateway two to start the round", lambda: _current(boss_two))
        assert listed["round_id"] == 1 and listed["name"] == "heat"
        account = await alice.get_account()  # alice is on gateway two
        assert account["positions"] == [] and await alice.list_orders() == []
        async with await MarketClient.connect(two.url) as newcomer:
            assert account["cash"] == (await newcomer.get_account())["cash"]  # the opening cash, fees and all undone

        await trade(alice, bob, "ACME", "99.50", 10)
        await trade(bob, alice, "EMBR", "29000.0", 2)
        prices = itertools.cycle(("99.00", "100.50"))
        for _ in range(40):  # the mark moves between samples until the curves have a Sharpe
            await trade(alice, bob, "ACME", next(prices), 1)
            if await within(0.5, lambda: _sampled(boss)):
                break
        else:
            raise AssertionError("40 moves of the mark and still no Sharpe: the PnL is not sampled")
        await trade(alice, bob, "ACME", "100.00", 1)
        await boss.admin.pause()  # on a cluster a pause is the gateway's own: with both paused no more samples
        await boss_two.admin.pause()
        live = await until("both gateways to score the round alike", lambda: _scored_alike(boss, boss_two))
        ended = await boss.admin.end_round()
        assert ended["round"]["status"] == "ended" and ended["round"]["marks"]["ACME"] == "100.00"
        assert [(r["username"], r["sharpe"], r["max_drawdown"], r["volume"]) for r in live] == [
            (r["username"], r["sharpe"], r["max_drawdown"], r["volume"]) for r in ended["scores"]
        ]  # the end adds the last sample, at the same marks
        scores = {r["username"]: r for r in ended["scores"]}
        assert {alice.user["username"], bob.user["username"]} <= set(scores)  # type: ignore[index]
        assert any(r["sharpe"] is not None or r["max_drawdown"] != "0" for r in ended["scores"])

        on_two = await until("gateway two to archive the round", lambda: _archived(boss_two, 1))
        assert on_two == {k: ended[k] for k in ("round", "scores")}
        assert (await boss.admin.round_results(1)) == on_two
        status = await alice.send("market.status")
        assert status["paused"] is True  # every gateway paused at the round's end


async def test_a_restore_on_one_gateway_gives_one_state_hash_everywhere(cluster: ClusterProcesses) -> None:
    async with admins(cluster) as (boss, boss_two):
        await boss.admin.resume()
        await boss_two.admin.resume()
        async with await MarketClient.connect(cluster.gateways[1].url) as carol:
            await carol.place_order("BOLT", "buy", "42.00", 3)
            # A snapshot is of the gateway's own replicas: gateway one must have applied carol's order first.
            await until("gateway one to show carol's bid", lambda: _bids(boss, "BOLT"))
            saved = await boss.admin.snapshot("before")
            await carol.place_order("DUNE", "buy", "1.200", 400)
            restored = await boss.admin.restore(saved["snapshot_id"])
            assert restored["state_hash"] == saved["state_hash"] and restored["paused"] is True

            agreed = lambda: _agreed(cluster, boss, boss_two)  # noqa: E731
            await until("both gateways and both shards to reach one state", agreed)
            assert [o["sym"] for o in await carol.list_orders()] == ["BOLT"]  # the order placed after is gone


async def test_a_shard_killed_after_a_round_reset_resumes_to_the_same_hash(cluster: ClusterProcesses) -> None:
    async with admins(cluster) as (boss, boss_two):
        await boss.admin.start_round("heat two")
        await until("gateway two to start the round", lambda: _current(boss_two))  # and resume there
        async with await MarketClient.connect(cluster.gateways[1].url) as dave:
            for i in range(3):
                await dave.place_order("ACME", "buy", f"98.{i}0", 1)
        await boss.admin.end_round()  # every gateway paused: no more samples, the streams stand still
        before = await until("the shards and the gateways to agree", lambda: _agreed(cluster, boss, boss_two))
        shard = cluster.shards[0]
        shard.kill()
        shard.start()
        after = await until("shard a to come back", lambda: _at(cluster, before))
        assert after == before


async def _bids(client: MarketClient, sym: str) -> list[Any]:
    bids: list[Any] = (await client.get_book(sym, depth=1))["bids"]
    return bids


async def _current(client: MarketClient) -> dict[str, Any] | None:
    current: dict[str, Any] | None = (await client.admin.rounds())["current"]
    return current


async def _sampled(client: MarketClient) -> bool:
    rows = (await client.admin.round_results())["scores"]
    return any(r["sharpe"] is not None for r in rows)


async def _scored_alike(one: MarketClient, two: MarketClient) -> list[dict[str, Any]] | None:
    """The running round's scores, once each gateway computes the same from its own replicas."""
    rows: list[dict[str, Any]] = (await one.admin.round_results())["scores"]
    return rows if rows == (await two.admin.round_results())["scores"] else None


async def _archived(client: MarketClient, round_id: int) -> dict[str, Any] | None:
    listed = await client.admin.rounds()
    if round_id not in [r["round_id"] for r in listed["rounds"]]:
        return None
    return await client.admin.round_results(round_id)


async def _agreed(cluster: ClusterProcesses, *on_each: MarketClient) -> dict[str, tuple[int, str]] | None:
    """The shards' commands and hashes, once every gateway's replicas hash as the shards do."""
    shards = await shard_hashes(cluster)
    gateways = {(await admin.admin.snapshot())["state_hash"] for admin in on_each}
    return shards if gateways == {venue_hash(shards)} else None


async def _at(cluster: ClusterProcesses, expected: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]] | None:
    try:
        found = await shard_hashes(cluster)
    except Exception:
        return None
    return found if found["a"][0] >= expected["a"][0] else None
