"""3. Sustained order throughput through one gateway process: 1, 10 and 50 clients pipelining.

Each client is one CMD socket (plain `websockets` client, logged in as a
guest) keeping `WINDOW` orders in flight: a new order goes out as soon as
a response comes back. Orders alternate buy and sell, quantity 1, at one
price, so every order either rests or trades with (or, for its own order,
self-trade-cancels) the one before: the engine matches all the time while
the book stays a few orders deep. Per phase: responses per second (orders
answered within the phase), and send → response latency.

Baseline, alternating with the gateway in the same run: the same clients
against `bench.echo_server`, each request answered with as many frames,
of the same average size, as the gateway sent per order in the warm-up.
The load generator is one process (uvloop) on the same two cores as the
server, so the server's CPU share is reported beside each figure: at 1.0
the server is the bottleneck, below it the clients or the machine are.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import uvloop
from hftsim.testing import ServerProcess, server_process
from websockets.asyncio.client import ClientConnection, connect

from .common import Scale, cpu_seconds, median, percentiles, row
from .echo_server import request as echo_request
from .fanout import server_pid
from .gateway import WIDE_LIMITS, Child, handshake

NAME = "throughput"
CLIENTS = (1, 10, 50)
WINDOW = 16
"""Orders in flight per client."""
TARGET = 30_000
DRAIN_S = 10.0
RESPONSE = '{"type":"response"'
ORDER = ('{{"type":"request","ver":1,"msg_id":"{}","ts":0,"op":"order.place","payload":'
         '{{"sym":"ACME","side":"{}","type":"limit","price":"100.00","qty":1}}}}')  # fmt: skip


class Pipeline:
    """One socket, `WINDOW` requests in flight, latency per response."""

    def __init__(self, ws: ClientConnection, name: str, make: Any) -> None:
        self.ws = ws
        self.name = name
        self.make = make
        """make(msg_id, i) -> request text"""
        self.sent: dict[str, int] = {}
        self.frames = 0
        self.bytes = 0
        self._i = 0
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._window = asyncio.Semaphore(WINDOW)
        self._recording = False
        self._until = 0
        self.latencies: list[int] = []
        self.answered = 0

    async def _read(self) -> None:
        clock = time.perf_counter_ns
        sent = self.sent
        async for data in self.ws:
            assert isinstance(data, str)
            self.frames += 1
            self.bytes += len(data)
            if data.startswith(RESPONSE):
                now = clock()
                t0 = sent.pop(orjson.loads(data)["corr_id"], None)
                self._window.release()
                if t0 is not None and self._recording and now <= self._until:
                    self.answered += 1
                    self.latencies.append(now - t0)

    async def phase(self, seconds: float) -> None:
        """Send for `seconds`, recording what is answered within them; then let the window drain."""
        self.latencies = []
        self.answered = 0
        clock = time.perf_counter_ns
        self._until = clock() + int(seconds * 1e9)
        self._recording = True
        send = self.ws.send
        while clock() < self._until:
            await asyncio.wait_for(self._window.acquire(), DRAIN_S)
            self._i += 1
            msg_id = f"{self.name}-{self._i}"
            text = self.make(msg_id, self._i)
            self.sent[msg_id] = clock()
            await send(text)
        deadline = time.monotonic() + DRAIN_S
        while self.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._recording = False

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


async def open_gateway(url: str, n: int) -> list[Pipeline]:
    async def one(k: int) -> Pipeline:
        token = handshake(url)["token"]
        ws = await connect(url.replace("http://", "ws://") + "/ws/cmd", compression=None, max_size=2**24,
                           additional_headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        await ws.send(orjson.dumps({"type": "request", "ver": 1, "msg_id": "login", "ts": 0, "op": "auth.login",
                                    "payload": {"guest": True}}).decode())  # fmt: skip
        while not (await ws.recv()).startswith(RESPONSE):
            pass
        return Pipeline(ws, f"c{k}", lambda msg_id, i: ORDER.format(msg_id, "buy" if i % 2 else "sell"))

    return [await one(k) for k in range(n)]


async def open_echo(port: int, n: int, sizes: list[int], request_size: int) -> list[Pipeline]:
    async def one(k: int) -> Pipeline:
        ws = await connect(f"ws://127.0.0.1:{port}", compression=None, max_size=2**24)
        return Pipeline(ws, f"c{k}", lambda msg_id, i: echo_request(sizes, msg_id, request_size))

    return [await one(k) for k in range(n)]


async def phase(pipes: list[Pipeline], seconds: float, pid: int) -> dict[str, Any]:
    cpu0, me0 = cpu_seconds(pid), cpu_seconds()
    t0 = time.monotonic()
    await asyncio.gather(*(p.phase(seconds) for p in pipes))
    elapsed = time.monotonic() - t0
    samples = [s for p in pipes for s in p.latencies]
    return {
        "orders_per_s": sum(p.answered for p in pipes) / seconds,
        "latency_us": {k: v / 1000 for k, v in percentiles(samples).items()},
        "server_cpu_share": (cpu_seconds(pid) - cpu0) / elapsed,
        "server_cpu_us_per_order": (cpu_seconds(pid) - cpu0) / max(1, sum(p.answered for p in pipes)) * 1e6,
        "client_cpu_share": (cpu_seconds() - me0) / elapsed,
    }


async def measure(server: ServerProcess, seconds: float, reps: int, counts: tuple[int, ...]) -> dict[str, Any]:
    echo, hello = await Child.start("bench.echo_server")
    results: dict[str, Any] = {}
    try:
        for n in counts:
            gateway = await open_gateway(server.url, n)
            await phase(gateway, min(1.0, seconds), server_pid(server))  # warm-up, and the frames per order
            frames = sum(p.frames for p in gateway)
            orders = sum(p._i for p in gateway)
            per_order = max(1, round(frames / orders))
            avg = round(sum(p.bytes for p in gateway) / frames)
            echoes = await open_echo(hello["port"], n, [avg] * per_order, len(ORDER.format("c0-1", "sell")))
            await phase(echoes, min(1.0, seconds), echo.proc.pid)
            runs: dict[str, list[dict[str, Any]]] = {"gateway": [], "echo": []}
            sides = [("gateway", gateway, server_pid(server)), ("echo", echoes, echo.proc.pid)]
            for rep in range(reps):
                for name, pipes, pid in sides if rep % 2 == 0 else reversed(sides):
                    runs[name].append(await phase(pipes, seconds, pid))
            for pipe in gateway + echoes:
                await pipe.close()
            results[str(n)] = {"clients": n, "frames_per_order": frames / orders, "bytes_per_frame": avg, "runs": runs}
    finally:
        await echo.quit()
    return results


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "orders_per_s": median(r["orders_per_s"] for r in runs),
        "latency_us": {k: median(r["latency_us"][k] for r in runs) for k in runs[0]["latency_us"]},
        "server_cpu_share": median(r["server_cpu_share"] for r in runs),
        "server_cpu_us_per_order": median(r["server_cpu_us_per_order"] for r in runs),
        "client_cpu_share": median(r["client_cpu_share"] for r in runs),
    }


def run(scale: Scale) -> dict[str, Any]:
    seconds = scale.pick(5.0, 2.0, 0.3)
    with tempfile.TemporaryDirectory(prefix="bench-tp-") as tmp, server_process(Path(tmp), config=WIDE_LIMITS) as server:
        results = uvloop.run(measure(server, seconds, scale.reps, CLIENTS))
    rows = []
    for n in CLIENTS:
        r = results[str(n)]
        g, e = summarize(r["runs"]["gateway"]), summarize(r["runs"]["echo"])
        r["gateway"], r["echo"] = g, e
        best = n == max(CLIENTS, key=lambda c: summarize(results[str(c)]["runs"]["gateway"])["orders_per_s"])
        rows.append(row(NAME, f"{n} clients: orders/s", g["orders_per_s"], "orders/s", "websockets echo, same frames",
                        e["orders_per_s"], target=f">= {TARGET:,}/s" if best else None,
                        met=g["orders_per_s"] >= TARGET if best else None,
                        note=f"server CPU {g['server_cpu_share']:.2f} ({g['server_cpu_us_per_order']:.0f} µs/order, "
                             f"so {1e6 / g['server_cpu_us_per_order']:,.0f}/s per core), "
                             f"load generator CPU {g['client_cpu_share']:.2f}"))
        rows.append(row(NAME, f"{n} clients: latency p50", g["latency_us"]["p50"], "µs", "websockets echo",
                        e["latency_us"]["p50"]))
        rows.append(row(NAME, f"{n} clients: latency p99", g["latency_us"]["p99"], "µs", "websockets echo",
                        e["latency_us"]["p99"]))
    return {"window_per_client": WINDOW, "seconds_per_phase": seconds, "clients": results, "rows": rows}
