"""3. Sustained order throughput through one gateway process: 1, 10 and 50 clients pipelining.

Each client is one CMD socket (the raw protocol client of bench/wsraw.py,
logged in as a guest) keeping `WINDOW` orders in flight: a new order goes out as soon as
a response comes back. Orders alternate buy and sell, quantity 1, at one
price, so every order either rests or trades with (or, for its own order,
self-trade-cancels) the one before: the engine matches all the time while
the book stays a few orders deep. Per phase: responses per second (orders
answered within the phase), and send → response latency.

Baseline, alternating with the gateway in the same run: the same clients
against `bench.echo_server`, each request answered with as many frames,
of the same average size, as the gateway sent per order in the warm-up.
The load generator is one process (uvloop) on the same two cores as the
server, so the server's CPU share and CPU time per order are reported
beside each figure: at a share of 1.0 the server is the bottleneck, below
it the load generator or the rest of the machine is. (With the `websockets`
client library as the load generator the echo baseline itself topped out at
12-25k orders/s, the client being the limit; the raw client lifts that.)
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

from .common import Scale, cpu_seconds, median, percentiles, row
from .echo_server import request as echo_request
from .fanout import server_pid
from .gateway import WIDE_LIMITS, Child, handshake
from .wsraw import RawSocket

NAME = "throughput"
CLIENTS = (1, 10, 50)
WINDOW = 16
"""Orders in flight per client."""
TARGET = 30_000
DRAIN_S = 10.0
RESPONSE = b'{"type":"response"'
ORDER = ('{{"type":"request","ver":1,"msg_id":"{}","ts":0,"op":"order.place","payload":'
         '{{"sym":"ACME","side":"{}","type":"limit","price":"100.00","qty":1}}}}')  # fmt: skip


class Pipeline:
    """One socket, `WINDOW` requests in flight, latency per response.

    Each response sends the next request at once, from the callback that
    read it, as an event-driven trading client answers the market (and as
    bench/transport.py's pipelined run does). Sending from a coroutine that
    waited on a semaphore for a free slot cost the generator a task and
    loop passes per order (`asyncio.wait_for` wraps each wait in one), so
    the requests left one per pass instead of a window's worth at a time,
    and the generator, not the server, set the rate.
    """

    def __init__(self, name: str, make: Any, window: int = WINDOW) -> None:
        self.name = name
        self.make = make
        """make(msg_id, i) -> request bytes"""
        self.window = window
        self.socket: RawSocket | None = None
        self.sent: dict[str, int] = {}
        self.frames = 0
        self.bytes = 0
        self._i = 0
        self._recording = False
        self._until = 0
        loop = asyncio.get_running_loop()
        self._first_response = loop.create_future()
        self._drained = loop.create_future()
        self.latencies: list[int] = []
        self.answered = 0

    @classmethod
    async def open(cls, port: int, path: str, token: str, name: str, make: Any, window: int = WINDOW) -> Pipeline:
        pipe = cls(name, make, window)
        pipe.socket = await RawSocket.connect("127.0.0.1", port, path, token, pipe.on_text)
        return pipe

    def on_text(self, data: bytes, now: float) -> None:
        self.frames += 1
        self.bytes += len(data)
        if data.startswith(RESPONSE):
            done = time.perf_counter_ns()
            if not self._first_response.done():
                self._first_response.set_result(None)
            t0 = self.sent.pop(orjson.loads(data)["corr_id"], None)
            if t0 is None or not self._recording:
                return
            if done <= self._until:
                self.answered += 1
                self.latencies.append(done - t0)
                self._send_next()
            elif not self.sent and not self._drained.done():
                self._drained.set_result(None)

    def _send_next(self) -> None:
        assert self.socket is not None
        self._i += 1
        msg_id = f"{self.name}-{self._i}"
        data = self.make(msg_id, self._i)
        self.sent[msg_id] = time.perf_counter_ns()
        self.socket.send_text(data)

    async def request(self, text: bytes) -> None:
        """Send one request outside the pipeline (login) and wait for its response."""
        assert self.socket is not None
        self.socket.send_text(text)
        await asyncio.wait_for(self._first_response, DRAIN_S)

    async def phase(self, seconds: float) -> None:
        """Send for `seconds`, recording what is answered within them; then let the window drain."""
        self.latencies = []
        self.answered = 0
        self._drained = asyncio.get_running_loop().create_future()
        self._until = time.perf_counter_ns() + int(seconds * 1e9)
        self._recording = True
        for _ in range(self.window):
            self._send_next()
        try:
            await asyncio.wait_for(self._drained, seconds + DRAIN_S)
        except TimeoutError:
            pass  # answers lost past the drain time are simply not counted
        self._recording = False

    async def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


async def open_gateway(url: str, n: int) -> list[Pipeline]:
    port = int(url.rsplit(":", 1)[1])

    async def one(k: int) -> Pipeline:
        token = handshake(url)["token"]
        pipe = await Pipeline.open(
            port,
            "/ws/cmd",
            token,
            f"c{k}",
            lambda msg_id, i: ORDER.format(msg_id, "buy" if i % 2 else "sell").encode(),
        )
        await pipe.request(orjson.dumps({"type": "request", "ver": 1, "msg_id": "login", "ts": 0, "op": "auth.login",
                                         "payload": {"guest": True}}))  # fmt: skip
        return pipe

    return [await one(k) for k in range(n)]


async def open_echo(port: int, n: int, sizes: list[int], request_size: int) -> list[Pipeline]:
    async def one(k: int) -> Pipeline:
        return await Pipeline.open(
            port,
            "/",
            "-",
            f"c{k}",
            lambda msg_id, i: echo_request(sizes, msg_id, request_size).encode(),
        )

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
            sides = [
                ("gateway", gateway, server_pid(server)),
                ("echo", echoes, echo.proc.pid),
            ]
            for rep in range(reps):
                for name, pipes, pid in sides if rep % 2 == 0 else reversed(sides):
                    runs[name].append(await phase(pipes, seconds, pid))
            for pipe in gateway + echoes:
                await pipe.close()
            results[str(n)] = {
                "clients": n,
                "frames_per_order": frames / orders,
                "bytes_per_frame": avg,
                "runs": runs,
            }
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
    with (
        tempfile.TemporaryDirectory(prefix="bench-tp-") as tmp,
        server_process(Path(tmp), config=WIDE_LIMITS) as server,
    ):
        results = uvloop.run(measure(server, seconds, scale.reps, CLIENTS))
    rows = []
    for n in CLIENTS:
        r = results[str(n)]
        g, e = summarize(r["runs"]["gateway"]), summarize(r["runs"]["echo"])
        r["gateway"], r["echo"] = g, e
        best = n == max(
            CLIENTS,
            key=lambda c: summarize(results[str(c)]["runs"]["gateway"])["orders_per_s"],
        )
        rows.append(
            row(
                NAME,
                f"{n} clients: orders/s",
                g["orders_per_s"],
                "orders/s",
                "websockets echo, same frames",
                e["orders_per_s"],
                target=f">= {TARGET:,}/s" if best else None,
                met=g["orders_per_s"] >= TARGET if best else None,
                note=f"server CPU {g['server_cpu_share']:.2f} ({g['server_cpu_us_per_order']:.0f} µs/order, "
                f"so {1e6 / g['server_cpu_us_per_order']:,.0f}/s per core), "
                f"load generator CPU {g['client_cpu_share']:.2f}",
            )
        )
        rows.append(
            row(
                NAME,
                f"{n} clients: latency p50",
                g["latency_us"]["p50"],
                "µs",
                "websockets echo",
                e["latency_us"]["p50"],
            )
        )
        rows.append(
            row(
                NAME,
                f"{n} clients: latency p99",
                g["latency_us"]["p99"],
                "µs",
                "websockets echo",
                e["latency_us"]["p99"],
            )
        )
    return {
        "window_per_client": WINDOW,
        "seconds_per_phase": seconds,
        "clients": results,
        "rows": rows,
    }
