"""`hftsim cluster`: NATS, two shards, two gateways and the agents as real processes; Ctrl-C stops them all."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from market_client import MarketClient

from hftsim.testing import free_port

WAIT_S = 60.0


def two_free_ports() -> int:
    """A port whose successor is free too: the cluster's gateways take consecutive ports."""
    while True:
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


async def a_trade_seen_on(url: str) -> None:
    trades = asyncio.Event()

    def heard(event: dict[str, object]) -> None:
        if event["op"] == "md.trade":
            trades.set()

    async with await MarketClient.connect(url, on_md_event=heard):
        async with asyncio.timeout(WAIT_S):
            await trades.wait()


def persisted_fills(ledger: Path) -> None:
    """Wait until the cluster's persister has written a fill to its SQLite ledger."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            with sqlite3.connect(ledger) as db:
                if db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]:
                    return
        except sqlite3.OperationalError:
            pass  # the persister has not created its tables yet
        assert time.monotonic() < deadline, f"no fill in {ledger} within {WAIT_S:.0f} s"
        time.sleep(0.1)


def test_the_cluster_command_runs_a_market_on_two_shards_across_gateways_and_stops_cleanly(tmp_path: Path) -> None:
    port = two_free_ports()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hftsim", "cluster", "--gateways", "2", "--shards", "2", "--port", str(port),
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("logs ") for line in lines):  # printed once every gateway is healthy
            line = proc.stdout.readline()
            assert line, "hftsim cluster ended early:\n" + "".join(lines)
            lines.append(line)
        second = f"http://127.0.0.1:{port + 1}"
        assert any(second in line for line in lines)
        assert [line.split()[:2] for line in lines if line.startswith("shard ")] == [["shard", "a"], ["shard", "b"]]
        asyncio.run(a_trade_seen_on(second))  # the agents trade through gateway 1; gateway 2 serves the same market
        assert any(line.split() == ["persister", str(tmp_path / "ledger.db")] for line in lines)
        persisted_fills(tmp_path / "ledger.db")
        listed = httpx.get(f"{second}/api/info").json()["gateways"]  # where the website moves when its own dies
        assert listed == [f"http://127.0.0.1:{port}", second]
    finally:
        proc.send_signal(signal.SIGTERM)  # Ctrl-C's path; SIGINT is ignored in a child of a shell's background job
        assert proc.wait(timeout=WAIT_S) == 0
    for gateway in (port, port + 1):
        try:
            httpx.get(f"http://127.0.0.1:{gateway}/healthz", timeout=1)
            raise AssertionError(f"a gateway still answers on port {gateway}")
        except httpx.ConnectError:
            pass
