"""7. Fairness: what one user feels while another floods the venue, under the shipped traffic limits.

A probe user (market_client on its own CMD socket, in this process) sends
one request every PACE_S (15 ms: well within its own 100 messages/s),
alternately a `ping` and an `order.place` of a buy of 1 BOLT that rests,
and times each to its response. Three phases, alternating per repetition
(A B C, C B A, ...):

- **alone**: nobody else on the venue;
- **ping flood**: meanwhile another user floods `ping`s on one socket;
- **order flood**: meanwhile it floods `order.place`s on ACME (resting
  sells: the flood's hot symbol, not the probe's).

The flooder (`bench/flood_worker.py`, its own process, a fresh guest each
phase) sends without waiting for answers as fast as its socket takes them,
and counts its answers in the background. The server runs the shipped
`[traffic]` limits of `default_config.toml` (`hftsim.testing` otherwise
applies limits no test meets): per connection a burst of 200 and 100/s,
per user 400 and 200/s, 64 queued commands per user, refusals answered
RATE_LIMITED. A fair venue keeps the probe's latency flooded near its
latency alone: the ratio flooded / alone is the figure. Reported too: the
flooder's offered messages/s (written into its socket: what the server does
not read waits in the socket buffers), how many of them were answered ok,
RATE_LIMITED or not at all by the end of the phase, and the server's CPU
share in each phase.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import uvloop
from hftsim.config import DEFAULT_CONFIG
from hftsim.testing import ServerProcess, server_process
from market_client import MarketClient

from .common import Scale, cpu_seconds, median_of, percentiles, row
from .gateway import Child

NAME = "fairness"
SYM = "BOLT"
PRICE = "40.00"
PACE_S = 0.015
SETTLE_S = 0.5
"""Pause after each phase, so a dropped flooder's last answers are gone before the next one."""
PHASES = ("alone", "ping flood", "order flood")
FLOODS = {"ping flood": "ping", "order flood": "order"}
SHIPPED_TRAFFIC: dict[str, Any] = tomllib.loads(DEFAULT_CONFIG.read_text())["traffic"]


def micros(samples: list[int]) -> dict[str, float]:
    return {k: v / 1000 for k, v in percentiles(samples).items()}


async def probe(client: MarketClient, n: int) -> dict[str, list[int]]:
    """`n` requests, a ping and a resting BOLT order by turns, one every PACE_S; round trips in ns."""
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {"ping": [], "order": []}
    for i in range(n):
        t0 = clock()
        if i % 2:
            await client.place_order(SYM, "buy", PRICE, 1)
            samples["order"].append(clock() - t0)
        else:
            await client.send("ping")
            samples["ping"].append(clock() - t0)
        await asyncio.sleep(max(0.0, PACE_S - (clock() - t0) / 1e9))
    return samples


async def phase(server: ServerProcess, client: MarketClient, name: str, n: int) -> dict[str, Any]:
    flooder = None
    if name in FLOODS:
        flooder, _ = await Child.start("bench.flood_worker", server.url, FLOODS[name])
    try:
        if flooder is not None:
            await flooder.ask("start")
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        samples = await probe(client, n)
        result: dict[str, Any] = {
            "latency_us": {op: micros(s) for op, s in samples.items()},
            "server_cpu_share": (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0),
        }
        if flooder is not None:
            result["flooder"] = await flooder.ask("stop")
    finally:
        if flooder is not None:
            await flooder.quit()
    await client.cancel_all(SYM)
    await asyncio.sleep(SETTLE_S)
    return result


async def measure(server: ServerProcess, n: int, warmup: int, reps: int) -> dict[str, list[dict[str, Any]]]:
    client = await MarketClient.connect(server.url, connect_md=False)
    try:
        await probe(client, warmup)
        await client.cancel_all(SYM)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PHASES}
        for rep in range(reps):
            for name in PHASES if rep % 2 == 0 else reversed(PHASES):
                runs[name].append(await phase(server, client, name, n))
    finally:
        await client.aclose()
    return runs


def rows_for(phases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    alone = phases["alone"]["latency_us"]
    rows = []
    for name in FLOODS:
        flooded = phases[name]["latency_us"]
        for op, label in (("ping", "ping"), ("order", "BOLT order")):
            for p in ("p50", "p99"):
                rows.append(row(NAME, f"{name}: other user's {label} {p}", flooded[op][p], "µs",
                                "same user alone", alone[op][p]))  # fmt: skip
        f = phases[name]["flooder"]
        note = (f"{f['ok']:,.0f} answered ok, {f['rate_limited']:,.0f} RATE_LIMITED, {f['unanswered']:,.0f} "
                f"unanswered at the end of the phase")  # fmt: skip
        rows.append(row(NAME, f"{name}: flooder's offered rate", f["offered_per_s"], "msg/s", note=note))
    return rows


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(800, 400, 20)
    warmup = scale.pick(100, 50, 10)
    with (
        tempfile.TemporaryDirectory(prefix="bench-fair-") as tmp,
        server_process(Path(tmp), config={"traffic": SHIPPED_TRAFFIC}) as server,
    ):
        runs = uvloop.run(measure(server, n, warmup, scale.reps))
    phases = {name: median_of(rs) for name, rs in runs.items()}
    return {
        "probes_per_phase": n,
        "pace_ms": PACE_S * 1000,
        "traffic": SHIPPED_TRAFFIC,
        "phases": phases,
        "runs": runs,
        "rows": rows_for(phases),
    }
