"""2. Order round trip through the gateway with market_client, beside a bare websockets echo.

One order at a time (no pipelining), after a warm-up:

- **place → ack**: `await client.place_order(...)` of a limit order that rests,
  until its response (one frame: the response carries the order, and the
  placing socket gets no `order.accepted`);
- **place → fill**: a marketable buy against a resting sell of another user,
  until the `order.filled` event reaches the client's event hook.

Baseline, in the same run with the sides alternating: a `websockets` client
sending a request of the same size to `bench.echo_server`, which answers
with frames of the sizes the gateway sent for that order (the response;
filled + account.update + response), timed to the
same frame (the response; the fill). Both clients run on uvloop in this
process; the gateway and the echo server are each their own process.
The resting sell is placed over HTTP by a user with no socket open, so no
maker events reach this process during the timing.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from hftsim.testing import ServerProcess, server_process
from market_client import MarketClient
from market_client._envelope import Envelopes
from websockets.asyncio.client import ClientConnection, connect

from .common import Scale, median, percentiles, row
from .echo_server import request as echo_request
from .gateway import WIDE_LIMITS, Child, handshake

NAME = "roundtrip"
SYM = "ACME"
REST_PRICE = "99.00"
MAKER_PRICE = "100.00"
MAKER_QTY = 100_000
CANCEL_EVERY = 2_000
"""Resting orders are canceled in batches this size: one cancel_all of 20,000 orders queues 20,000
order.canceled events at once, which is the default `send_queue_limit`, and the gateway cuts the
socket off as a slow consumer (4008)."""
TARGET_P50 = 1.5
TARGET_P99 = 2.5


def micros(samples: list[int]) -> dict[str, float]:
    return {k: v / 1000 for k, v in percentiles(samples).items()}


async def frame_sizes(url: str) -> dict[str, list[int]]:
    """The frames the gateway sends for one resting order and for one fill, and the request's size."""
    token = handshake(url)["token"]
    async with connect(url.replace("http://", "ws://") + "/ws/cmd",
                       additional_headers={"Authorization": f"Bearer {token}"}) as ws:  # fmt: skip
        envelopes = Envelopes("c")

        async def exchange(op: str, payload: dict[str, Any]) -> tuple[int, list[int]]:
            msg_id, frame = envelopes.request(op, payload)
            await ws.send(frame.decode())
            sizes = []
            while True:
                data = await ws.recv()
                sizes.append(len(data))
                msg = orjson.loads(data)
                if msg["type"] == "response" and msg["corr_id"] == msg_id:
                    return len(frame), sizes

        await exchange("auth.login", {"guest": True})
        order = {
            "sym": SYM,
            "side": "buy",
            "type": "limit",
            "qty": 1,
            "tif": "GTC",
            "post_only": False,
        }
        request_size, ack = await exchange("order.place", {**order, "price": REST_PRICE})
        place_maker(url)
        _, fill = await exchange("order.place", {**order, "price": MAKER_PRICE})
        await exchange("order.cancel_all", {})
    return {"request": [request_size], "ack": ack, "fill": fill}


def place_maker(url: str) -> None:
    """A deep resting sell from a user with no socket open (so no maker events reach us)."""
    token = handshake(url, guest=True)["token"]
    body = {"type": "request", "ver": 1, "msg_id": "m", "ts": 0, "op": "order.place",
            "payload": {"sym": SYM, "side": "sell", "price": MAKER_PRICE, "qty": MAKER_QTY}}  # fmt: skip
    answer = httpx.post(f"{url}/api/request", json=body, headers={"Authorization": f"Bearer {token}"}).json()
    if not answer.get("ok"):
        raise RuntimeError(f"maker order refused: {answer}")


class Gateway:
    def __init__(self, server: ServerProcess, client: MarketClient) -> None:
        self.server = server
        self.client = client
        self.filled_at: int | None = None
        client.set_event_hook(self._on_event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if self.filled_at is None and event["op"] in (
            "order.filled",
            "order.partially_filled",
        ):
            self.filled_at = time.perf_counter_ns()

    async def ack(self, n: int) -> list[int]:
        place = self.client.place_order
        clock = time.perf_counter_ns
        samples = []
        for i in range(1, n + 1):
            t0 = clock()
            await place(SYM, "buy", REST_PRICE, 1)
            samples.append(clock() - t0)
            if i % CANCEL_EVERY == 0:
                await self.client.cancel_all(SYM)  # untimed; see CANCEL_EVERY
        await self.client.cancel_all(SYM)
        return samples

    async def fill(self, n: int) -> list[int]:
        place_maker(self.server.url)
        place = self.client.place_order
        clock = time.perf_counter_ns
        samples: list[int] = []
        for _ in range(n):
            self.filled_at = None
            t0 = clock()
            await place(SYM, "buy", MAKER_PRICE, 1)
            assert self.filled_at is not None, "no fill event before the response"
            samples.append(self.filled_at - t0)
        return samples


class Echo:
    def __init__(self, ws: ClientConnection, sizes: dict[str, list[int]]) -> None:
        self.ws = ws
        self.sizes = sizes
        self.ids = 0

    async def _run(self, n: int, sizes: list[int], timed_frame: int) -> list[int]:
        ws = self.ws
        clock = time.perf_counter_ns
        size = self.sizes["request"][0]
        samples = []
        for _ in range(n):
            self.ids += 1
            text = echo_request(sizes, f"c-{self.ids}", size)
            t0 = clock()
            await ws.send(text)
            for _ in range(timed_frame):
                await ws.recv()
            samples.append(clock() - t0)
            for _ in range(len(sizes) - timed_frame):
                await ws.recv()
        return samples

    async def ack(self, n: int) -> list[int]:
        return await self._run(n, self.sizes["ack"], len(self.sizes["ack"]))

    async def fill(self, n: int) -> list[int]:
        return await self._run(n, self.sizes["fill"], 1)  # the order.filled event comes first


async def measure(server: ServerProcess, n: int, warmup: int, reps: int) -> dict[str, Any]:
    sizes = await frame_sizes(server.url)
    echo_proc, hello = await Child.start("bench.echo_server")
    client = await MarketClient.connect(server.url, connect_md=False)
    try:
        async with connect(f"ws://127.0.0.1:{hello['port']}", max_size=2**24) as ws:
            gateway, echo = Gateway(server, client), Echo(ws, sizes)
            for side in (
                gateway,
                echo,
            ):  # warm-up: caches, JIT-less but allocator and branch state
                await side.ack(warmup)
                await side.fill(warmup)
            runs: dict[str, list[dict[str, float]]] = {k: [] for k in ("gateway ack", "echo ack", "gateway fill",
                                                                       "echo fill")}  # fmt: skip
            sides = [("gateway ack", gateway.ack), ("echo ack", echo.ack), ("gateway fill", gateway.fill),
                     ("echo fill", echo.fill)]  # fmt: skip
            for rep in range(reps):
                for name, fn in sides if rep % 2 == 0 else reversed(sides):
                    runs[name].append(micros(await fn(n)))
    finally:
        await client.aclose()
        await echo_proc.quit()
    return {"frame_sizes": sizes, "runs": runs}


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(20_000, 5_000, 100)
    warmup = scale.pick(2_000, 500, 20)
    with (
        tempfile.TemporaryDirectory(prefix="bench-rt-") as tmp,
        server_process(Path(tmp), config=WIDE_LIMITS) as server,
    ):
        measured = uvloop.run(measure(server, n, warmup, scale.reps))
    runs = measured["runs"]
    pcts = {name: {k: median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    ack, echo_ack, fill, echo_fill = (
        pcts["gateway ack"],
        pcts["echo ack"],
        pcts["gateway fill"],
        pcts["echo fill"],
    )
    r50 = ack["p50"] / echo_ack["p50"]
    r99 = ack["p99"] / echo_ack["p99"]
    rows = [
        row(NAME, "place→ack p50", ack["p50"], "µs", "websockets echo, same bytes", echo_ack["p50"],
            target=f"<= {TARGET_P50}x echo", met=r50 <= TARGET_P50),
        row(NAME, "place→ack p90", ack["p90"], "µs", "websockets echo, same bytes", echo_ack["p90"]),
        row(NAME, "place→ack p99", ack["p99"], "µs", "websockets echo, same bytes", echo_ack["p99"],
            target=f"<= {TARGET_P99}x echo", met=r99 <= TARGET_P99),
        row(NAME, "place→ack p99.9", ack["p99.9"], "µs", "websockets echo, same bytes", echo_ack["p99.9"]),
        row(NAME, "place→fill event p50", fill["p50"], "µs", "websockets echo, same bytes", echo_fill["p50"]),
        row(NAME, "place→fill event p90", fill["p90"], "µs", "websockets echo, same bytes", echo_fill["p90"]),
        row(NAME, "place→fill event p99", fill["p99"], "µs", "websockets echo, same bytes", echo_fill["p99"]),
        row(NAME, "place→fill event p99.9", fill["p99.9"], "µs", "websockets echo, same bytes", echo_fill["p99.9"]),
    ]  # fmt: skip
    return {
        "orders_per_run": n,
        "warmup": warmup,
        "latency_us": pcts,
        **measured,
        "rows": rows,
    }
