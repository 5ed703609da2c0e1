"""Two gateways on one NATS stream, as real `hftsim serve` processes, used through the real client.

Both gateways share the users' database (one data directory), as two
gateways on one machine do; each follows the market's stream into its own
replica, so a client cannot tell which one it is on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from market_client import MarketClient

from hftsim.cluster.natsserver import NatsServer
from hftsim.testing import ServerProcess

WAIT_S = 30.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    with ExitStack() as stack:
        nats_server = stack.enter_context(NatsServer(tmp_path / "nats"))
        gateways = []
        for name in ("one", "two"):
            gateway = ServerProcess(tmp_path / "data", config={"cluster": {"nats_url": nats_server.url}})
            gateway.log_path = tmp_path / f"gateway-{name}.log"
            gateway.start()
            stack.callback(gateway.stop)
            gateways.append(gateway)
        yield gateways


class Heard:
    """A client's MD events, with a way to wait until one of them matches."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_S):
            while True:
                for event in self.events:
                    if found(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def acme(self) -> list[tuple[int, str]]:
        return [(e["payload"]["seq"], e["op"]) for e in self.events
                if e["op"] in ("md.delta", "md.trade") and e["payload"]["sym"] == "ACME"]  # fmt: skip


async def test_clients_on_two_gateways_trade_with_each_other_and_see_one_market(cluster: list[ServerProcess]) -> None:
    one, two = cluster
    heard_one, heard_two = Heard(), Heard()
    async with (
        await MarketClient.connect(one.url, on_md_event=heard_one) as alice,
        await MarketClient.connect(two.url, on_md_event=heard_two) as bob,
    ):
        await alice.place_order("ACME", "buy", "99.50", 10)
        await heard_two.until(lambda e: e["op"] == "md.delta" and ["99.50", 10] in e["payload"]["bids"])
        sold = await bob.place_order("ACME", "sell", "99.50", 10)
        assert sold["order"]["status"] == "filled"
        trade = await heard_one.until(lambda e: e["op"] == "md.trade")
        assert (trade["payload"]["price"], trade["payload"]["qty"]) == ("99.50", 10)
        await heard_two.until(lambda e: e["op"] == "md.trade")
        assert heard_one.acme() == heard_two.acme()  # the same events with the same sequence numbers
        assert (await alice.get_account())["positions"][0]["qty"] == 10
        assert [f["qty"] for f in await bob.list_fills("ACME")] == [10]


def test_a_session_opened_on_one_gateway_works_on_the_other_until_logout(cluster: list[ServerProcess]) -> None:
    one, two = cluster
    token = httpx.post(f"{one.url}/auth/handshake", json={"guest": True}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    request = {"type": "request", "ver": 1, "msg_id": "m1", "op": "account.get", "payload": {}}
    assert httpx.post(f"{two.url}/api/request", headers=auth, json=request).json()["ok"]
    assert httpx.post(f"{one.url}/auth/logout", headers=auth).status_code == 200
    refused = httpx.post(f"{two.url}/api/request", headers=auth, json={**request, "msg_id": "m2"}).json()
    assert refused["error"]["code"] == "INVALID_TOKEN", refused
