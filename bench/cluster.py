"""11. A thousand bot connections: `hftsim serve` beside a cluster of two gateways and two shards.

Each connection is one CMD socket (the raw client of bench/wsraw.py) of
its own guest, with one order in flight at a time, as a simple bot has: a
new order goes out when the last one is answered. Orders alternate buy and
sell, quantity 1, on ACME for half the connections and CRUX for the other
half, so the engine matches all the time and, in the cluster, both shards
work. The same connections' count is opened on one `hftsim serve` and,
spread evenly, on the two gateways of a cluster (nats-server, two
`hftsim engine` shards, two `hftsim gateway`s, all on this machine); the
phases alternate between the two. Per phase: orders answered per second,
send → answer latency, and the CPU share of the venue's processes.

Everything runs on loopback on one machine, load generator included, so
the cluster's extra hop (gateway → NATS → gateway) and its extra processes
compete for the same cores: the figures show what the hop costs, not what
more machines would add. The file-descriptor limit is raised in process
(each connection is a socket here and in a gateway).
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson
import uvloop
from hftsim.cluster.natsserver import NatsServer
from hftsim.testing import ServerProcess

from .common import Scale, cpu_seconds, median, percentiles, row
from .gateway import WIDE_LIMITS, handshake
from .throughput import Pipeline

NAME = "cluster"
SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
ORDERS = {"ACME": "100.00", "CRUX": "4500.00"}
ORDER = ('{{"type":"request","ver":1,"msg_id":"{}","ts":0,"op":"order.place","payload":'
         '{{"sym":"{}","side":"{}","type":"limit","price":"{}","qty":1}}}}')  # fmt: skip
LOGIN = orjson.dumps({"type": "request", "ver": 1, "msg_id": "login", "ts": 0, "op": "auth.login",
                      "payload": {"guest": True}})  # fmt: skip


def raise_fd_limit(needed: int) -> int:
    """Lift this process's open-file limit (children inherit it) to `needed`, within the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class Venue:
    """The processes serving the connections: their URLs, and their pids for the CPU they use."""

    def __init__(self, name: str, urls: list[str], pids: list[int]) -> None:
        self.name = name
        self.urls = urls
        self.pids = pids
        self.pipes: list[Pipeline] = []

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)


def started(server: ServerProcess) -> int:
    server.start()
    return server.pid


@contextmanager
def single(tmp: Path) -> Iterator[Venue]:
    server = ServerProcess(tmp / "serve", config=WIDE_LIMITS)
    pid = started(server)
    try:
        yield Venue("hftsim serve", [server.url], [pid])
    finally:
        server.stop()


@contextmanager
def cluster(tmp: Path) -> Iterator[Venue]:
    """nats-server, two shards and two gateways (sharing one users' database), stopped in reverse."""
    with ExitStack() as stack:
        nats = stack.enter_context(NatsServer(tmp / "nats"))
        pids = [nats.pid]
        env_layout = {"HFTSIM_CLUSTER__SHARDS": orjson.dumps(SHARDS).decode()}
        for name in SHARDS:
            shard = subprocess.Popen(
                [sys.executable, "-m", "hftsim", "engine", "--shard", name, "--nats", nats.url,
                 "--data-dir", str(tmp / "shards")],
                env={**os.environ, **env_layout}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(shard.wait)
            stack.callback(shard.terminate)
            pids.append(shard.pid)
        urls = []
        for i in range(2):
            gateway = ServerProcess(
                tmp / "gateways",
                config={
                    **WIDE_LIMITS,
                    "cluster": {"nats_url": nats.url, "shards": SHARDS},
                },
            )
            gateway.log_path = tmp / f"gateway-{i}.log"
            pids.append(started(gateway))
            stack.callback(gateway.stop)
            urls.append(gateway.url)
        yield Venue("2 gateways, 2 shards", urls, pids)


async def connect(venue: Venue, n: int) -> None:
    """`n` connections, spread evenly over the venue's gateways, each a guest logged in."""
    for k in range(n):
        url = venue.urls[k % len(venue.urls)]
        sym = list(ORDERS)[(k // len(venue.urls)) % len(ORDERS)]
        price = ORDERS[sym]

        def make(msg_id: str, i: int, sym: str = sym, price: str = price) -> bytes:
            return ORDER.format(msg_id, sym, "buy" if i % 2 else "sell", price).encode()

        pipe = await Pipeline.open(
            int(url.rsplit(":", 1)[1]),
            "/ws/cmd",
            handshake(url)["token"],
            f"c{k}",
            make,
            1,
        )
        await pipe.request(LOGIN)
        venue.pipes.append(pipe)


async def phase(venue: Venue, seconds: float) -> dict[str, Any]:
    cpu0, me0 = venue.cpu(), cpu_seconds()
    t0 = time.monotonic()
    await asyncio.gather(*(p.phase(seconds) for p in venue.pipes))
    elapsed = time.monotonic() - t0
    answered = sum(p.answered for p in venue.pipes)
    return {
        "orders_per_s": answered / seconds,
        "latency_us": {k: v / 1000 for k, v in percentiles([s for p in venue.pipes for s in p.latencies]).items()},
        "venue_cpu_share": (venue.cpu() - cpu0) / elapsed,
        "venue_cpu_us_per_order": (venue.cpu() - cpu0) / max(1, answered) * 1e6,
        "client_cpu_share": (cpu_seconds() - me0) / elapsed,
    }


async def measure(venues: list[Venue], n: int, seconds: float, reps: int) -> dict[str, list[dict[str, Any]]]:
    for venue in venues:
        await connect(venue, n)
        await phase(venue, min(1.0, seconds))  # warm-up
    runs: dict[str, list[dict[str, Any]]] = {v.name: [] for v in venues}
    for rep in range(reps):
        for venue in venues if rep % 2 == 0 else reversed(venues):
            runs[venue.name].append(await phase(venue, seconds))
    for venue in venues:
        for pipe in venue.pipes:
            await pipe.close()
    return runs


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "orders_per_s": median(r["orders_per_s"] for r in runs),
        "latency_us": {k: median(r["latency_us"][k] for r in runs) for k in runs[0]["latency_us"]},
        "venue_cpu_share": median(r["venue_cpu_share"] for r in runs),
        "venue_cpu_us_per_order": median(r["venue_cpu_us_per_order"] for r in runs),
        "client_cpu_share": median(r["client_cpu_share"] for r in runs),
    }


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(1000, 1000, 20)
    seconds = scale.pick(5.0, 3.0, 0.3)
    fd_limit = raise_fd_limit(4 * n + 256)
    with (
        tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp,
        ExitStack() as stack,
    ):
        venues = [
            stack.enter_context(single(Path(tmp))),
            stack.enter_context(cluster(Path(tmp))),
        ]
        runs = uvloop.run(measure(venues, n, seconds, scale.reps))
    one, two = (summarize(runs[v.name]) for v in venues)
    note = (f"venue CPU {two['venue_cpu_share']:.2f} vs {one['venue_cpu_share']:.2f} "
            f"({two['venue_cpu_us_per_order']:.0f} vs {one['venue_cpu_us_per_order']:.0f} µs/order), "
            f"load generator CPU {two['client_cpu_share']:.2f}")  # fmt: skip
    rows = [
        row(NAME, f"{n} connections over 2 gateways: orders/s", two["orders_per_s"], "orders/s",
            "hftsim serve, same connections", one["orders_per_s"], note=note),
        row(NAME, f"{n} connections over 2 gateways: latency p50", two["latency_us"]["p50"], "µs",
            "hftsim serve", one["latency_us"]["p50"]),
        row(NAME, f"{n} connections over 2 gateways: latency p99", two["latency_us"]["p99"], "µs",
            "hftsim serve", one["latency_us"]["p99"]),
    ]  # fmt: skip
    return {
        "connections": n,
        "orders_in_flight_per_connection": 1,
        "seconds_per_phase": seconds,
        "fd_limit": fd_limit,
        "serve": one,
        "cluster": two,
        "runs": runs,
        "rows": rows,
    }
