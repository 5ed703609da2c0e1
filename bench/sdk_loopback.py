"""The SDK's own CPU per order without a network: `MarketClient.place_order` beside a lean client, in one process.

Over a socket the SDK's cost hides among the kernel's and the server's
(and a shared machine's noise moves those by tens of per cent). Here both
clients talk to `Loopback`, an in-process connection that answers each
request on the next loop pass with a resting order's ack frame, built
the way the gateway builds it; both pay the same for the answer's making,
so the difference of their CPU per order is what the SDK adds: pricing,
the envelope, the session's bookkeeping, parsing into a `Response`, the
restated event and its handling. The lean client is `bench/lean.py`'s,
the least a client can do (orjson in and out, a future per request).

A hot loop flatters the SDK: over a socket the process sleeps while the
server works, other processes take the core, and the next order finds
its code and objects out of the CPU's caches, so every function and
object an order touches costs several times what a loop measures. With
`cold_kib` each order is preceded (untimed) by writing that much memory,
which evicts the caches as that wait does.

`python -m bench.sdk_loopback [--cold KIB] [--profile]`: the figures, or
the SDK's profile (cProfile, self time, largest first) over one run;
`--only sdk|lean` runs one client alone, for `bench/sdk_instructions.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import pstats
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import uvloop
from market_client import MarketClient
from market_client._envelope import Event
from market_client._session import RequestSession
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

from .common import median, percentiles
from .lean import Lean, LeanWs

TEXT = WSMsgType.TEXT
SYM = "ACME"
PRICE = "99.00"
COLD_KIB = 2048
"""Memory written before each order in the cold runs: a core's L2 on the bench machine (2 MiB), so an order's
code and objects come from L3, as after the other processes' work between two of a bot's orders."""
USER = {
    "user_id": 7,
    "username": "guest-7",
    "roles": ["trader"],
    "is_admin": False,
    "limits": {
        "messages_per_second": 100_000,
        "message_burst": 100_000,
        "user_messages_per_second": 100_000,
        "user_message_burst": 100_000,
    },
}
"""The login answer: the limits `hftsim.testing`'s servers announce (the gateway benchmarks' servers), so the SDK paces
its orders (its default) as it does on the gateway, under limits it never reaches."""


def ack(msg_id: str, payload: dict[str, Any], order_id: int) -> bytes:
    """The gateway's one frame for a resting order: the response carries the order and the command's gseq."""
    order = {
        "order_id": order_id, "client_order_id": payload.get("client_order_id"), "user_id": 7, "sym": payload["sym"],
        "side": payload["side"], "type": "limit", "price": payload["price"], "qty": payload["qty"], "filled_qty": 0,
        "leaves_qty": payload["qty"], "avg_fill_price": None, "tif": "GTC", "post_only": False, "status": "new",
        "created_ts": 1764000000000, "updated_ts": 1764000000000,
    }  # fmt: skip
    return orjson.dumps(
        {"type": "response", "ver": 1, "msg_id": f"s-{order_id}", "ts": 1764000000000, "op": "order.place",
         "corr_id": msg_id, "ok": True, "payload": {"order": order, "gseq": order_id}}
    )  # fmt: skip


def answer(message: str | bytes, orders: Iterator[int]) -> bytes:
    """The far end's answer to one request: an order's ack (with the next of `orders` as its id), or an empty
    accepted answer (the user for a login)."""
    request = orjson.loads(message)
    op, msg_id = request["op"], request["msg_id"]
    if op == "order.place":
        return ack(msg_id, request["payload"], next(orders))
    body = {"type": "response", "ver": 1, "msg_id": "s-0", "ts": 0, "op": op, "corr_id": msg_id, "ok": True,
            "payload": USER if op == "auth.login" else {}}  # fmt: skip
    return orjson.dumps(body)


class Loopback:
    """A connection whose far end answers every request on the next loop pass, as a socket's reader would."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._receive: Callable[[bytes], None] | None = None
        self._closed = self._loop.create_future()
        self._orders = itertools.count(1)

    def push_to(self, receive: Callable[[bytes], None]) -> None:
        self._receive = receive

    def send_now(self, message: str | bytes) -> None:
        assert self._receive is not None
        self._loop.call_soon(self._receive, answer(message, self._orders))

    async def send(self, message: str | bytes) -> None:
        self.send_now(message)

    async def recv(self) -> bytes:
        await self._closed
        raise OSError("closed")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if not self._closed.done():
            self._closed.set_result(None)


class Answerer(WSListener):
    """The far end over a real socket (`--socket`): an in-process picows server answering as `Loopback` does, so
    the clients' own sockets (picows' framing and their listeners) are counted too."""

    def __init__(self) -> None:
        super().__init__()
        self._orders = itertools.count(1)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == TEXT:
            transport.send(TEXT, answer(frame.get_payload_as_bytes(), self._orders))


async def answerer() -> tuple[asyncio.Server, str]:
    """An `Answerer` server on a free local port, and its URL."""
    server = await ws_create_server(lambda request: Answerer(), "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


class LoopbackDialer:
    """The keeper's `Dialer` seam: a token without HTTP, and CMD over a `Loopback` (or a socket to `url`)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url

    async def handshake(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "token": "t", "expires_at": None, "user_id": None}

    async def open(
        self,
        name: str,
        token: str,
        *,
        on_event: Callable[[Event], None],
        on_close: Callable[[int | None, str], None],
    ) -> RequestSession:
        if self._url is not None:
            return await RequestSession.open(self._url, token, name=name, on_event=on_event, on_close=on_close)
        return RequestSession(Loopback(), name=name, on_event=on_event, on_close=on_close)


class LeanLoopback(Lean):
    """`bench/lean.py`'s client over a `Loopback`."""

    def __init__(self) -> None:
        super().__init__()
        self._link = Loopback()
        self._link.push_to(self.received)

    def send(self, data: bytes) -> None:
        self._link.send_now(data)

    async def close(self) -> None:
        await self._link.close()


class Evictor:
    """Writes `kib` KiB of memory: the caches emptied of an order's code and objects (nothing when 0)."""

    def __init__(self, kib: int) -> None:
        self._memory = bytearray(kib * 1024)
        self._lines = len(self._memory) // 64

    def __call__(self) -> None:
        if self._lines:
            self._memory[::64] = bytes(self._lines)  # one byte per 64-byte line: every line written


async def sdk_run(client: MarketClient, n: int, evict: Evictor) -> dict[str, float]:
    """`n` orders; CPU per order is the process's in the timed parts only (the eviction excluded)."""
    place = client.place_order
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    samples = []
    cpu = 0
    for _ in range(n):
        evict()
        c0, t0 = cpu_clock(), clock()
        await place(SYM, "buy", PRICE, 1)
        samples.append(clock() - t0)
        cpu += cpu_clock() - c0
    return {"cpu_us": cpu / n / 1000, "p50_us": percentiles(samples)["p50"] / 1000}


async def lean_run(lean: Lean, n: int, ids: itertools.count[int], evict: Evictor) -> dict[str, float]:
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    samples = []
    cpu = 0
    for _ in range(n):
        msg_id = f"a{next(ids)}"
        data = orjson.dumps(
            {"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": "order.place",
             "payload": {"sym": SYM, "side": "buy", "type": "limit", "price": PRICE, "qty": 1}}
        )  # fmt: skip
        evict()
        c0, t0 = cpu_clock(), clock()
        await lean.ask(data, msg_id)
        samples.append(clock() - t0)
        cpu += cpu_clock() - c0
    return {"cpu_us": cpu / n / 1000, "p50_us": percentiles(samples)["p50"] / 1000}


async def open_client(url: str | None = None) -> MarketClient:
    client = MarketClient("http://loopback", connect_md=False, liveness_timeout=None)
    client._keeper.dialer = LoopbackDialer(url)
    await client._start()
    return client


async def measure(n: int, reps: int, cold_kib: int = 0) -> dict[str, Any]:
    """`reps` runs of `n` orders per client, alternating; per run the SDK's CPU per order less the lean client's."""
    client, lean, ids, evict = (
        await open_client(),
        LeanLoopback(),
        itertools.count(1),
        Evictor(cold_kib),
    )
    try:
        await sdk_run(client, n // 10, evict)
        await lean_run(lean, n // 10, ids, evict)
        sdk: list[dict[str, float]] = []
        raw: list[dict[str, float]] = []
        for rep in range(reps):
            if rep % 2:
                raw.append(await lean_run(lean, n, ids, evict))
                sdk.append(await sdk_run(client, n, evict))
            else:
                sdk.append(await sdk_run(client, n, evict))
                raw.append(await lean_run(lean, n, ids, evict))
            client.clear_transactions()
    finally:
        await client.aclose()
        await lean.close()
    return {
        "orders_per_run": n,
        "cold_kib": cold_kib,
        "sdk_cpu_us": median(r["cpu_us"] for r in sdk),
        "lean_cpu_us": median(r["cpu_us"] for r in raw),
        "own_cpu_us": median(s["cpu_us"] - r["cpu_us"] for s, r in zip(sdk, raw, strict=True)),
        "sdk_p50_us": median(r["p50_us"] for r in sdk),
        "lean_p50_us": median(r["p50_us"] for r in raw),
    }


async def alone(client_name: str, n: int, warmup: int, socket: bool) -> None:
    """`warmup` orders and then `n` of one client and nothing else (`bench/sdk_instructions.py` counts them);
    `socket`: over a local socket to an `Answerer`."""
    evict = Evictor(0)
    server, url = await answerer() if socket else (None, None)
    try:
        if client_name == "sdk":
            client = await open_client(url)
            try:
                await sdk_run(client, warmup, evict)
                if n:
                    await sdk_run(client, n, evict)
            finally:
                await client.aclose()
            return
        lean, ids = (LeanLoopback() if url is None else await LeanWs.open(url)), itertools.count(1)
        try:
            await lean_run(lean, warmup, ids, evict)
            if n:
                await lean_run(lean, n, ids, evict)
        finally:
            await lean.close()
    finally:
        if server is not None:
            server.close()


async def profile(n: int, top: int, cold_kib: int) -> None:
    """The SDK's orders under cProfile, each order's own call profiled (the eviction before it is not)."""
    client, evict = await open_client(), Evictor(cold_kib)
    place = client.place_order
    try:
        await sdk_run(client, n // 10, evict)
        profiler = cProfile.Profile()
        for _ in range(n):
            evict()
            profiler.enable()
            await place(SYM, "buy", PRICE, 1)
            profiler.disable()
    finally:
        await client.aclose()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument(
        "--cold",
        type=int,
        default=0,
        metavar="KIB",
        help="memory written before each order",
    )
    parser.add_argument("--profile", action="store_true", help="profile the SDK's run instead")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--only", choices=("sdk", "lean"), help="run this client alone, after --warmup orders")
    parser.add_argument("--warmup", type=int, default=300, help="orders before the counted ones (with --only)")
    parser.add_argument("--socket", action="store_true", help="with --only: over a local socket to an Answerer")
    args = parser.parse_args()
    if args.only:
        uvloop.run(alone(args.only, args.orders, args.warmup, args.socket))
    elif args.profile:
        uvloop.run(profile(args.orders, args.top, args.cold))
    else:
        figures = uvloop.run(measure(args.orders, args.reps, args.cold))
        print(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
