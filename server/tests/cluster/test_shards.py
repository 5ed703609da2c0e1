"""Two shards, two gateways, one real nats-server: commands routed by symbol, ids and cash per shard.

Each `StreamSequencer` stands for a gateway following both shards' streams
into their replicas. The nats-server is shared by the module (conftest).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hftsim.cluster.commandlog import CommandLog
from hftsim.cluster.connection import connect
from hftsim.cluster.layout import ID_SPAN, Layout
from hftsim.cluster.natsserver import NatsServer
from hftsim.cluster.sequencer import StreamSequencer
from hftsim.config import ConfigError, Settings, load
from hftsim.engine import (
    CancelAll,
    CancelOrder,
    Code,
    OpenAccount,
    OrderFilled,
    PlaceOrder,
    Result,
    Side,
    tick_value,
)

WAIT_S = 30.0


@pytest.fixture
def nats_server(shared_nats: NatsServer) -> NatsServer:
    return shared_nats


@pytest.fixture
def settings(two_shards: Settings) -> Settings:
    return two_shards


@pytest.fixture
async def gateways(nats_server: NatsServer, settings: Settings) -> AsyncIterator[list[StreamSequencer]]:
    pair = [StreamSequencer.for_layout(settings, nats_server.url) for _ in range(2)]
    for gateway in pair:
        await gateway.start()
    yield pair
    for gateway in pair:
        await gateway.stop()


def buy(user: int, sym: str, price: int, qty: int, coid: str) -> PlaceOrder:
    return PlaceOrder(user_id=user, sym=sym, side=Side.BUY, qty=qty, price=price, client_order_id=coid)


def sell(user: int, sym: str, price: int, qty: int, coid: str) -> PlaceOrder:
    return PlaceOrder(user_id=user, sym=sym, side=Side.SELL, qty=qty, price=price, client_order_id=coid)


async def reach(gateway: StreamSequencer, seqs: list[int]) -> None:
    """Wait until the gateway's replica of each shard has applied that shard's command `seqs[i]`."""
    applied = asyncio.Event()
    gateway.subscribe(lambda result, origin: applied.set())
    async with asyncio.timeout(WAIT_S):
        while any(e.seq < seq for e, seq in zip(gateway.engine.engines, seqs, strict=True)):
            applied.clear()
            await applied.wait()


async def test_each_shard_takes_its_symbols_and_both_gateways_see_one_market(
    nats_server: NatsServer, settings: Settings, gateways: list[StreamSequencer]
) -> None:
    one, two = gateways
    await one.submit(buy(1, "ACME", 10_000, 5, "a1"), 1)
    acme = await two.submit(sell(2, "ACME", 10_000, 5, "a2"), 2)
    await one.submit(buy(1, "EMBR", 60_000, 2, "e1"), 1)
    crossed = await two.submit(sell(2, "EMBR", 60_000, 2, "e2"), 2)
    assert any(isinstance(ev, OrderFilled) for ev in crossed.wire_events())
    assert acme.seq == 2 and crossed.seq == ID_SPAN + 2  # each shard numbers its commands in its own range
    nc = await connect(nats_server.url, "test")
    try:
        a, b = (CommandLog(nc.jetstream(), spec.name) for spec in Layout.of(settings).shards)
        assert (await a.last_seq(), await b.last_seq()) == (2, 2)  # each stream holds only its own symbols
    finally:
        await nc.close()
    await reach(one, [e.seq for e in two.engine.engines])
    await reach(two, [e.seq for e in one.engine.engines])
    assert one.engine.state_hash() == two.engine.state_hash()
    for sym in ("ACME", "EMBR"):
        assert one.engine.md_seq(sym) == two.engine.md_seq(sym) > 0
    assert [p.sym for p in one.engine.positions(1)] == ["ACME", "EMBR"]


async def test_order_ids_tell_their_shard_and_cancels_find_it(gateways: list[StreamSequencer]) -> None:
    one, two = gateways
    acme = (await one.submit(buy(1, "ACME", 9_900, 1, "x1"), 1)).order
    crux = (await one.submit(buy(1, "CRUX", 17_000, 1, "x2"), 1)).order
    bolt = (await one.submit(buy(1, "BOLT", 800, 1, "x3"), 1)).order
    assert acme is not None and crux is not None and bolt is not None
    assert 0 < acme.order_id < ID_SPAN < crux.order_id
    canceled = await two.submit(CancelOrder(user_id=1, order_id=crux.order_id), 1)
    assert canceled.rejection is None and canceled.order is not None and canceled.order.order_id == crux.order_id
    by_coid = await two.submit(CancelOrder(user_id=1, client_order_id="x3"), 1)
    assert by_coid.rejection is None and by_coid.order is not None and by_coid.order.order_id == bolt.order_id
    await one.submit(buy(1, "DUNE", 1_000, 100, "x4"), 1)
    everything = await two.submit(CancelAll(user_id=1), 1)  # one part on each shard, one answer
    assert len(everything.canceled) == 2 and {i // ID_SPAN for i in everything.canceled} == {0, 1}
    await reach(one, [e.seq for e in two.engine.engines])
    assert one.engine.open_orders(1) == two.engine.open_orders(1) == []


async def test_each_shard_holds_a_share_of_the_cash(gateways: list[StreamSequencer]) -> None:
    one, _ = gateways
    market = one.engine
    opened = await one.submit(OpenAccount(user_id=7, cash=40_000_001), 7)  # 40,000.001 at 3 cash decimals
    assert opened.rejection is None
    assert [e.cash(7) for e in market.engines] == [20_000_001, 20_000_000]  # the remainder on the first shard
    assert market.cash(7) == 40_000_001
    # Two EMBR (second shard) cost 60,000.0, more than all the user's cash: no cash is moved for them (a buy
    # within the total moves its shortfall from the other shard first, test_transfers.py).
    refused = await one.submit(buy(7, "EMBR", 60_000, 2, "embr"), 7)
    assert refused.rejection is not None and refused.rejection.code == Code.INSUFFICIENT_FUNDS
    assert (await one.submit(buy(7, "CRUX", 18_000, 4, "crux"), 7)).rejection is None  # 18,000.00 fits the share
    assert (await one.submit(buy(7, "ACME", 10_000, 150, "acme"), 7)).rejection is None  # so does 15,000 on the first
    assert market.cash(7) == 40_000_001  # resting buys reserve cash; they do not spend it


async def test_trading_on_both_shards_conserves_each_users_cash(gateways: list[StreamSequencer]) -> None:
    one, two = gateways
    market = one.engine
    opening = {user: market.cash(user) for user in (1, 2)}
    assert opening[1] == market.initial_cash == sum(e.initial_cash for e in market.engines)
    results: list[Result] = []
    for i, (sym, price) in enumerate([("ACME", 10_000), ("EMBR", 60_000), ("CRUX", 18_000), ("BOLT", 850)]):
        results.append(await one.submit(buy(1, sym, price, 3, f"b{i}"), 1))
        results.append(await two.submit(sell(2, sym, price, 2, f"s{i}"), 2))
    await reach(one, [e.seq for e in two.engine.engines])
    moved = {1: 0, 2: 0}
    seen: set[tuple[int, int]] = set()
    for result in results:
        for ev in result.wire_events():
            if isinstance(ev, OrderFilled) and (ev.fill.fill_id, ev.fill.user_id) not in seen:
                fill = ev.fill
                seen.add((fill.fill_id, fill.user_id))
                instrument = market.instrument(fill.sym)
                assert instrument is not None
                value = fill.price * fill.qty * tick_value(instrument, market.cash_decimals)
                moved[fill.user_id] += (-value if fill.side == Side.BUY else value) - fill.fee
    assert len(seen) == 8  # two fills (buyer's and seller's) on each of the four symbols
    for user in (1, 2):
        assert market.cash(user) == opening[user] + moved[user]
        assert sum(e.cash(user) for e in market.engines) == market.cash(user)


def test_a_layout_must_give_every_symbol_to_exactly_one_shard() -> None:
    with pytest.raises(ConfigError) as bad:
        Layout.of(load(cluster={"shards": {"a": ["ACME", "BOLT", "NOPE"], "b": ["BOLT", "CRUX"]}}))
    message = str(bad.value)
    for problem in ("BOLT is on more than one shard", "NOPE is not a configured symbol", "DUNE is on no shard"):
        assert problem in message
    assert [s.symbols for s in Layout.split(load(), 2).shards] == [("ACME", "CRUX", "EMBR"), ("BOLT", "DUNE")]
