"""Two gateways over two shards' NATS streams, as real `hftsim serve` processes, used through the real client.

Both gateways share the users' database (one data directory), as two
gateways on one machine do; each follows both shards' streams into its
own replicas and relays the market data the shards (`hftsim engine`)
publish, so a client cannot tell which one it is on.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from market_client import MarketClient

from hftsim.testing import ServerProcess, cluster_processes

WAIT_S = 30.0
SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
QUICKSTART = Path(__file__).resolve().parents[3] / "market-client" / "examples" / "simple.py"


@contextmanager
def two_gateways(where: Path) -> Iterator[list[ServerProcess]]:
    """The two shards and two gateway processes over them, sharing one users' database."""
    with cluster_processes(where, SHARDS) as processes:
        yield processes.gateways


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    """Shared by the module's tests that leave both gateways running (each uses guests of its own)."""
    with two_gateways(tmp_path_factory.mktemp("cluster")) as gateways:
        yield gateways


@pytest.fixture
def doomed(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two gateways for a test that kills one."""
    with two_gateways(tmp_path) as gateways:
        yield gateways


class Heard:
    """A client's MD events, with a way to wait until one of them matches."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, found: Callable[[dict[str, Any]], bool], start: int = 0) -> dict[str, Any]:
        """The first event from the `start`-th on that matches."""
        async with asyncio.timeout(WAIT_S):
            while True:
                for event in self.events[start:]:
                    if found(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def sequences(self, sym: str) -> list[tuple[int, str]]:
        return [(e["payload"]["seq"], e["op"]) for e in self.events
                if e["op"] in ("md.delta", "md.trade") and e["payload"]["sym"] == sym]  # fmt: skip


async def trade(buyer: MarketClient, seller: MarketClient, heard: tuple[Heard, Heard], sym: str, price: str) -> None:
    """`buyer` rests a bid, `seller` (on the other gateway) hits it once it shows there; both hear the trade."""
    await buyer.place_order(sym, "buy", price, 10)
    await heard[1].until(lambda e: e["op"] == "md.delta" and e["payload"]["sym"] == sym
                         and [price, 10] in e["payload"]["bids"])  # fmt: skip
    sold = await seller.place_order(sym, "sell", price, 10)
    assert sold["order"]["status"] == "filled"
    for each in heard:
        done = await each.until(lambda e: e["op"] == "md.trade" and e["payload"]["sym"] == sym)
        assert (done["payload"]["price"], done["payload"]["qty"]) == (price, 10)


async def test_clients_on_two_gateways_trade_with_each_other_and_see_one_market(cluster: list[ServerProcess]) -> None:
    one, two = cluster
    heard = (Heard(), Heard())
    async with (
        await MarketClient.connect(one.url, on_md_event=heard[0]) as alice,
        await MarketClient.connect(two.url, on_md_event=heard[1]) as bob,
    ):
        for sym, price in (("ACME", "99.50"), ("EMBR", "29000.0")):  # one symbol on each shard
            await trade(alice, bob, heard, sym, price)
            assert heard[0].sequences(sym) == heard[1].sequences(sym)  # the same events with the same numbers
        account = await alice.get_account()
        assert [(p["sym"], p["qty"]) for p in account["positions"]] == [("ACME", 10), ("EMBR", 10)]
        assert [f["qty"] for f in await bob.list_fills("EMBR")] == [10]
        orders = await alice.list_orders(status="all")
        assert len({o["order_id"] for o in orders}) == 2  # ids unique across the shards


async def test_a_gateway_that_misses_market_data_resyncs_its_clients_from_the_shard(
    cluster: list[ServerProcess],
) -> None:
    one, two = cluster
    heard = (Heard(), Heard())
    sym = "CRUX"

    def snapshot(e: dict[str, Any]) -> bool:
        return bool(e["op"] == "md.snapshot" and e["payload"]["sym"] == sym)

    async with (
        await MarketClient.connect(one.url, on_md_event=heard[0]) as alice,
        await MarketClient.connect(two.url, on_md_event=heard[1]) as bob,
    ):
        await heard[1].until(snapshot)
        before = len(heard[1].events)
        await bob.send("test.drop_md", {"sym": sym, "count": 1})  # gateway two misses the next CRUX event
        await alice.place_order(sym, "buy", "4400.00", 1)
        await alice.place_order(sym, "buy", "4400.25", 2)  # gateway two sees the gap here
        resync = await heard[1].until(snapshot, before)
        assert ["4400.25", 2] in resync["payload"]["bids"] and ["4400.00", 1] in resync["payload"]["bids"]
        await alice.place_order(sym, "buy", "4400.50", 3)
        for each in heard:
            await each.until(lambda e: e["op"] == "md.delta" and ["4400.50", 3] in e["payload"]["bids"])
        after = [s for s in heard[0].sequences(sym) if s[0] > resync["payload"]["seq"]]
        assert after and [s for s in heard[1].sequences(sym) if s[0] > resync["payload"]["seq"]] == after
        assert resync["payload"]["seq"] == max(s for s, _ in heard[0].sequences(sym) if s < after[0][0])
        server_book = await alice.get_book(sym)
        assert bob.book_snapshot(sym) == alice.book_snapshot(sym) == server_book
        assert sym not in bob.resync_counts  # the gateway closed its gap: the client never saw one


async def test_a_user_connected_to_both_gateways_hears_their_fill_on_both(cluster: list[ServerProcess]) -> None:
    one, two = cluster
    one.add_user("carol", "carol-pass-1")
    heard = (Heard(), Heard())
    async with (
        await MarketClient.connect(one.url, False, None, heard[0], username="carol", password="carol-pass-1") as carol,
        await MarketClient.connect(two.url, False, None, heard[1], username="carol", password="carol-pass-1"),
        await MarketClient.connect(two.url, connect_md=False) as dave,
    ):
        bid = (await carol.place_order("BOLT", "buy", "41.00", 3))["order"]
        assert (await dave.place_order("BOLT", "sell", "41.00", 3))["order"]["status"] == "filled"
        for each in heard:
            filled = await each.until(lambda e: e["op"] == "order.filled")
            assert filled["payload"]["order"]["order_id"] == bid["order_id"]
            assert filled["payload"]["fill"]["qty"] == 3


def test_a_session_opened_on_one_gateway_works_on_the_other_until_logout(cluster: list[ServerProcess]) -> None:
    one, two = cluster
    token = httpx.post(f"{one.url}/auth/handshake", json={"guest": True}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    request = {"type": "request", "ver": 1, "msg_id": "m1", "op": "account.get", "payload": {}}
    assert httpx.post(f"{two.url}/api/request", headers=auth, json=request).json()["ok"]
    assert httpx.post(f"{one.url}/auth/logout", headers=auth).status_code == 200
    refused = httpx.post(f"{two.url}/api/request", headers=auth, json={**request, "msg_id": "m2"}).json()
    assert refused["error"]["code"] == "INVALID_TOKEN", refused


async def test_a_client_moves_to_the_other_gateway_when_its_own_dies(doomed: list[ServerProcess]) -> None:
    one, two = doomed
    states: list[str] = []
    back = asyncio.Event()

    def state_changed(state: str) -> None:
        states.append(state)
        if state == "connected" and "reconnecting" in states:
            back.set()

    async with await MarketClient.connect(one.url, gateways=[two.url], on_state_change=state_changed) as alice:
        placed = [await alice.place_order("ACME", "buy", f"99.{i}0", 1) for i in range(3)]
        placed.append(await alice.place_order("EMBR", "buy", "29000.0", 1))
        one.kill()
        async with asyncio.timeout(WAIT_S):
            await back.wait()
        assert {o["order_id"] for o in await alice.list_orders()} == {p["order"]["order_id"] for p in placed}
        async with await MarketClient.connect(two.url) as bob:
            assert (await bob.place_order("EMBR", "sell", "29000.0", 1))["order"]["status"] == "filled"
        assert [f["qty"] for f in await alice.list_fills("EMBR")] == [1]
        assert (await alice.place_order("ACME", "buy", "99.00", 1))["order"]["status"] == "new"
        top = alice.best_bid_ask("ACME")  # the book resynced from the new gateway's snapshot
        assert (top["bid"], top["bid_qty"]) == ("99.20", 1)


async def test_the_quickstart_runs_unchanged_on_the_second_gateway(cluster: list[ServerProcess]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(QUICKSTART), cluster[1].url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), WAIT_S)
    assert proc.returncode == 0, err.decode()
    assert b"placed:" in out and b"canceled: canceled" in out, out.decode()
