"""`hftsim persister` on a real nats-server, writing to real SQLite and PostgreSQL databases.

The persister runs as its own process, so SIGKILL is a real crash. What
it wrote must equal what the venue shows (the gateway's answers through
the real client), and a persister killed mid-stream and restarted must end
with exactly the rows of one that ran through.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from market_client import MarketClient
from nats.aio.client import Client as Nats

from hftsim.cluster.commandlog import CommandLog
from hftsim.cluster.connection import connect
from hftsim.cluster.layout import Layout
from hftsim.cluster.markers import Marker, take
from hftsim.cluster.natsserver import NatsServer
from hftsim.cluster.snapshots import PublishedSnapshots
from hftsim.config import Settings
from hftsim.engine import (
    DebitCash,
    Engine,
    OpenAccount,
    OrderFilled,
    OrderStatus,
    PlaceOrder,
    Side,
    format_cash,
)
from hftsim.store.database import Database
from hftsim.testing import ServerProcess

WAIT_S = 60.0
"""How long a wait may go without progress: a loaded machine only slows the processes down."""
TABLES = {
    "shards": "shard",
    "instruments": "sym",
    "orders": "order_id",
    "fills": "fill_id",
    "balances": "shard, user_id",
    "positions": "user_id, sym",
}


class Process:
    """`hftsim ARGS` with the test's layout, logging to `log_path`."""

    def __init__(self, settings: Settings, log_path: Path, *args: str) -> None:
        self.args = [sys.executable, "-m", "hftsim", *args]
        self.env = {**os.environ, "HFTSIM_CLUSTER": json.dumps({"shards": settings.cluster.shards})}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=WAIT_S)

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.args[3]} exited with {self.proc.returncode}:\n{self.log_path.read_text()}")


@pytest.fixture
def hftsim(two_shards: Settings, tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Starts `hftsim ARGS` processes, stopped at the end of the test."""
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = Process(two_shards, tmp_path / f"{args[0]}-{len(started)}.log", *args)
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def rows(database: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    db = Database(database)
    conn = db.connect()
    try:
        return [tuple(row) for row in conn.execute(db.sql(query), params).fetchall()]
    finally:
        conn.close()


def persisted(database: str) -> dict[str, int]:
    try:
        return {str(shard): int(seq) for shard, seq in rows(database, "SELECT shard, seq FROM shards")}
    except Exception:
        return {}  # not created yet: the persister is still starting


def dump(database: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in key order, booleans as 0/1 (SQLite's spelling)."""
    return {
        table: [tuple(int(v) if isinstance(v, bool) else v for v in row)
                for row in rows(database, f"SELECT * FROM {table} ORDER BY {key}")]
        for table, key in TABLES.items()
    }  # fmt: skip


async def stream_ends(nats_url: str, settings: Settings) -> dict[str, int]:
    nc = await connect(nats_url, "test")
    try:
        return {s.name: await CommandLog(nc.jetstream(), s.name).last_seq() for s in Layout.of(settings).shards}
    finally:
        await nc.close()


class Progress:
    """A deadline WAIT_S after the watched value last changed, so a stuck process fails and a slow one does not."""

    def __init__(self) -> None:
        self.seen: object = None
        self.deadline = time.monotonic() + WAIT_S

    def check(self, value: object, message: str) -> None:
        if value != self.seen:
            self.seen, self.deadline = value, time.monotonic() + WAIT_S
        assert time.monotonic() < self.deadline, message


async def caught_up(database: str, ends: dict[str, int], *running: Process) -> None:
    """Wait until the database holds every shard's stream up to `ends` (polling its `shards` table)."""
    progress = Progress()
    while (held := persisted(database)) != ends:
        for process in running:
            process.check_alive()
        progress.check(held, f"the database holds {held}, the streams end at {ends}")
        await asyncio.sleep(0.05)


NOWHERE = "nats://127.0.0.1:9"
"""No NATS server listens here: a persister pointed at it keeps trying to connect."""


async def started(process: Process) -> None:
    """Wait until the persister has claimed its shards in the database and is connecting to NATS (it logs so)."""
    deadline = time.monotonic() + WAIT_S
    while "connecting to NATS" not in process.log_path.read_text():
        process.check_alive()
        assert time.monotonic() < deadline, f"the persister did not start:\n{process.log_path.read_text()}"
        await asyncio.sleep(0.05)


async def test_one_persister_per_shard_and_database_whose_rows_are_there_before_nats_answers(
    two_shards: Settings, tmp_path: Path, hftsim: Callable[..., Process], new_postgres_db: Callable[[], str]
) -> None:
    names = [s.name for s in Layout.of(two_shards).shards]
    for database in (str(tmp_path / "ledger.db"), new_postgres_db()):
        first = hftsim("persister", "--nats", NOWHERE, "--database", database)
        await caught_up(database, dict.fromkeys(names, 0), first)  # claimed, and a new user's cash reads right
        second = hftsim("persister", "--nats", NOWHERE, "--database", database, "--shards", names[1])
        assert second.proc is not None and second.proc.wait(timeout=WAIT_S) == 1
        assert f"another hftsim persister is writing shard {names[1]} to " in second.log_path.read_text()
        first.kill()  # a persister that crashed leaves no claim behind
        await started(hftsim("persister", "--nats", NOWHERE, "--database", database, "--shards", names[1]))


def user_cash(database: str, user_id: int) -> int:
    """The user's cash over the shards: a shard without their row holds its share of a new user's cash."""
    ((total,),) = rows(
        database,
        "SELECT SUM(COALESCE(b.cash, s.initial_cash)) FROM shards s "
        "LEFT JOIN balances b ON b.shard = s.shard AND b.user_id = ?",
        user_id,
    )
    return int(total)


async def test_the_tables_hold_what_the_gateway_shows_on_sqlite_and_postgresql(
    shared_nats: NatsServer,
    two_shards: Settings,
    tmp_path: Path,
    hftsim: Callable[..., Process],
    new_postgres_db: Callable[[], str],
) -> None:
    sqlite, postgres = str(tmp_path / "ledger.db"), new_postgres_db()
    running = [hftsim("persister", "--nats", shared_nats.url, "--database", db) for db in (sqlite, postgres)]
    gateway = ServerProcess(
        tmp_path / "data", config={"cluster": {"nats_url": shared_nats.url, "shards": two_shards.cluster.shards}}
    )
    gateway.start()
    try:
        async with (
            await MarketClient.connect(gateway.url) as alice,
            await MarketClient.connect(gateway.url) as bob,
            await MarketClient.connect(gateway.url) as carol,
        ):
            for sym, price in (("ACME", "99.50"), ("CRUX", "4500.00"), ("EMBR", "29000.0")):
                await alice.place_order(sym, "buy", price, 10)
                await bob.place_order(sym, "sell", price, 4)  # a partial fill of alice's bid
                await carol.place_order(sym, "sell", price, 9)  # the rest of it, and 3 resting
            resting = await bob.place_order("BOLT", "buy", "40.00", 5)
            await bob.amend_order(resting["order"]["order_id"], qty=7)
            await carol.place_order("BOLT", "buy", "40.50", 2)
            await carol.cancel_all()
            ends = await stream_ends(shared_nats.url, two_shards)
            for database in (sqlite, postgres):
                await caught_up(database, ends, *running)
            for client in (alice, bob, carol):
                account = await client.get_account()
                user_id = account["user_id"]
                fills = await client.list_fills(limit=1000)
                orders = await client.list_orders(status="all")
                for database in (sqlite, postgres):
                    ((decimals,),) = set(rows(database, "SELECT DISTINCT cash_decimals FROM instruments"))
                    assert format_cash(user_cash(database, user_id), decimals) == account["cash"]
                    stored = rows(database, "SELECT fill_id, order_id, sym, qty FROM fills WHERE user_id = ? "
                                  "ORDER BY fill_id", user_id)  # fmt: skip
                    assert stored == sorted((f["fill_id"], f["order_id"], f["sym"], f["qty"]) for f in fills)
                    held = rows(database, "SELECT sym, qty FROM positions WHERE user_id = ? AND qty <> 0 ORDER BY sym",
                                user_id)  # fmt: skip
                    assert held == sorted((p["sym"], p["qty"]) for p in account["positions"] if p["qty"])
                    states = rows(database, "SELECT order_id, status, qty, filled_qty FROM orders WHERE user_id = ? "
                                  "ORDER BY order_id", user_id)  # fmt: skip
                    assert states == sorted((o["order_id"], o["status"], o["qty"], o["filled_qty"]) for o in orders)
            assert len(rows(sqlite, "SELECT * FROM fills")) == 12  # three trades of two fills on each of three symbols
            assert dump(sqlite) == dump(postgres)
    finally:
        gateway.stop()


Routed = PlaceOrder | OpenAccount | DebitCash
TRANSFERS = 99


def burst(settings: Settings, users: int, rounds: int) -> list[Routed]:
    """Crossing orders on every symbol from `users` funded users (many fills and partial fills), and a cash
    transfer from the first shard to the second every 100 rounds by a user who does not trade (so only the
    transfers change their balances; the first shard appends each debit's credit to the second's stream)."""
    commands: list[Routed] = [OpenAccount(user, 10**15) for user in range(1, users + 1)]
    second = Layout.of(settings).shards[1].name
    instruments = settings.new_engine().instruments
    for i in range(rounds):
        instrument = instruments[i % len(instruments)]
        price, lot = instrument.ref_price + i % 7, instrument.lot
        commands.append(PlaceOrder(1 + i % users, instrument.sym, Side.BUY, (3 + i % 5) * lot, price))
        commands.append(PlaceOrder(1 + (i + 1) % users, instrument.sym, Side.SELL, (2 + i % 4) * lot, price - i % 3))
        if i % 100 == 0:
            commands.append(DebitCash(TRANSFERS, 10**6 + i, second))
    return commands


def shards_of(command: Routed, layout: Layout) -> list[int]:
    """The streams a command goes to, as a gateway routes it (a debit on the first shard, its credit on the second)."""
    if isinstance(command, PlaceOrder):
        return [layout.owner(command.sym) or 0]
    if isinstance(command, DebitCash):
        return [0]
    return list(range(len(layout.shards)))


async def replayed(
    nc: Nats, settings: Settings, ends: dict[str, int]
) -> tuple[dict[Any, Any], list[Any], list[Engine]]:
    """What a fresh engine per shard makes of the streams (markers applied as a shard applies them): every
    account's (cash, opening cash, fees) by (shard, user), every fill as (fill id, user, qty, fee), the engines."""
    layout = Layout.of(settings)
    accounts: dict[Any, Any] = {}
    fills: list[Any] = []
    engines = []
    for index, spec in enumerate(layout.shards):
        engine, last_ts = layout.engine(settings, index), 0
        async for entry in CommandLog(nc.jetstream(), spec.name).follow(0):
            last_ts = max(entry.ts, last_ts)
            if isinstance(entry.command, Marker):
                await take(engine, None, entry.command, entry.seq, PublishedSnapshots(nc.jetstream()))
            else:
                events = engine.apply(entry.command, last_ts).wire_events()
                fills += [(e.fill_id, e.user_id, e.fill_qty, e.fee) for e in events if isinstance(e, OrderFilled)]
            if entry.seq == ends[spec.name]:
                break
        accounts.update({(spec.name, u): (engine.cash(u), engine.opening_cash(u), engine.fees(u))
                         for u in engine.user_ids()})  # fmt: skip
        engines.append(engine)
    return accounts, sorted(fills), engines


STATE = b'{"op": "state"}'


async def shards_at(nc: Nats, ends: dict[str, int]) -> None:
    """Wait until every shard has applied its stream up to `ends` (and taken the snapshots on the way)."""
    for shard, end in ends.items():
        progress = Progress()
        while (seq := orjson.loads((await nc.request(f"hftsim.query.{shard}", STATE, WAIT_S)).data)["seq"]) < end:
            progress.check(seq, f"shard {shard} is at command {seq}, short of {end}")
            await asyncio.sleep(0.05)


async def test_a_persister_killed_mid_stream_ends_with_the_rows_of_one_that_ran_through(
    shared_nats: NatsServer,
    two_shards: Settings,
    tmp_path: Path,
    hftsim: Callable[..., Process],
    new_postgres_db: Callable[[], str],
) -> None:
    through, crashed = str(tmp_path / "ledger.db"), new_postgres_db()
    reference, victim = (hftsim("persister", "--nats", shared_nats.url, "--database", db) for db in (through, crashed))
    layout = Layout.of(two_shards)
    for spec in layout.shards:  # snapshots every 500 commands, for the persister's last restart
        hftsim("engine", "--shard", spec.name, "--nats", shared_nats.url, "--data-dir", str(tmp_path / "shards"),
               "--snapshot-every", "500")  # fmt: skip
    nc = await connect(shared_nats.url, "test")
    logs = [CommandLog(nc.jetstream(), s.name) for s in layout.shards]
    for each in logs:
        await each.ensure()

    ends = dict.fromkeys([s.name for s in layout.shards], 0)
    """What the streams will hold: every command appended here, and a credit on the second for each debit."""

    def append(commands: list[Routed], tag: str) -> Awaitable[list[Any]]:
        for command in commands:
            for index in shards_of(command, layout):
                ends[layout.shards[index].name] += 1
            if isinstance(command, DebitCash):
                ends[command.to] += 1
        return asyncio.gather(*[
            logs[index].append(command, f"{tag}{n}:{index}", ack_wait_s=WAIT_S)
            for n, command in enumerate(commands)
            for index in shards_of(command, layout)
        ])  # fmt: skip

    commands = burst(two_shards, users=6, rounds=1500)
    try:
        appending = append(commands, "c")
        await started(victim)  # its start-up on a loaded machine is not a lack of progress
        progress = Progress()
        while (held := sum(persisted(crashed).values())) < 300:  # mid-stream: some batches committed, more coming
            victim.check_alive()
            progress.check(held, f"the persister committed {held} commands and no more")
            await asyncio.sleep(0.01)
        victim.kill()
        await appending
        assert sum(persisted(crashed).values()) < sum(ends.values())  # it died before the end
        victim.start()
        await caught_up(through, ends, reference)
        await caught_up(crashed, ends, victim)
        survived, ran_through = dump(crashed), dump(through)
        assert len(ran_through["fills"]) > 500
        assert survived == ran_through

        await shards_at(nc, ends)  # their latest snapshots are now within what the database holds
        victim.stop()
        victim.start()
        await append(burst(two_shards, users=6, rounds=50)[6:], "d")
        await caught_up(through, ends, reference)
        await caught_up(crashed, ends, victim)
        accounts, fills, _ = await replayed(nc, two_shards, ends)
    finally:
        await nc.close()
    assert dump(crashed) == dump(through)
    stored = rows(through, "SELECT shard, user_id, cash, opening_cash, fees FROM balances")
    assert {(shard, user): tuple(rest) for shard, user, *rest in stored} == accounts
    assert rows(through, "SELECT fill_id, user_id, qty, fee FROM fills ORDER BY fill_id") == fills
    restarted = victim.log_path.read_text().splitlines()[-len(ends) :]
    assert all("replaying from 1)" not in line and "replaying from" in line for line in restarted), restarted


async def test_round_starts_and_restores_replace_a_shards_rows_as_they_replace_its_market(
    shared_nats: NatsServer,
    two_shards: Settings,
    tmp_path: Path,
    hftsim: Callable[..., Process],
    new_postgres_db: Callable[[], str],
) -> None:
    sqlite, postgres = str(tmp_path / "ledger.db"), new_postgres_db()
    running = [hftsim("persister", "--nats", shared_nats.url, "--database", db) for db in (sqlite, postgres)]
    layout = Layout.of(two_shards)
    names = [s.name for s in layout.shards]
    ends = dict.fromkeys(names, 0)
    nc = await connect(shared_nats.url, "test")
    logs = [CommandLog(nc.jetstream(), name) for name in names]
    for each in logs:
        await each.ensure()
    tags = itertools.count()

    async def trade(*commands: PlaceOrder) -> None:
        """Append each to the stream of its symbol's shard."""
        for command in commands:
            index = layout.owner(command.sym) or 0
            await logs[index].append(command, f"m{next(tags)}", ack_wait_s=WAIT_S)
            ends[names[index]] += 1

    async def mark(kind: str, data: dict[str, Any]) -> None:
        for index, name in enumerate(names):
            marker = Marker(kind, {**data, "object": f"saved-{name}"} if kind == "restore" else data)
            await logs[index].append_marker(marker, f"{kind}{next(tags)}", ack_wait_s=WAIT_S)
            ends[name] += 1

    instruments = {i.sym: i for i in two_shards.new_engine().instruments}
    acme, crux = (instruments[sym].ref_price for sym in ("ACME", "CRUX"))
    lot = {sym: instruments[sym].lot for sym in ("ACME", "CRUX")}
    try:
        await trade(
            PlaceOrder(1, "ACME", Side.BUY, 10 * lot["ACME"], acme, client_order_id="kept"),
            PlaceOrder(2, "ACME", Side.SELL, 4 * lot["ACME"], acme),  # 6 of the bid rest, partially filled
            PlaceOrder(1, "CRUX", Side.BUY, 5 * lot["CRUX"], crux),
            PlaceOrder(2, "CRUX", Side.SELL, 2 * lot["CRUX"], crux),
        )
        saved = (await replayed(nc, two_shards, ends))[2]  # the market to restore later, as an admin saved it
        published = PublishedSnapshots(nc.jetstream())
        for name, engine in zip(names, saved, strict=True):
            await published.put(f"saved-{name}", pickle.dumps(engine))
        await mark("round_start", {"round_id": 1, "name": "r", "started_ts": 1, "ends_at": None})
        await trade(
            PlaceOrder(3, "ACME", Side.BUY, 5 * lot["ACME"], acme, client_order_id="gone"),
            PlaceOrder(1, "ACME", Side.SELL, 2 * lot["ACME"], acme),
            PlaceOrder(3, "CRUX", Side.BUY, 1 * lot["CRUX"], crux - 1),
        )
        await mark("restore", {"snapshot_id": 1})
        await trade(PlaceOrder(2, "ACME", Side.SELL, 1 * lot["ACME"], acme))  # fills the restored bid further
        for database in (sqlite, postgres):
            await caught_up(database, ends, *running)
        accounts, fills, engines = await replayed(nc, two_shards, ends)
    finally:
        await nc.close()
    users = {u for e in engines for u in e.user_ids()}
    live = sorted((o.order_id, o.status.value, o.qty, o.filled_qty) for e in engines for u in users
                  for o in e.open_orders(u))  # fmt: skip
    held = sorted((p.user_id, p.sym, p.qty, p.cost, p.realized_pnl) for e in engines for u in users
                  for p in e.positions(u))  # fmt: skip
    for database in (sqlite, postgres):
        stored = rows(database, "SELECT shard, user_id, cash, opening_cash, fees FROM balances")
        assert {(shard, user): tuple(rest) for shard, user, *rest in stored} == accounts
        assert rows(database, "SELECT order_id, status, qty, filled_qty FROM orders "
                    "WHERE status IN ('new', 'partially_filled') ORDER BY order_id") == live  # fmt: skip
        assert rows(database, "SELECT user_id, sym, qty, cost, realized_pnl FROM positions "
                    "WHERE qty <> 0 OR realized_pnl <> 0 ORDER BY user_id, sym") == held  # fmt: skip
        assert rows(database, "SELECT fill_id, user_id, qty, fee FROM fills ORDER BY fill_id") == fills
        ((gone,),) = rows(database, "SELECT status FROM orders WHERE client_order_id = 'gone'")
        assert gone == OrderStatus.CANCELED  # live when the restore replaced the market without it
    ((kept,),) = rows(sqlite, "SELECT filled_qty FROM orders WHERE client_order_id = 'kept'")
    assert kept == 5 * lot["ACME"]  # 4 before the round, 1 after the restore brought it back
    assert dump(sqlite) == dump(postgres)
