"""Gateways in a cluster: each follows the stream into its own replica engine, on a real nats-server.

Two `StreamSequencer`s stand for two gateways: what a user does through
one is answered there and seen identically by the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hftsim.cluster.natsserver import NatsServer
from hftsim.cluster.sequencer import StreamSequencer
from hftsim.config import load
from hftsim.engine import OpenAccount, OrderFilled, PlaceOrder, Result, Side
from hftsim.protocol.errors import ErrorCode, ProtocolError


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats") as server:
        yield server


class Gateway:
    """A replica with the results it heard, in order."""

    def __init__(self, server: NatsServer) -> None:
        self.sequencer = StreamSequencer.for_layout(load(cluster={"stream": "a"}), server.url)
        self.heard: list[Result] = []
        self._progress = asyncio.Condition()
        self.sequencer.subscribe(self._hear)

    def _hear(self, result: Result, origin: object) -> None:
        self.heard.append(result)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    async def reach(self, seq: int) -> None:
        """Wait until this replica has applied command `seq` (it follows the stream on its own)."""
        async with asyncio.timeout(30), self._progress:
            await self._progress.wait_for(lambda: self.sequencer.engine.seq >= seq)

    async def start(self) -> Gateway:
        await self.sequencer.start()
        return self

    async def stop(self) -> None:
        await self.sequencer.stop()


@pytest.fixture
async def gateways(nats_server: NatsServer) -> AsyncIterator[list[Gateway]]:
    pair = [await Gateway(nats_server).start() for _ in range(2)]
    yield pair
    for gateway in pair:
        await gateway.stop()


def place(user: int, side: Side, coid: str, price: int = 10_000) -> PlaceOrder:
    return PlaceOrder(user_id=user, sym="ACME", side=side, qty=100, price=price, client_order_id=coid)


async def fund(gateway: Gateway, *users: int) -> None:
    for user in users:
        await gateway.sequencer.submit(OpenAccount(user_id=user, cash=10**12), user)


async def test_a_trade_across_gateways_is_the_same_on_both(gateways: list[Gateway]) -> None:
    a, b = gateways
    await fund(a, 1, 2)
    await a.sequencer.submit(place(1, Side.BUY, "b1"), 1)
    result = await b.sequencer.submit(place(2, Side.SELL, "s1"), 2)
    assert any(isinstance(ev, OrderFilled) and ev.fill.user_id == 2 for ev in result.wire_events())
    await a.sequencer.submit(place(1, Side.BUY, "b2", 9_990), 1)
    last = await b.sequencer.submit(place(2, Side.BUY, "b3", 9_980), 2)
    await a.reach(last.seq)
    assert a.sequencer.engine.state_hash() == b.sequencer.engine.state_hash()
    assert [r.events for r in a.heard] == [r.events for r in b.heard]


async def test_a_retried_place_is_applied_once(gateways: list[Gateway]) -> None:
    a, b = gateways
    await fund(a, 1)
    first = await a.sequencer.submit(place(1, Side.BUY, "once"), 1)
    await b.reach(first.seq)
    again = await b.sequencer.submit(place(1, Side.BUY, "once"), 1)  # the same order again, through another gateway
    assert (again.seq, again.events) == (first.seq, first.events)
    assert (await a.sequencer.submit(place(1, Side.BUY, "once"), 1)).seq == first.seq
    await a.sequencer.submit(place(1, Side.BUY, "next"), 1)
    await b.reach(a.sequencer.engine.seq)
    assert [o.client_order_id for o in b.sequencer.engine.open_orders(1)] == ["once", "next"]


async def test_a_late_gateway_catches_up_to_the_same_state(nats_server: NatsServer, gateways: list[Gateway]) -> None:
    a, _ = gateways
    await fund(a, 1, 2)
    for i in range(20):
        await a.sequencer.submit(place(1 + i % 2, Side.BUY if i % 2 else Side.SELL, f"o{i}", 10_000 + i % 3), 1)
    late = await Gateway(nats_server).start()
    try:
        assert late.sequencer.engine.seq == a.sequencer.engine.seq == 22
        assert late.sequencer.engine.state_hash() == a.sequencer.engine.state_hash()
    finally:
        await late.stop()


async def test_without_nats_a_command_is_refused_and_nothing_is_applied(
    nats_server: NatsServer, gateways: list[Gateway]
) -> None:
    a, b = gateways
    await fund(a, 1)
    nats_server.stop()
    with pytest.raises(ProtocolError) as refused:
        await a.sequencer.submit(place(1, Side.BUY, "while-down"), 1)
    assert refused.value.code == ErrorCode.ENGINE_UNAVAILABLE
    assert a.sequencer.store_error is not None
    nats_server.start()
    await a.sequencer.submit(place(1, Side.BUY, "after"), 1)
    await b.sequencer.submit(place(1, Side.BUY, "after-b"), 1)
    assert a.sequencer.store_error is None
    await a.reach(b.sequencer.engine.seq)
    assert a.sequencer.engine.state_hash() == b.sequencer.engine.state_hash()
    assert [o.client_order_id for o in b.sequencer.engine.open_orders(1)] == ["after", "after-b"]
