"""Cash moved between a user's shard accounts, on real processes: nats-server, two shards, a gateway, the client.

Each user's 1,000,000 is split 500,000 / 500,000 between shard a (ACME, BOLT)
and shard b (CRUX, DUNE, EMBR). A buy bigger than its shard's share but
within the user's total is accepted: the gateway moves the shortfall first
(a debit on a's stream, whose shard appends the credit to b's). Conservation
is checked on the streams themselves: fresh engines fed both streams must
hold, per user, opening cash adding up to exactly what the user was given
(a transfer moves opening cash with cash; a debit without its credit would
show as a hole).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from market_client import MarketClient, OrderRejected
from nats.aio.client import Client as Nats

from hftsim.cluster.commandlog import CommandLog
from hftsim.cluster.connection import connect
from hftsim.cluster.layout import Layout
from hftsim.cluster.markers import Marker
from hftsim.cluster.natsserver import NatsServer
from hftsim.cluster.transfers import credit_id
from hftsim.config import load
from hftsim.engine import Code, Command, CreditCash, DebitCash, Engine, Result
from hftsim.testing import ServerProcess

WAIT_S = 30.0
SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
TOTAL = Decimal(1_000_000)
SETTINGS = load(cluster={"shards": SHARDS})
LAYOUT = Layout.of(SETTINGS)
DECIMALS = SETTINGS.new_engine().cash_decimals


class ShardProcess:
    """`hftsim engine` for one shard of the layout: SIGKILL is a real crash."""

    def __init__(self, name: str, url: str, data_dir: Path) -> None:
        self.args = [sys.executable, "-m", "hftsim", "engine", "--shard", name, "--nats", url,
                     "--data-dir", str(data_dir), "--snapshot-every", "3"]  # fmt: skip
        self.env = {**os.environ, "HFTSIM_CLUSTER": json.dumps({"shards": SHARDS})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=WAIT_S)


@dataclass
class Cluster:
    nats: NatsServer
    shards: dict[str, ShardProcess]
    gateway: ServerProcess


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    where = tmp_path_factory.mktemp("transfers")
    with NatsServer(where / "nats") as nats_server:
        shards = {name: ShardProcess(name, nats_server.url, where / "shards") for name in SHARDS}
        gateway = ServerProcess(where / "data", config={"cluster": {"nats_url": nats_server.url, "shards": SHARDS}})
        try:
            for shard in shards.values():
                shard.start()
            gateway.start()
            yield Cluster(nats_server, shards, gateway)
        finally:
            gateway.stop()
            for shard in shards.values():
                shard.stop()


@pytest.fixture
async def nc(cluster: Cluster) -> AsyncIterator[Nats]:
    client = await connect(cluster.nats.url, "test")
    yield client
    await client.close()


def units(amount: Decimal) -> int:
    return int(amount.scaleb(DECIMALS))


async def replay(nc: Nats) -> tuple[list[Engine], list[list[tuple[Command, Result]]]]:
    """Fresh engines fed each shard's whole stream, and per shard every (command, result)."""
    engines, applied = [], []
    for index, spec in enumerate(LAYOUT.shards):
        engine, results = LAYOUT.engine(SETTINGS, index), []
        log = CommandLog(nc.jetstream(), spec.name)
        last, last_ts = await log.last_seq(), 0
        if last:
            async for entry in log.follow(0):
                last_ts = max(entry.ts, last_ts)
                assert not isinstance(entry.command, Marker), "these streams have no round starts or restores"
                results.append((entry.command, engine.apply(entry.command, last_ts)))
                if entry.seq == last:
                    break
        engines.append(engine)
        applied.append(results)
    return engines, applied


async def credited_on_b(nc: Nats, user_id: int, amount: int) -> None:
    """Wait until b's stream holds a credit of `amount` for the user (appended by shard a)."""
    log = CommandLog(nc.jetstream(), "b")
    async with asyncio.timeout(WAIT_S):
        async for entry in log.follow(0):
            command = entry.command
            if isinstance(command, CreditCash) and (command.user_id, command.amount) == (user_id, amount):
                return


async def cash(client: MarketClient) -> Decimal:
    """The user's cash over both shards, as the gateway sees it once it has applied what b's stream holds now:
    a command on b (a cancel-all of EMBR) is answered only after everything before it there is applied."""
    await client.cancel_all("EMBR")
    return Decimal((await client.get_account())["cash"])


def conserved(engines: list[Engine], user_id: int) -> bool:
    """Every debit of the user's has its credit: the shards' opening cash adds up to what the user was given."""
    return sum(e.opening_cash(user_id) for e in engines) == units(TOTAL)


def user_id(client: MarketClient) -> int:
    assert client.user is not None
    uid: int = client.user["user_id"]
    return uid


async def test_an_order_bigger_than_one_share_is_accepted_and_fills_with_cash_conserved(
    cluster: Cluster, nc: Nats
) -> None:
    async with (
        await MarketClient.connect(cluster.gateway.url) as alice,
        await MarketClient.connect(cluster.gateway.url) as bob,
    ):
        # 20 EMBR at 30,000.0 cost 600,000 (fees aside): above b's 500,000, within alice's 1,000,000.
        placed = await alice.place_order("EMBR", "buy", "30000.0", 20)
        assert placed["order"]["status"] == "new"
        with pytest.raises(OrderRejected) as beyond:  # beyond the total: refused, nothing moved for it
            await alice.place_order("CRUX", "buy", "4500.00", 100)
        assert beyond.value.code == Code.INSUFFICIENT_FUNDS
        sold = await bob.place_order("EMBR", "sell", "30000.0", 20)
        assert sold["order"]["status"] == "filled"
        fills = {c: await c.list_fills("EMBR") for c in (alice, bob)}
        paid = {c: sum(Decimal(f["fee"]) for f in fills[c]) for c in (alice, bob)}
        assert await cash(alice) == TOTAL - Decimal(600_000) - paid[alice]
        assert await cash(bob) == TOTAL + Decimal(600_000) - paid[bob]
        engines, applied = await replay(nc)
        debits = [c for c, r in applied[0] if isinstance(c, DebitCash) and c.user_id == user_id(alice)]
        assert len(debits) == 1 and debits[0].to == "b" and r_ok(applied[0], debits[0])
        for client in (alice, bob):
            assert conserved(engines, user_id(client))
            assert sum(e.cash(user_id(client)) for e in engines) == units(Decimal((await client.get_account())["cash"]))


def r_ok(results: list[tuple[Command, Result]], command: Command) -> bool:
    return any(c == command and r.rejection is None for c, r in results)


async def test_commands_sent_behind_a_topped_up_order_keep_their_order(cluster: Cluster) -> None:
    async with await MarketClient.connect(cluster.gateway.url) as erin:
        placed, canceled = await asyncio.gather(
            erin.place_order("EMBR", "buy", "29000.0", 20, client_order_id="big"),  # waits for its top-up
            erin.cancel_order(client_order_id="big"),  # sent right after it, appended after it
        )
        assert placed["order"]["status"] == "new"
        assert canceled["order"]["order_id"] == placed["order"]["order_id"]
        assert canceled["order"]["status"] == "canceled"


async def test_a_cancel_or_amend_by_client_order_id_sent_right_behind_its_place_finds_it(cluster: Cluster) -> None:
    async with await MarketClient.connect(cluster.gateway.url) as fay:
        placed, amended, canceled = await asyncio.gather(  # CRUX is on b; unknown to every replica until applied
            fay.place_order("CRUX", "buy", "4000.00", 2, client_order_id="quick"),
            fay.amend_order(client_order_id="quick", qty=3),
            fay.cancel_order(client_order_id="quick"),
        )
        order_id = placed["order"]["order_id"]
        assert amended["order"]["order_id"] == canceled["order"]["order_id"] == order_id
        assert amended["order"]["qty"] == 3 and canceled["order"]["status"] == "canceled"


async def test_an_amend_growing_a_buy_beyond_its_shards_cash_moves_the_shortfall_first(
    cluster: Cluster, nc: Nats
) -> None:
    async with await MarketClient.connect(cluster.gateway.url) as gus:
        placed = await gus.place_order("EMBR", "buy", "30000.0", 10)  # 300,000 of b's 500,000: nothing moves
        amended = await gus.amend_order(placed["order"]["order_id"], qty=20)  # 600,000: 100,000 moves from a first
        assert amended["order"]["qty"] == 20 and amended["order"]["status"] == "new"
        engines, applied = await replay(nc)
        debits = [c for c, r in applied[0] if isinstance(c, DebitCash) and c.user_id == user_id(gus)]
        assert len(debits) == 1 and r_ok(applied[0], debits[0])
        assert conserved(engines, user_id(gus))
        assert await cash(gus) == TOTAL


async def test_a_retried_credit_is_taken_once(cluster: Cluster, nc: Nats) -> None:
    async with await MarketClient.connect(cluster.gateway.url) as carol:
        await carol.place_order("EMBR", "buy", "30000.0", 18)  # moves 40,000 and its fees' share from a to b
        engines, applied = await replay(nc)
        credits = [c for c, _ in applied[1] if isinstance(c, CreditCash) and c.user_id == user_id(carol)]
        assert len(credits) == 1
        credit = credits[0]
        before = await cash(carol)
        log = CommandLog(nc.jetstream(), "b")
        same_id = await log.append(credit, credit_id(credit.source, credit.ref))
        assert same_id.duplicate  # within JetStream's window: not even appended again
        late = await log.append(credit, "a copy sent after the window")  # as a shard restarted later appends it
        assert not late.duplicate
        engines, applied = await replay(nc)
        refused = applied[1][late.seq - 1][1].rejection
        assert refused is not None and refused.code == Code.DUPLICATE_TRANSFER
        assert conserved(engines, user_id(carol))
        assert await cash(carol) == before  # the gateway's replica refused the copy too


async def test_a_shard_killed_between_debit_and_credit_completes_the_transfer_on_restart(
    cluster: Cluster, nc: Nats
) -> None:
    async with await MarketClient.connect(cluster.gateway.url, request_timeout=WAIT_S) as dave:
        cluster.shards["a"].kill()  # the debit goes into a's stream, but no shard is there to append the credit
        with pytest.raises(OrderRejected) as refused:
            await dave.place_order("EMBR", "buy", "30000.0", 20)
        assert refused.value.code == Code.INSUFFICIENT_FUNDS  # the credit did not come in time
        engines, _ = await replay(nc)
        moved = units(TOTAL) - sum(e.opening_cash(user_id(dave)) for e in engines)
        assert moved > 0  # debited, not credited: on neither account
        assert await cash(dave) == TOTAL - Decimal(moved).scaleb(-DECIMALS)
        cluster.shards["a"].start()  # replays its stream from its snapshot and appends the missing credit
        await credited_on_b(nc, user_id(dave), moved)
        assert await cash(dave) == TOTAL
        engines, _ = await replay(nc)
        assert conserved(engines, user_id(dave))
        placed = await dave.place_order("EMBR", "buy", "30000.0", 20)  # the cash is on b now: no move needed
        assert placed["order"]["status"] == "new"
        engines, applied = await replay(nc)
        assert len([c for c, _ in applied[0] if isinstance(c, DebitCash) and c.user_id == user_id(dave)]) == 1
        assert conserved(engines, user_id(dave))
