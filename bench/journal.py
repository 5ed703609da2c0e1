"""8. The journal's cost: server CPU per order by durability mode, and the loop stall of a snapshot.

*Durability modes.* One server per mode (`journal.durability` = "os", then
"fsync"), each driven by one raw CMD client (bench/wsraw.py) keeping
`WINDOW` orders in flight for a phase of `seconds`; the phases alternate
between the servers. Orders alternate buy and sell at one price, so every
order rests or trades, as in bench/throughput.py. Per mode: orders answered
per second, send → response latency, and the server's CPU time per order
(from /proc): the figure the journal's write path moves.

*Snapshot stall.* Two servers built alike, driven alike: resting orders at
distinct prices (a book that only grows, so a snapshot has much to write),
`snapshot_orders` per repetition, pipelined as above. One snapshots every
`snapshot_orders` commands, so each repetition crosses one snapshot; the
other never snapshots in the run. Per repetition the longest event-loop
stall of each is read from the server's loop-lag monitor (`test.loop_lag`,
sampled every 5 ms): the difference is what a snapshot costs every client.
The same hook times every garbage collection (gateway/heap.py): the
longest tells how much of a stall was the collector's.

With `HFTSIM_BENCH_JOURNAL_BEFORE=<dir>/server/src` (an earlier commit
exported with `git archive`) the same runs also drive servers of that code
(its `journal.sync` normal and full beside `os` and `fsync`, and its
snapshot), alternating with this code's in the same run: before and after
as ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import select
import signal
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import uvloop
from hftsim.gateway.looplag import LoopLag
from hftsim.testing import ServerProcess

from .common import Scale, cpu_seconds, median, percentiles, row
from .fanout import server_pid
from .gateway import WIDE_LIMITS, handshake
from .wsraw import RawSocket

NAME = "journal"
WINDOW = 16
MODES = {"os": {"durability": "os"}, "fsync": {"durability": "fsync"}}
"""The `[journal]` table of each mode's server."""
BEFORE = "HFTSIM_BENCH_JOURNAL_BEFORE"
"""Names the `server/src` of an exported earlier commit (with the loop-lag monitor) to measure beside this one."""
BEFORE_MODES = {"before: os": {"sync": "normal"}, "before: fsync": {"sync": "full"}}
"""The earlier commit's settings closest to each mode: its SQLite journal with `sync` normal or full."""
CPU_TARGET_US = 18.0
STALL_TARGET_MS = 5.0
NEVER = 10**12
Sides = dict[str, tuple[dict[str, Any], dict[str, str]]]
"""The servers a run compares, by name: each one's `[journal]` table and its extra environment."""
STALL_FIGURES = ("longest_gc_ms", "longest_gc_cpu_ms", "longest_stall_on_cpu_ms")
"""The snapshot stall run's loop-lag figures besides the longest stall (an earlier commit's server may lack them)."""
TAILS_RATE = 10_000
"""Orders a second of the tails run (the issue's soak rate)."""
TAILS_IN_FLIGHT = 4096
"""Bounds the tails run's orders in flight; far above what 10k/s needs, so a stall does not hold sends back."""
P999_TARGET = 3.0
TAILS_WINDOW_S = 10.0
"""Seconds between the tails run's readings of the loop-lag figures."""
KEPT_UP_P50_US = 5_000
"""A tails run whose median answer took longer than this had a backlog: the server did not keep up with the rate."""
TRADE = ('{{"type":"request","ver":1,"msg_id":"{}","ts":0,"op":"order.place","payload":'
         '{{"sym":"ACME","side":"{}","type":"limit","price":"100.00","qty":1}}}}')  # fmt: skip
REST = ('{{"type":"request","ver":1,"msg_id":"{}","ts":0,"op":"order.place","payload":'
        '{{"sym":"ACME","side":"{}","type":"limit","price":"{}","qty":1}}}}')  # fmt: skip
RICH = {**WIDE_LIMITS, "accounts": {"initial_cash": "1000000000000"}}
"""Resting buys reserve cash: enough for every order of the run."""


def trade(msg_id: str, i: int) -> bytes:
    return TRADE.format(msg_id, "buy" if i % 2 else "sell").encode()


def rest(msg_id: str, i: int) -> bytes:
    """Buys from 99.99 down to 75.00 and sells from 100.01 up to 125.00: never crossing, always resting."""
    step = (i // 2) % 2500
    side, cents = ("buy", 9999 - step) if i % 2 else ("sell", 10001 + step)
    return REST.format(msg_id, side, f"{cents // 100}.{cents % 100:02d}").encode()


class Stream:
    """One CMD socket with up to `window` orders in flight; latency per response."""

    def __init__(self, name: str, window: int = WINDOW) -> None:
        self.name = name
        self.socket: RawSocket | None = None
        self.sent: dict[str, int] = {}
        self.latencies: list[int] = []
        """Each answer's latency, from its send to its arrival: the time it was read, or with `read_stamped` the
        time the kernel received it."""
        self.read_latencies: list[int] = []
        """Each answer's latency from its send to the time this process read it."""
        self.stamped = False
        self.answers: dict[str, dict[str, Any]] = {}
        self._window = asyncio.Semaphore(window)
        self._i = 0

    @classmethod
    async def open(cls, url: str, name: str, window: int = WINDOW) -> Stream:
        stream = cls(name, window)
        port = int(url.rsplit(":", 1)[1])
        stream.socket = await RawSocket.connect("127.0.0.1", port, "/ws/cmd", handshake(url)["token"], stream.on_text)
        await stream.ask("auth.login", {"guest": True})
        return stream

    def on_text(self, data: bytes, now: float) -> None:
        if not data.startswith(b'{"type":"response"'):
            return
        done = time.perf_counter_ns()
        msg = orjson.loads(data)
        t0 = self.sent.pop(msg["corr_id"], None)
        if t0 is None:
            self.answers[msg["corr_id"]] = msg
            return
        self.read_latencies.append(done - t0)
        # `now` is the kernel's receive time on the wall clock: moved onto this clock by how long ago it was.
        self.latencies.append(done - t0 - max(0, int((time.time() - now) * 1e9)) if self.stamped else done - t0)
        self._window.release()

    def read_stamped(self) -> None:
        """Measure each answer to its arrival at the socket, as the kernel stamped it (`RawSocket.read_stamped`),
        not to the moment this process got to read it: what the venue answered, without the generator's lateness.
        The stamp is the last of a read's chunk, so an answer read with later ones counts their arrival."""
        assert self.socket is not None
        self.socket.read_stamped()
        self.stamped = True

    async def ask(self, op: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One request outside the pipeline, and its answer's payload."""
        assert self.socket is not None
        self._i += 1
        msg_id = f"{self.name}-ask-{self._i}"
        body = {"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": op, "payload": payload}
        self.socket.send_text(orjson.dumps(body))
        async with asyncio.timeout(30):
            while msg_id not in self.answers:
                await asyncio.sleep(0.005)
        answer = self.answers.pop(msg_id)
        if not answer["ok"]:
            raise RuntimeError(f"{op} refused: {answer['error']}")
        payload_out: dict[str, Any] = answer["payload"]
        return payload_out

    async def pipeline(self, make: Any, *, seconds: float | None = None, count: int | None = None) -> float:
        """Send orders for `seconds` or `count` orders, then wait for every answer; the elapsed seconds."""
        assert self.socket is not None
        self.latencies = []
        clock = time.perf_counter_ns
        t0 = clock()
        until = t0 + int((seconds or 0) * 1e9)
        sent = 0
        while (count is not None and sent < count) or (seconds is not None and clock() < until):
            await asyncio.wait_for(self._window.acquire(), 30)
            self._i += 1
            sent += 1
            msg_id = f"{self.name}-{self._i}"
            self.sent[msg_id] = clock()
            self.socket.send_text(make(msg_id, self._i))
        async with asyncio.timeout(60):
            while self.sent:
                await asyncio.sleep(0.002)
        return (clock() - t0) / 1e9

    async def paced(self, make: Any, rate: float, seconds: float, *, even: bool = False) -> float:
        """Send `rate` orders a second for `seconds` (however late the answers: the sender is its own process,
        so a server stall shows in the latency of every order sent during it), then wait for every answer.

        By default the orders due are sent at each tick of the loop's timer: a 1 ms sleep lasts 1.5-2 ms
        under uvloop (its timers count whole milliseconds), so at 10,000 a second they leave in groups of
        15-20, which the server reads, journals and answers together: each order's latency is its group's.
        `even` sends each order at its own time, 1/rate apart: between sends the loop's thread waits in
        `select` on the socket (microsecond timeouts) and hands over to the loop at once when answers arrive."""
        assert self.socket is not None
        self.latencies, self.read_latencies = [], []
        clock = time.perf_counter_ns
        fd = self.socket.fileno()
        t0 = clock()
        until = t0 + int(seconds * 1e9)
        sent = 0
        while (now := clock()) < until:
            due = int((now - t0) * rate / 1e9)
            while sent < due:
                await asyncio.wait_for(self._window.acquire(), 30)
                self._i += 1
                sent += 1
                msg_id = f"{self.name}-{self._i}"
                self.sent[msg_id] = clock()
                self.socket.send_text(make(msg_id, self._i))
            if not even:
                await asyncio.sleep(0.001)
                continue
            wait_ns = t0 + (sent + 1) * 1e9 / rate - clock()
            if wait_ns > 0:
                select.select((fd,), (), (), wait_ns / 1e9)
            await asyncio.sleep(0)  # the loop reads what arrived, then the next order is due
        async with asyncio.timeout(60):
            while self.sent:
                await asyncio.sleep(0.002)
        return (clock() - t0) / 1e9

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()


async def mode_phase(stream: Stream, seconds: float, pid: int) -> dict[str, Any]:
    cpu0 = cpu_seconds(pid)
    elapsed = await stream.pipeline(trade, seconds=seconds)
    cpu = cpu_seconds(pid) - cpu0
    answered = len(stream.latencies)
    return {
        "orders_per_s": answered / elapsed,
        "latency_us": {k: v / 1000 for k, v in percentiles(stream.latencies).items()},
        "server_cpu_share": cpu / elapsed,
        "server_cpu_us_per_order": cpu / max(1, answered) * 1e6,
    }


async def modes(servers: dict[str, ServerProcess], seconds: float, reps: int) -> dict[str, list[dict[str, Any]]]:
    streams = {mode: await Stream.open(srv.url, mode) for mode, srv in servers.items()}
    pids = {mode: server_pid(srv) for mode, srv in servers.items()}
    try:
        for mode, stream in streams.items():
            await mode_phase(stream, min(1.0, seconds), pids[mode])  # warm-up
        runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in streams}
        names = list(streams)
        for rep in range(reps):
            for mode in names if rep % 2 == 0 else reversed(names):
                runs[mode].append(await mode_phase(streams[mode], seconds, pids[mode]))
        return runs
    finally:
        for stream in streams.values():
            stream.close()


async def stalls(servers: dict[str, ServerProcess], orders: int, reps: int) -> dict[str, list[dict[str, Any]]]:
    streams = {side: await Stream.open(srv.url, side) for side, srv in servers.items()}
    try:
        runs: dict[str, list[dict[str, Any]]] = {side: [] for side in streams}
        names = list(streams)
        for rep in range(reps):
            for side in names if rep % 2 == 0 else reversed(names):
                stream = streams[side]
                await stream.ask("test.loop_lag", {})
                elapsed = await stream.pipeline(rest, count=orders)
                lag = await stream.ask("test.loop_lag", {})
                gc_ms: dict[str, Any] = {k: lag[k] for k in STALL_FIGURES if k in lag}
                runs[side].append(
                    {
                        **gc_ms,
                        "longest_stall_ms": lag["longest_stall_ms"],
                        "orders_per_s": orders / elapsed,
                        "latency_us": {k: v / 1000 for k, v in percentiles(stream.latencies).items()},
                        "resting_orders": (rep + 1) * orders,
                    }
                )
        return runs
    finally:
        for stream in streams.values():
            stream.close()


def loop_holds(server: ServerProcess) -> list[float]:
    """How long the server's loop was held for snapshots, in ms, from its log: each fork of an earlier
    server, or starting the snapshot process (after which a snapshot costs the loop one line on a pipe)."""
    return [float(ms) for ms in re.findall(r"(?:the fork|starting it) held the loop ([\d.]+) ms", server.log())]


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmRSS:"))
    return int(kb) / 1024


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process `pid` to `cpus` (sched_setaffinity acts on one thread)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), cpus)


def schedule(pid: int, policy: int, priority: int) -> bool:
    """Every thread of process `pid` to scheduling `policy` at `priority` (Linux keeps both per thread); False
    when not permitted (real-time scheduling needs root or CAP_SYS_NICE)."""
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            os.sched_setscheduler(int(tid), policy, os.sched_param(priority))
    except PermissionError:
        return False
    return True


WINDOW_FIGURES = ("longest_stall_ms", "longest_stall", "longest_stall_on_cpu_ms", "longest_stall_on_cpu",
                  "long_stalls", "longest_gc_ms", "longest_gc_cpu_ms", "collections")  # fmt: skip
"""What the tails run keeps of each window's `test.loop_lag` answer."""


async def stop_now_and_then(pid: int, every_s: float, pause_s: float) -> None:
    """Stop the server's process for `pause_s` every `every_s` (SIGSTOP, then SIGCONT): a preemption of known
    length, as another process taking the core would make, so the backlog it leaves is the same on every run."""
    while True:
        await asyncio.sleep(every_s)
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(pause_s)
        finally:
            os.kill(pid, signal.SIGCONT)


async def tails(
    server: ServerProcess,
    seconds: float,
    window_s: float,
    *,
    rate: int = TAILS_RATE,
    pinned: bool = True,
    realtime: bool = True,
    pause_ms: float = 0.0,
    even: bool = False,
) -> dict[str, Any]:
    """`rate` orders a second that trade (the book stays shallow) for `seconds`, the server's loop-lag
    figures read every `window_s`: the longest stall of the run and what the loop thread did during it.

    The load generator is this process, on the same machine as the server. So that it does not take the
    server's core, `pinned` puts the server on the last CPU and this process's thread on the first (on a
    machine of one CPU, nothing is pinned); its CPU time is reported beside the server's, and its own loop's
    longest stall (an answer read late by the generator counts as a late answer). Other work on the machine
    takes the cores too: time-shared with it, the server waits for a core as long as it does, 100-700 ms at
    a load of 5-9 on two cores (even at niceness -10), and the stall measures the others. So `realtime`
    runs both at the lowest real-time priority (SCHED_FIFO 1, when permitted: root or CAP_SYS_NICE): they
    take their cores when they have work, at most what 10k orders/s cost (under half a core each); the
    machine's load average before and after is reported. With `pause_ms`,
    the server is stopped that long once a window (`stop_now_and_then`): the catch-up after a preemption,
    measured whatever the machine's load. With `even`, each order leaves at its own time instead of in the
    groups of a timer tick (`Stream.paced`): the latency of an order, not of its group. Each answer's latency
    ends at its arrival in the socket, as the kernel stamped it (`Stream.read_stamped`): the generator shares
    its core with the machine's other work, and its lateness in reading is not the venue's (kept apart as
    `read_latency_us`)."""
    stream = await Stream.open(server.url, "tails", window=TAILS_IN_FLIGHT)
    stream.read_stamped()
    probe = await Stream.open(server.url, "probe")
    pid = server_pid(server)
    cpus = sorted(os.sched_getaffinity(0))
    own_cpus = os.sched_getaffinity(0)
    pinned = pinned and len(cpus) > 1
    if pinned:
        pin(pid, {cpus[-1]})
        os.sched_setaffinity(0, {cpus[0]})
    own_policy = os.sched_getscheduler(0)
    # Reset on fork: the server's snapshot writers (the snapshot process it starts after a round or a crash,
    # an earlier server's forked child) are time-shared work, not part of the loop.
    fifo = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK
    realtime = realtime and schedule(pid, fifo, 1) and schedule(os.getpid(), fifo, 1)
    windows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    own_lag = LoopLag()
    own_watch = asyncio.create_task(own_lag.watch())
    gc.disable()  # the generator makes no cycles: a collection would only stall it, and its answers read late
    try:
        frozen = [(await probe.ask("test.loop_lag", {"frozen": True})).get("frozen_objects", 0)]
        # Counting the frozen heap walks every frozen object on the loop (5-12 ms here), before any order is
        # sent; the monitor records that stall as its timer fires, at the start of the next pass, before this
        # second probe is read. So the second probe closes the window holding the count, and the run's
        # windows hold only what the orders met (the count's stall is kept apart: `frozen_count_stall_ms`).
        counted = await probe.ask("test.loop_lag", {})
        cpu0, own0 = cpu_seconds(pid), time.process_time()
        sender = asyncio.create_task(stream.paced(trade, rate, seconds, even=even))
        pauses = asyncio.create_task(stop_now_and_then(pid, window_s, pause_ms / 1000)) if pause_ms else None
        while not sender.done():
            await asyncio.wait({sender}, timeout=window_s)
            lag = await probe.ask("test.loop_lag", {})
            windows.append({**{k: lag.get(k, 0) for k in WINDOW_FIGURES}, "rss_mb": round(rss_mb(pid), 1)})
        if pauses is not None:
            pauses.cancel()
        elapsed = sender.result()
        cpu, own = cpu_seconds(pid) - cpu0, time.process_time() - own0
        frozen.append((await probe.ask("test.loop_lag", {"frozen": True})).get("frozen_objects", 0))
    finally:
        own_watch.cancel()
        gc.enable()
        if realtime:
            schedule(os.getpid(), own_policy, 0)
        if pinned:
            os.sched_setaffinity(0, own_cpus)
        stream.close()
        probe.close()
    answered = len(stream.latencies)
    latency = {k: v / 1000 for k, v in percentiles(stream.latencies).items()}
    read_latency = {k: v / 1000 for k, v in percentiles(stream.read_latencies).items()}
    worst = max(windows, key=lambda w: w["longest_stall_ms"])
    worst_on_cpu = max(windows, key=lambda w: w["longest_stall_on_cpu_ms"])
    return {
        "seconds": seconds,
        "rate": rate,
        "pinned": pinned,
        "realtime": realtime,
        "pause_ms": pause_ms,
        "even": even,
        "load_average": [load_before, os.getloadavg()[0]],
        "orders_per_s": answered / elapsed,
        "kept_up": latency["p50"] < KEPT_UP_P50_US,
        "server_cpu_us_per_order": cpu / max(1, answered) * 1e6,
        "server_cpu_share": cpu / elapsed,
        "generator_cpu_share": own / elapsed,
        "generator_longest_stall_ms": own_lag.longest_s * 1000,
        "generator_longest_stall_on_cpu_ms": own_lag.longest_on_cpu_s * 1000,
        "latency_us": latency,
        "p999_over_p50": latency["p99.9"] / latency["p50"],
        "read_latency_us": read_latency,
        "read_p999_over_p50": read_latency["p99.9"] / read_latency["p50"],
        "longest_stall_ms": worst["longest_stall_ms"],
        "longest_stall": worst["longest_stall"],
        "longest_stall_on_cpu_ms": worst_on_cpu["longest_stall_on_cpu_ms"],
        "longest_stall_on_cpu": worst_on_cpu["longest_stall_on_cpu"],
        "long_stalls": sum(w["long_stalls"] for w in windows),
        "longest_gc_ms": max(w["longest_gc_ms"] for w in windows),
        "longest_gc_cpu_ms": max(w["longest_gc_cpu_ms"] for w in windows),
        "collections": sum(w["collections"] for w in windows),
        "rss_mb": [windows[0]["rss_mb"], windows[-1]["rss_mb"]],
        "snapshot_hold_ms": loop_holds(server),
        "frozen_objects": frozen,
        "frozen_count_stall_ms": counted["longest_stall_ms"],
        "windows": windows,
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        if isinstance(first, dict):
            out[key] = {k: median(r[key][k] for r in runs) for k in first}
        else:
            out[key] = median(r[key] for r in runs)
    return out


def run(scale: Scale) -> dict[str, Any]:
    seconds = scale.pick(5.0, 2.0, 0.3)
    orders = scale.pick(100_000, 20_000, 1_000)
    tails_seconds = scale.pick(120.0, 30.0, 0.5)
    before = os.environ.get(BEFORE)
    old_env = {"PYTHONPATH": before} if before else {}
    mode_sides: Sides = {mode: (journal, {}) for mode, journal in MODES.items()}
    stall_sides: Sides = {"snapshot": ({"snapshot_every": orders}, {}), "no snapshot": ({"snapshot_every": NEVER}, {})}
    if before:
        mode_sides |= {mode: (journal, old_env) for mode, journal in BEFORE_MODES.items()}
        stall_sides |= {"before: snapshot": ({"snapshot_every": orders}, old_env)}
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp, ExitStack() as stack:

        def start(name: str, config: dict[str, Any], env: dict[str, str]) -> ServerProcess:
            path = Path(tmp) / name.replace(" ", "-").replace(":", "")
            srv = ServerProcess(path, config=config, env=env, log_level="info")
            srv.start()
            stack.callback(srv.stop)
            return srv

        servers = {side: start(side, {**WIDE_LIMITS, "journal": j}, env) for side, (j, env) in mode_sides.items()}
        mode_runs = uvloop.run(modes(servers, seconds, scale.reps))
        for srv in servers.values():
            srv.stop()
        snapshotting = {side: start(side, {**RICH, "journal": j}, env) for side, (j, env) in stall_sides.items()}
        stall_runs = uvloop.run(stalls(snapshotting, orders, scale.reps))
        hold_ms = loop_holds(snapshotting["snapshot"])
        for srv in snapshotting.values():
            srv.stop()
        tails_run = uvloop.run(tails(start("tails", {**WIDE_LIMITS}, {}), tails_seconds, TAILS_WINDOW_S))
    by_mode = {mode: summarize(r) for mode, r in mode_runs.items()}
    by_stall = {side: summarize(r) for side, r in stall_runs.items()}
    os_mode, fsync_mode = by_mode["os"], by_mode["fsync"]
    snap, nosnap = by_stall["snapshot"], by_stall["no snapshot"]
    cpu = "server_cpu_us_per_order"
    rows = [
        row(NAME, "server CPU per order, pipelined, `os` mode", os_mode[cpu], "µs",
            *(("before: SQLite journal, sync normal", by_mode["before: os"][cpu]) if before else ()),
            target=f"<= {CPU_TARGET_US:g} µs", met=os_mode[cpu] <= CPU_TARGET_US,
            note=f"{os_mode['orders_per_s']:,.0f} orders/s, server CPU {os_mode['server_cpu_share']:.2f}"),
        row(NAME, "server CPU per order, pipelined, `fsync` mode", fsync_mode[cpu], "µs", "`os` mode", os_mode[cpu],
            note=f"{fsync_mode['orders_per_s']:,.0f} orders/s, server CPU {fsync_mode['server_cpu_share']:.2f}"),
        row(NAME, "pipelined latency p50, `fsync` mode", fsync_mode["latency_us"]["p50"], "µs",
            "`os` mode", os_mode["latency_us"]["p50"]),
        row(NAME, "longest loop stall, a run crossing a snapshot", snap["longest_stall_ms"], "ms",
            "same run, no snapshot", nosnap["longest_stall_ms"],
            target=f"<= {STALL_TARGET_MS:g} ms", met=snap["longest_stall_ms"] <= STALL_TARGET_MS,
            note=f"{orders:,} resting orders added per repetition, up to {orders * scale.reps:,}; the loop held "
                 f"for snapshots {', '.join(f'{ms:.1f}' for ms in hold_ms)} ms; longest garbage collection "
                 f"{snap['longest_gc_ms']:.1f} ms, {snap['longest_gc_cpu_ms']:.2f} ms of CPU (no snapshot: "
                 f"{nosnap['longest_gc_ms']:.1f} ms, {nosnap['longest_gc_cpu_ms']:.2f} ms of CPU); the longest stall "
                 f"on the loop's CPU {snap['longest_stall_on_cpu_ms']:.1f} ms (no snapshot: "
                 f"{nosnap['longest_stall_on_cpu_ms']:.1f} ms)"),
    ]  # fmt: skip
    stall = tails_run["longest_stall"] or {}
    own = tails_run["longest_stall_on_cpu"] or {}
    load = tails_run["load_average"]
    rows += [
        row(NAME, f"longest loop stall, {TAILS_RATE:,} orders/s for {tails_seconds:g} s", tails_run["longest_stall_ms"],
            "ms", target=f"<= {STALL_TARGET_MS:g} ms", met=tails_run["longest_stall_ms"] <= STALL_TARGET_MS,
            note=f"{tails_run['long_stalls']} stalls over 5 ms; the longest: {stall.get('off_cpu_ms', 0):.1f} ms "
                 f"off the CPU ({stall.get('preempted', 0)} preemptions, {stall.get('blocked', 0)} blocking waits, "
                 f"{stall.get('minor_faults', 0)} page faults); load average {load[0]:.1f} to {load[1]:.1f}; "
                 f"server and generator {'pinned to a core each' if tails_run['pinned'] else 'not pinned'}"),
        row(NAME, f"longest loop stall on the loop's CPU, {TAILS_RATE:,} orders/s for {tails_seconds:g} s",
            tails_run["longest_stall_on_cpu_ms"], "ms", target=f"<= {STALL_TARGET_MS:g} ms",
            met=tails_run["longest_stall_on_cpu_ms"] <= STALL_TARGET_MS,
            note=f"each stall less the time the loop thread was off the CPU meanwhile (the server's own work); that "
                 f"stall: {own.get('ms', 0):.1f} ms wall, {own.get('minor_faults', 0)} page faults; longest "
                 f"collection {tails_run['longest_gc_cpu_ms']:.1f} ms of CPU ({tails_run['longest_gc_ms']:.1f} ms "
                 f"wall), {tails_run['collections']:,} collections; server RSS {tails_run['rss_mb'][0]:.0f} → "
                 f"{tails_run['rss_mb'][1]:.0f} MB; counting the frozen heap before the run held the loop "
                 f"{tails_run['frozen_count_stall_ms']:.1f} ms (not in these figures)"),
        row(NAME, f"ack latency p99.9, {TAILS_RATE:,} orders/s", tails_run["latency_us"]["p99.9"], "µs",
            "p50, same run", tails_run["latency_us"]["p50"], target=f"<= {P999_TARGET:g}x",
            met=tails_run["p999_over_p50"] <= P999_TARGET,
            note=f"p99 {tails_run['latency_us']['p99']:,.0f} µs; each answer at its arrival in the generator's "
                 f"socket (the kernel's stamp); as the generator read them p50 "
                 f"{tails_run['read_latency_us']['p50']:,.0f}, p99.9 {tails_run['read_latency_us']['p99.9']:,.0f} µs "
                 f"({tails_run['read_p999_over_p50']:.2f}x); {tails_run['orders_per_s']:,.0f} orders/s "
                 f"({'kept up' if tails_run['kept_up'] else 'a backlog: the server did not keep up'}), server CPU "
                 f"{tails_run['server_cpu_us_per_order']:.1f} µs/order; the generator (this process) "
                 f"{tails_run['generator_cpu_share']:.2f} of a core, its own longest stall "
                 f"{tails_run['generator_longest_stall_ms']:.1f} ms"),
    ]  # fmt: skip
    if before:
        old_fsync, old_snap = by_mode["before: fsync"], by_stall["before: snapshot"]
        rows += [
            row(NAME, "server CPU per order, pipelined, `fsync` mode", fsync_mode[cpu], "µs",
                "before: SQLite journal, sync full", old_fsync[cpu]),
            row(NAME, "orders/s pipelined, `fsync` mode", fsync_mode["orders_per_s"], "orders/s",
                "before: SQLite journal, sync full", old_fsync["orders_per_s"]),
            row(NAME, "longest loop stall, a run crossing a snapshot", snap["longest_stall_ms"], "ms",
                "before: snapshot pickled on the loop", old_snap["longest_stall_ms"]),
        ]  # fmt: skip
    return {
        "window": WINDOW,
        "seconds_per_phase": seconds,
        "snapshot_orders": orders,
        "snapshot_hold_ms": hold_ms,
        "before": "an earlier commit, exported" if before else None,
        "modes": {mode: {"runs": mode_runs[mode], **by_mode[mode]} for mode in mode_runs},
        "stall": {side: {"runs": stall_runs[side], **by_stall[side]} for side in stall_runs},
        "tails": tails_run,
        "rows": rows,
    }


TAILS_FIGURES = (
    "longest_stall_ms",
    "longest_stall_on_cpu_ms",
    "long_stalls",
    "longest_gc_ms",
    "longest_gc_cpu_ms",
    "collections",
    "orders_per_s",
    "p999_over_p50",
    "read_p999_over_p50",
    "server_cpu_us_per_order",
    "generator_cpu_share",
    "generator_longest_stall_ms",
)
"""The figures a comparison of tails runs prints the medians of."""


def tails_once(tmp: Path, name: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    journal = {"journal": {"snapshot_every": args.snapshot_every}} if args.snapshot_every else {}
    srv = ServerProcess(tmp / name, config={**WIDE_LIMITS, **journal}, env=env, log_level="info")
    srv.start()
    try:
        return uvloop.run(
            tails(
                srv,
                args.tails,
                args.window,
                rate=args.rate,
                pinned=not args.no_pin,
                realtime=not args.no_realtime,
                pause_ms=args.pause_ms,
                even=args.even,
            )
        )
    finally:
        srv.stop()


def main() -> None:
    """`python -m bench.journal --tails SECONDS`: the tails run alone, at length (`make soak` runs 10 minutes).

    With `HFTSIM_BENCH_JOURNAL_BEFORE` set, `--reps` runs of this code and of that one alternate, each on a
    fresh server, and the medians of each side are printed: before and after in one run."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--tails", type=float, required=True, metavar="SECONDS")
    parser.add_argument("--window", type=float, default=TAILS_WINDOW_S, metavar="SECONDS")
    parser.add_argument("--rate", type=int, default=TAILS_RATE, metavar="ORDERS_PER_S")
    parser.add_argument("--reps", type=int, default=1, help="runs of each side (with a before, alternated)")
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place the server and the generator")
    parser.add_argument("--no-realtime", action="store_true", help="leave the server and the generator time-shared")
    parser.add_argument("--pause-ms", type=float, default=0.0, help="stop the server this long once a window")
    parser.add_argument("--even", action="store_true", help="each order at its own time, not in groups per tick")
    parser.add_argument("--snapshot-every", type=int, default=0, help="commands between snapshots (0: the server's)")
    args = parser.parse_args()
    before = os.environ.get(BEFORE)
    sides = {"after": {}, **({"before": {"PYTHONPATH": before}} if before else {})}
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="bench-tails-") as tmp:
        for rep in range(args.reps):
            for side in list(sides) if rep % 2 == 0 else list(sides)[::-1]:
                result = tails_once(Path(tmp), f"{side}-{rep}", sides[side], args)
                runs[side].append(result)
                for w in result.pop("windows"):
                    print(side, orjson.dumps(w).decode())
                print(side, orjson.dumps(result).decode(), flush=True)
    for side, results in runs.items():
        print(side, {k: round(median(r[k] for r in results), 3) for k in TAILS_FIGURES})
    result = runs["after"][-1]
    stall_met = result["longest_stall_ms"] <= STALL_TARGET_MS
    on_cpu_met = result["longest_stall_on_cpu_ms"] <= STALL_TARGET_MS
    tail_met = result["p999_over_p50"] <= P999_TARGET
    print(
        f"longest stall {result['longest_stall_ms']:.1f} ms (target <= {STALL_TARGET_MS:g}: "
        f"{'met' if stall_met else 'missed'}), on the loop's CPU {result['longest_stall_on_cpu_ms']:.1f} ms "
        f"({'met' if on_cpu_met else 'missed'}); p99.9 / p50 {result['p999_over_p50']:.2f} "
        f"(target <= {P999_TARGET:g}: {'met' if tail_met else 'missed'})"
    )


if __name__ == "__main__":
    main()
