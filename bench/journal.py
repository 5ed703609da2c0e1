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
import os
import re
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
import uvloop
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
TAILS_RATE = 10_000
"""Orders a second of the tails run (the issue's soak rate)."""
TAILS_IN_FLIGHT = 4096
"""Bounds the tails run's orders in flight; far above what 10k/s needs, so a stall does not hold sends back."""
P999_TARGET = 3.0
TAILS_WINDOW_S = 10.0
"""Seconds between the tails run's readings of the loop-lag figures."""
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
        self.latencies.append(done - t0)
        self._window.release()

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

    async def paced(self, make: Any, rate: float, seconds: float) -> float:
        """Send `rate` orders a second for `seconds` (as many as are due each millisecond, however late the
        answers: the sender is its own process, so a server stall shows in the latency of every order sent
        during it), then wait for every answer."""
        assert self.socket is not None
        self.latencies = []
        clock = time.perf_counter_ns
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
            await asyncio.sleep(0.001)
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
                gc_ms = {"longest_gc_ms": lag["longest_gc_ms"]} if "longest_gc_ms" in lag else {}
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


async def tails(server: ServerProcess, seconds: float, window_s: float) -> dict[str, Any]:
    """`TAILS_RATE` orders a second that trade (the book stays shallow) for `seconds`, the server's loop-lag
    figures read every `window_s`: the longest stall of the run and what the loop thread did during it."""
    stream = await Stream.open(server.url, "tails", window=TAILS_IN_FLIGHT)
    probe = await Stream.open(server.url, "probe")
    pid = server_pid(server)
    windows: list[dict[str, Any]] = []
    try:
        await probe.ask("test.loop_lag", {})
        cpu0 = cpu_seconds(pid)
        sender = asyncio.create_task(stream.paced(trade, TAILS_RATE, seconds))
        while not sender.done():
            await asyncio.wait({sender}, timeout=window_s)
            windows.append(await probe.ask("test.loop_lag", {}))
        elapsed = sender.result()
        cpu = cpu_seconds(pid) - cpu0
    finally:
        stream.close()
        probe.close()
    answered = len(stream.latencies)
    latency = {k: v / 1000 for k, v in percentiles(stream.latencies).items()}
    worst = max(windows, key=lambda w: w["longest_stall_ms"])
    return {
        "seconds": seconds,
        "orders_per_s": answered / elapsed,
        "server_cpu_us_per_order": cpu / max(1, answered) * 1e6,
        "latency_us": latency,
        "p999_over_p50": latency["p99.9"] / latency["p50"],
        "longest_stall_ms": worst["longest_stall_ms"],
        "longest_stall": worst["longest_stall"],
        "longest_stall_on_cpu_ms": max(w["longest_stall_on_cpu_ms"] for w in windows),
        "long_stalls": sum(w["long_stalls"] for w in windows),
        "longest_gc_ms": max(w["longest_gc_ms"] for w in windows),
        "windows": [
            {
                k: w[k]
                for k in (
                    "longest_stall_ms",
                    "longest_stall",
                    "longest_stall_on_cpu_ms",
                    "long_stalls",
                    "longest_gc_ms",
                    "frozen_objects",
                )
            }
            for w in windows
        ],
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
        fork_ms = [
            float(ms) for ms in re.findall(r"the fork held the loop ([\d.]+) ms", snapshotting["snapshot"].log())
        ]
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
            note=f"{orders:,} resting orders added per repetition, up to {orders * scale.reps:,}; each fork held "
                 f"the loop {', '.join(f'{ms:.1f}' for ms in fork_ms)} ms; longest garbage collection "
                 f"{snap['longest_gc_ms']:.1f} ms (no snapshot: {nosnap['longest_gc_ms']:.1f} ms)"),
    ]  # fmt: skip
    stall = tails_run["longest_stall"] or {}
    rows += [
        row(NAME, f"longest loop stall, {TAILS_RATE:,} orders/s for {tails_seconds:g} s", tails_run["longest_stall_ms"],
            "ms", target=f"<= {STALL_TARGET_MS:g} ms", met=tails_run["longest_stall_ms"] <= STALL_TARGET_MS,
            note=f"{tails_run['long_stalls']} stalls over 5 ms; the longest: {stall.get('user_ms', 0):.1f} ms user "
                 f"CPU, {stall.get('system_ms', 0):.1f} ms system, {stall.get('off_cpu_ms', 0):.1f} ms off the CPU "
                 f"({stall.get('preempted', 0)} preemptions, {stall.get('blocked', 0)} blocking waits, "
                 f"{stall.get('minor_faults', 0)} page faults); "
                 f"longest collection {tails_run['longest_gc_ms']:.1f} ms"),
        row(NAME, f"longest loop stall on the loop's CPU, {TAILS_RATE:,} orders/s for {tails_seconds:g} s",
            tails_run["longest_stall_on_cpu_ms"], "ms", target=f"<= {STALL_TARGET_MS:g} ms",
            met=tails_run["longest_stall_on_cpu_ms"] <= STALL_TARGET_MS,
            note="each stall less the time the loop thread was off the CPU meanwhile: the stall the server's "
                 "own work makes, whatever else the machine runs"),
        row(NAME, f"ack latency p99.9, {TAILS_RATE:,} orders/s", tails_run["latency_us"]["p99.9"], "µs",
            "p50, same run", tails_run["latency_us"]["p50"], target=f"<= {P999_TARGET:g}x",
            met=tails_run["p999_over_p50"] <= P999_TARGET,
            note=f"p99 {tails_run['latency_us']['p99']:,.0f} µs; {tails_run['orders_per_s']:,.0f} orders/s, "
                 f"server CPU {tails_run['server_cpu_us_per_order']:.1f} µs/order"),
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
        "fork_hold_ms": fork_ms,
        "before": "an earlier commit, exported" if before else None,
        "modes": {mode: {"runs": mode_runs[mode], **by_mode[mode]} for mode in mode_runs},
        "stall": {side: {"runs": stall_runs[side], **by_stall[side]} for side in stall_runs},
        "tails": tails_run,
        "rows": rows,
    }


def main() -> None:
    """`python -m bench.journal --tails SECONDS`: the tails run alone, at length (`make soak` runs 10 minutes)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--tails", type=float, required=True, metavar="SECONDS")
    parser.add_argument("--window", type=float, default=TAILS_WINDOW_S, metavar="SECONDS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tails-") as tmp:
        srv = ServerProcess(Path(tmp) / "tails", config={**WIDE_LIMITS}, log_level="info")
        srv.start()
        try:
            result = uvloop.run(tails(srv, args.tails, args.window))
        finally:
            srv.stop()
    windows = result.pop("windows")
    for w in windows:
        print(orjson.dumps(w).decode())
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
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
