"""8. The order path against its transport floors, one connection, and the SDK's own cost.

Three echo servers (`bench/echo_server.py`) answer a request of the order's
size with messages of exactly the sizes the gateway sends for a resting
order (one frame now: the response): `websockets` (the gateway's transport
before), picows (its transport now) and plain length-prefixed TCP (the floor
under any WebSocket). One lean client (`bench/lean.py`: picows, or TCP for
the TCP echo) drives the gateway and the echoes alike, so a ratio compares
servers.

- **order→ack**: one order in flight, a limit buy that rests, until its
  response; the echoes: one request until its reply.
- **SDK**: `MarketClient.place_order` of the same order, one in flight, each
  run right beside the lean client's on the gateway (so a shared machine's
  load hits both alike; the paired ratios' median is noted too); the bench
  process's CPU time per order, less the lean client's, is the SDK's own
  CPU per order. Without a network too (`bench/sdk_loopback.py`: both
  clients in process over a connection that answers at once), in a hot
  loop and with the caches evicted before each order as a socket's wait
  does.
- **pipelined**: one connection keeping `WINDOW` orders (or echo requests)
  in flight, orders alternating buy and sell at one price so the book stays
  shallow; orders (messages) answered per second, and the server's CPU time
  per order from /proc.

Every side runs `scale.reps` times, sides alternating; figures are medians.
Resting orders are canceled between runs, untimed.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import uvloop
from hftsim.testing import ServerProcess, server_process
from market_client import MarketClient

from .common import Scale, cpu_seconds, median, percentiles, row
from .echo_server import request as echo_request
from .fanout import server_pid
from .gateway import WIDE_LIMITS, Child, handshake
from .lean import Lean, LeanTcp, LeanWs
from .sdk_loopback import COLD_KIB
from .sdk_loopback import measure as measure_loopback

NAME = "transport"
SYM = "ACME"
REST_PRICE = "99.00"
WINDOW = 16
ECHOES = ("websockets", "picows", "tcp")
TARGETS = {"ack_ws": 0.85, "ack_picows": 1.6, "sdk": 1.15, "pipelined": 0.9, "cpu_us": 18.0}

CONFIG = {**WIDE_LIMITS, "accounts": {"initial_cash": 10**10}}
"""Cash enough for every resting buy of a run (they are canceled between runs)."""

_ids = itertools.count(1)


def order(msg_id: str, side: str = "buy", price: str = REST_PRICE, client_order_id: str | None = None) -> bytes:
    payload: dict[str, Any] = {"sym": SYM, "side": side, "type": "limit", "price": price, "qty": 1}
    if client_order_id is not None:
        payload["client_order_id"] = client_order_id
    return orjson.dumps(
        {"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": "order.place", "payload": payload}
    )


def echo_frame(sizes: list[int], size: int, msg_id: str, i: int) -> bytes:
    return echo_request(sizes, msg_id, size).encode()


class Side:
    """One thing measured: a client, how to make its n-th request, and the process that answers."""

    def __init__(self, name: str, lean: Lean, make: Callable[[str, int], bytes], pid: int) -> None:
        self.name = name
        self.lean = lean
        self.make = make
        self.pid = pid

    async def acks(self, n: int) -> dict[str, Any]:
        lean, make = self.lean, self.make
        clock = time.perf_counter_ns
        samples = []
        for i in range(n):
            msg_id = f"a{next(_ids)}"
            t0 = clock()  # a client builds its request on its own time, as `place_order` does
            await lean.ask(make(msg_id, i), msg_id)
            samples.append(clock() - t0)
        return {k: v / 1000 for k, v in percentiles(samples).items()}

    async def pipelined(self, n: int) -> dict[str, Any]:
        """`n` requests, WINDOW in flight: requests per second and the server's CPU µs per request."""
        lean, make = self.lean, self.make
        done = asyncio.get_running_loop().create_future()
        sent = answered = 0

        def send_next() -> None:
            nonlocal sent
            lean.send(make(f"p{next(_ids)}", sent))
            sent += 1

        def on_response(msg: dict[str, Any]) -> None:
            nonlocal answered
            answered += 1
            if sent < n:
                send_next()
            elif answered == n and not done.done():
                done.set_result(None)

        lean.on_response = on_response
        cpu0, t0 = cpu_seconds(self.pid), time.perf_counter()
        for _ in range(min(WINDOW, n)):
            send_next()
        await done
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(self.pid) - cpu0
        lean.on_response = None
        return {"per_s": n / elapsed, "server_cpu_us": cpu / n * 1e6}


async def cancel_all(url: str, lean: Lean) -> None:
    msg_id = f"x{next(_ids)}"
    body = {"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": "order.cancel_all", "payload": {}}
    await lean.ask(orjson.dumps(body), msg_id)


async def sdk_acks(client: MarketClient, n: int, server: int) -> dict[str, Any]:
    place = client.place_order
    clock = time.perf_counter_ns
    samples = []
    cpu0, server0 = time.process_time(), cpu_seconds(server)
    for _ in range(n):
        t0 = clock()
        await place(SYM, "buy", REST_PRICE, 1)
        samples.append(clock() - t0)
    cpu, server_cpu = time.process_time() - cpu0, cpu_seconds(server) - server0
    return {
        **{k: v / 1000 for k, v in percentiles(samples).items()},
        "client_cpu_us": cpu / n * 1e6,
        "server_cpu_us": server_cpu / n * 1e6,
    }


async def lean_acks(side: Side, n: int) -> dict[str, Any]:
    """`side.acks` with the CPU time per request of both processes: one at a time, the two often share a core
    (the machine's other work holds the other), and then the round trip is about their two CPU times added."""
    cpu0, server0 = time.process_time(), cpu_seconds(side.pid)
    result = await side.acks(n)
    return {
        **result,
        "client_cpu_us": (time.process_time() - cpu0) / n * 1e6,
        "server_cpu_us": (cpu_seconds(side.pid) - server0) / n * 1e6,
    }


async def measure(server: ServerProcess, n: int, n_pipe: int, warmup: int, reps: int) -> dict[str, Any]:
    url = server.url
    ws_url = url.replace("http://", "ws://") + "/ws/cmd"
    gateway = await LeanWs.open(ws_url, handshake(url, guest=True)["token"])
    size = len(order("a1234567"))
    ack_sizes = [len(b) for b in await frames_of_ack(url)]
    children: list[Child] = []
    sides: dict[str, Side] = {
        "gateway": Side("gateway", gateway, lambda m, i: order(m), server_pid(server)),
    }
    pipe_sides: dict[str, Side] = {
        "gateway": Side("gateway", gateway, lambda m, i: order(m, "buy" if i % 2 else "sell", "100.00"),
                        server_pid(server)),
    }  # fmt: skip
    client = await MarketClient.connect(url, connect_md=False)
    try:
        for kind in ECHOES:
            child, hello = await Child.start("bench.echo_server", kind)
            children.append(child)
            port = hello["port"]
            lean: Lean = await (LeanTcp.open(port) if kind == "tcp" else LeanWs.open(f"ws://127.0.0.1:{port}"))
            sides[kind] = Side(kind, lean, partial(echo_frame, ack_sizes, size), child.proc.pid)
            pipe_sides[kind] = sides[kind]
        for side in sides.values():
            await side.acks(warmup)
        await sdk_acks(client, warmup, server_pid(server))
        await cancel_all(url, gateway)
        runs: dict[str, list[dict[str, Any]]] = {}
        gateway_side, *echo_sides = sides.items()
        jobs: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = [
            (f"ack {gateway_side[0]}", partial(lean_acks, gateway_side[1], n)),
            # beside the lean client's run: the load they see is alike
            ("ack sdk", partial(sdk_acks, client, n, server_pid(server))),
            *((f"ack {k}", partial(lean_acks, s, n)) for k, s in echo_sides),
            *((f"pipelined {k}", partial(s.pipelined, n_pipe)) for k, s in pipe_sides.items()),
        ]
        for rep in range(reps):
            for name, job in jobs if rep % 2 == 0 else reversed(jobs):
                runs.setdefault(name, []).append(await job())
                await cancel_all(url, gateway)
    finally:
        await client.aclose()
        for side in sides.values():
            await side.lean.close()
        for child in children:
            await child.quit()
    return {"ack_frame_sizes": ack_sizes, "request_size": size, "runs": runs}


async def frames_of_ack(url: str) -> list[bytes]:
    """The frames the gateway sends the placing socket for one resting order."""
    frames: list[bytes] = []
    lean = await LeanWs.open(url.replace("http://", "ws://") + "/ws/cmd", handshake(url, guest=True)["token"])
    received = lean.received

    def keep(data: bytes) -> None:
        frames.append(data)
        received(data)

    lean.received = keep  # type: ignore[method-assign]
    await lean.ask(order("f1"), "f1")
    await cancel_all(url, lean)
    await lean.close()
    return frames[:1] if frames else frames


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(10_000, 3_000, 100)
    n_pipe = scale.pick(40_000, 10_000, 200)
    warmup = scale.pick(1_000, 300, 20)
    loopback = {
        "hot": uvloop.run(measure_loopback(scale.pick(20_000, 5_000, 200), scale.reps)),
        "cold": uvloop.run(measure_loopback(scale.pick(5_000, 2_000, 100), scale.reps, COLD_KIB)),
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-tr-") as tmp,
        server_process(Path(tmp), config=CONFIG) as server,
    ):
        measured = uvloop.run(measure(server, n, n_pipe, warmup, scale.reps))
    runs = measured["runs"]
    fig = {name: {k: median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    raw, sdk = fig["ack gateway"], fig["ack sdk"]
    pipe = fig["pipelined gateway"]
    sdk_cpu = sdk["client_cpu_us"] - raw["client_cpu_us"]
    paired = median(s["p50"] / r["p50"] for s, r in zip(runs["ack sdk"], runs["ack gateway"], strict=True))
    # The SDK's own CPU is a difference of two CPU times: on a loaded machine at small sizes noise can take it
    # below 0, shown as 0.
    rows = [
        row(NAME, "order→ack p50, lean client", raw["p50"], "µs", "websockets echo, same bytes",
            fig["ack websockets"]["p50"], target=f"<= {TARGETS['ack_ws']}x",
            met=raw["p50"] <= TARGETS["ack_ws"] * fig["ack websockets"]["p50"]),
        row(NAME, "order→ack p50, lean client", raw["p50"], "µs", "picows echo, same bytes",
            fig["ack picows"]["p50"], target=f"<= {TARGETS['ack_picows']}x",
            met=raw["p50"] <= TARGETS["ack_picows"] * fig["ack picows"]["p50"]),
        row(NAME, "order→ack p50, lean client", raw["p50"], "µs", "TCP echo, same bytes", fig["ack tcp"]["p50"]),
        row(NAME, "order→ack p99, lean client", raw["p99"], "µs", "picows echo, same bytes", fig["ack picows"]["p99"]),
        row(NAME, "server CPU per order, one at a time", raw["server_cpu_us"], "µs", "picows echo, CPU per reply",
            fig["ack picows"]["server_cpu_us"],
            note="woken for each order: on a busy machine the client and the server share a core and take turns"),
        row(NAME, "place_order p50 (SDK)", sdk["p50"], "µs", "lean client", raw["p50"],
            target=f"<= {TARGETS['sdk']}x", met=sdk["p50"] <= TARGETS["sdk"] * raw["p50"],
            note=f"median of the {len(runs['ack sdk'])} paired ratios (each run beside the lean one) {paired:.2f}x"),
        row(NAME, "place_order p99 (SDK)", sdk["p99"], "µs", "lean client", raw["p99"]),
        row(NAME, "SDK CPU per order (client process)", max(0.0, sdk_cpu), "µs", "lean client's CPU per order",
            raw["client_cpu_us"], note="the SDK's own cost: its process CPU per order less the lean client's"),
        row(NAME, "SDK CPU per order, no network", max(0.0, loopback["hot"]["own_cpu_us"]), "µs",
            "lean client's CPU per order, same connection", loopback["hot"]["lean_cpu_us"],
            note="in process, a connection answering at once, hot loop; median of the runs' SDK less lean"),
        row(NAME, "SDK CPU per order, no network, caches evicted", max(0.0, loopback["cold"]["own_cpu_us"]), "µs",
            "lean client's CPU per order, same connection", loopback["cold"]["lean_cpu_us"],
            note=f"as above, {COLD_KIB} KiB written before each order (untimed), as a socket's wait empties them"),
        row(NAME, "orders/s pipelined, one connection", pipe["per_s"], "/s", "picows echo, same bytes",
            fig["pipelined picows"]["per_s"], target=f">= {TARGETS['pipelined']}x",
            met=pipe["per_s"] >= TARGETS["pipelined"] * fig["pipelined picows"]["per_s"]),
        row(NAME, "orders/s pipelined, one connection", pipe["per_s"], "/s", "websockets echo, same bytes",
            fig["pipelined websockets"]["per_s"]),
        row(NAME, "orders/s pipelined, one connection", pipe["per_s"], "/s", "TCP echo, same bytes",
            fig["pipelined tcp"]["per_s"]),
        row(NAME, "server CPU per order, pipelined", pipe["server_cpu_us"], "µs", "picows echo, CPU per reply",
            fig["pipelined picows"]["server_cpu_us"], target=f"<= {TARGETS['cpu_us']:g} µs",
            met=pipe["server_cpu_us"] <= TARGETS["cpu_us"]),
    ]  # fmt: skip
    return {"orders_per_run": n, "pipelined_per_run": n_pipe, "window": WINDOW, "figures": fig, **measured,
            "loopback": loopback, "rows": rows}  # fmt: skip
