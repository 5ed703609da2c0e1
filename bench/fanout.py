"""4. Market-data fan-out: 1, 100 and 500 subscribers, then one slow subscriber among them.

The server runs with its agents on (`bots=True`). Subscribers are picows
clients held by up to WORKERS `bench.md_worker` subprocesses, subscribed to
every symbol; a worker decodes an event's frame once for all its sockets. For each subscriber count, phases
at the default market rate (intensity 1) and at a raised one (`admin.sim`)
alternate; before each phase the market is paused until every subscriber
has caught up, so no phase inherits the last one's backlog. Per phase:

- events/s delivered (sequenced events received by all subscribers per
  second) beside the market's rate times the subscribers;
- delivery latency: event `ts` (server clock, whole ms) to the arrival of the
  frame; the ms resolution of `ts` adds 0-1 ms;
- drops: seq gaps, and subscribers the server closed;
- server CPU µs per delivered event (CPU time of the server process), which
  shows the cost whatever else runs on the machine;
- the CPU shares of the server and of the load generator (its workers'
  summed): when the generator nears a core per worker or the machine is
  full, the latency measures them, not the server.

After the phases the market is paused, the feeds drain, and every
subscriber's last seq per symbol is compared with the server's: "complete"
counts subscribers that received every event.

Slow consumer (a second server, `server.send_queue_limit` lowered, default
market rate): phases without (A) and with (B) one extra subscriber that
subscribes and never reads (its socket paused, a 4 KB receive buffer); the
others' p99 is compared B / A, paired by repetition. Then one slow
subscriber is held long enough to be cut off, and reads again to see how
its stream ended (see `slow_consumer`).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from hftsim.testing import ServerProcess, server_process

from .common import Scale, cpu_seconds, median, pct_name, row
from .gateway import ADMIN, Admin, Child, handshake
from .md_worker import BUCKETS_PER_MS
from .wsraw import RawSocket

NAME = "fanout"
RAISED = 5
"""Intensity of the raised-rate phases (about 2.5x the default event rate)."""
SLOW_INTENSITY = 1
"""The slow-consumer test runs at the default market rate."""
DRAIN_S = 30.0
"""Longest wait, market paused, for every subscriber to catch up."""
SLOW_QUEUE_LIMIT = 1000
CUT_OFF = (4008, 1006)
"""How a held non-reader's stream may end: the server's 4008, or (reading again only after the close
timeout, as outbox.py documents) the reset that follows it, seen as 1006."""
WORKERS = 4
"""Subscriber processes: 500 sockets in one Python process would make it the limit."""
SUBSCRIBE = orjson.dumps({"type": "request", "ver": 1, "msg_id": "sub", "ts": 0, "op": "md.subscribe",
                          "payload": {"syms": "*"}})  # fmt: skip


def hist_percentiles(hist: Counter[int]) -> dict[str, float]:
    """Percentiles (ms, upper bucket edge) of a 0.1 ms histogram."""
    total = sum(hist.values())
    out: dict[str, float] = {}
    if not total:
        return out
    wanted = [50.0, 90.0, 99.0, 99.9]
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        while wanted and seen >= total * wanted[0] / 100:
            out[pct_name(wanted.pop(0))] = (bucket + 1) / BUCKETS_PER_MS
    return out


class Feeds:
    """N subscribers spread over worker processes."""

    def __init__(self, children: list[Child], syms: list[str]) -> None:
        self.children = children
        self.syms = syms

    @classmethod
    async def open(cls, url: str, n: int) -> Feeds:
        parts = [n // WORKERS + (1 if i < n % WORKERS else 0) for i in range(min(WORKERS, n))]
        started = await asyncio.gather(*(Child.start("bench.md_worker", url, k, timeout=180) for k in parts))
        return cls([c for c, _ in started], list(started[0][1]["syms"]))

    async def phase(self, seconds: float, server: ServerProcess) -> dict[str, Any]:
        await asyncio.gather(*(c.ask("start") for c in self.children))
        cpu0 = cpu_seconds(server_pid(server))
        await asyncio.sleep(seconds)
        cpu = cpu_seconds(server_pid(server)) - cpu0
        reports = await asyncio.gather(*(c.ask("stop") for c in self.children))
        return merge(reports, cpu)

    async def complete(self, admin: Admin, drain_s: float) -> int:
        """Pause the market, let the feeds drain; how many subscribers hold every symbol's last seq."""
        admin.set_intensity(0)
        await asyncio.sleep(0.3)  # commands of the agents' last step
        deadline = time.monotonic() + drain_s
        while True:
            server = admin.md_seqs(self.syms)
            seqs = [s for c in self.children for s in (await c.ask("seqs"))["seqs"]]
            done = sum(1 for s in seqs if all(s.get(sym) == server[sym] for sym in self.syms))
            if done == len(seqs) or time.monotonic() > deadline:
                return done
            await asyncio.sleep(0.5)

    async def close(self) -> None:
        await asyncio.gather(*(c.quit() for c in self.children))


def merge(reports: list[dict[str, Any]], server_cpu: float) -> dict[str, Any]:
    """One phase's figures from every worker's report."""
    elapsed = max(r["elapsed"] for r in reports)
    hist: Counter[int] = Counter()
    for r in reports:
        hist.update(dict(r["hist"]))
    events = sum(r["events"] for r in reports)
    return {
        "market_events_per_s": max(r["market_events"] for r in reports) / elapsed,
        "delivered_per_s": events / elapsed,
        "per_subscriber_min_per_s": min(r["min_events"] for r in reports) / elapsed,
        "latency_ms": hist_percentiles(hist),
        "gaps": sum(r["gaps"] for r in reports),
        "closed": sum(r["closed"] for r in reports),
        "close_codes": sorted({c for r in reports for c in r["close_codes"]}),
        "server_cpu_share": server_cpu / elapsed,
        "generator_cpu_share": sum(r["cpu_share"] for r in reports),
        "server_cpu_us_per_event": server_cpu / events * 1e6 if events else None,
    }


def server_pid(server: ServerProcess) -> int:
    assert server._proc is not None
    return server._proc.pid


def summarize(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each figure over the phases; drops and closures summed (any is a failure)."""
    out: dict[str, Any] = {}
    for key in ("market_events_per_s", "delivered_per_s", "per_subscriber_min_per_s", "server_cpu_share",
                "generator_cpu_share", "server_cpu_us_per_event"):  # fmt: skip
        values = [p[key] for p in phases if p[key] is not None]
        out[key] = median(values) if values else None
    out["latency_ms"] = {k: median(p["latency_ms"][k] for p in phases if k in p["latency_ms"])
                         for k in phases[0]["latency_ms"]}  # fmt: skip
    out["gaps"] = sum(p["gaps"] for p in phases)
    out["closed"] = max(p["closed"] for p in phases)
    out["close_codes"] = sorted({c for p in phases for c in p["close_codes"]})
    return out


async def sweep(server: ServerProcess, counts: list[int], seconds: float, reps: int, settle: float) -> dict[str, Any]:
    admin = Admin(server.url)
    results: dict[str, Any] = {}
    for n in counts:
        admin.set_intensity(0)  # connect and subscribe on a quiet market
        feeds = await Feeds.open(server.url, n)
        try:
            phases: dict[str, list[dict[str, Any]]] = {"default": [], "raised": []}
            for rep in range(reps):
                order = [("default", 1.0), ("raised", float(RAISED))]
                for label, intensity in order if rep % 2 == 0 else reversed(order):
                    await feeds.complete(admin, drain_s=DRAIN_S)  # no backlog of the last phase in this one
                    admin.set_intensity(intensity)
                    await asyncio.sleep(settle)
                    phases[label].append(await feeds.phase(seconds, server))
            complete = await feeds.complete(admin, drain_s=DRAIN_S)
        finally:
            await feeds.close()
        results[str(n)] = {
            "subscribers": n,
            "default": summarize(phases["default"]),
            "raised": summarize(phases["raised"]),
            "complete_subscribers": complete,
            "phases": phases,
        }
    admin.set_intensity(1)
    return results


class Slow:
    """The non-reading subscriber: subscribes, then never reads until `finish`."""

    def __init__(self) -> None:
        self.frames = 0
        self.last_ts = 0
        self.opened_ms = 0.0
        self.socket: RawSocket | None = None

    def on_text(self, data: bytes, now: float) -> None:
        self.frames += 1
        if data.startswith(b'{"type":"event"'):
            self.last_ts = max(self.last_ts, orjson.loads(data)["ts"])

    @classmethod
    async def open(cls, server: ServerProcess) -> Slow:
        """A session of its own: a msg_id is answered once per session, and its subscribe's is always "sub"."""
        token = handshake(server.url)["token"]
        slow = cls()
        slow.socket = await RawSocket.connect("127.0.0.1", server.port, "/ws/md", token, slow.on_text, rcvbuf=4096)
        slow.opened_ms = time.time() * 1000
        slow.socket.send_text(SUBSCRIBE)
        slow.socket.pause()
        return slow

    async def finish(self, timeout: float) -> dict[str, Any]:
        """Read again: what was buffered arrives, then (if it was cut off) the end of the stream."""
        assert self.socket is not None
        self.socket.resume()
        try:
            code = await asyncio.wait_for(asyncio.shield(self.socket.closed), timeout)
        except TimeoutError:
            code = None  # still streaming: it was never cut off
            self.socket.close()
        return {"close_code": code, "reason": self.socket.close_reason, "frames": self.frames,
                "blocked_after_s": (self.last_ts - self.opened_ms) / 1000 if code is not None else None}  # fmt: skip


async def slow_consumer(
    server: ServerProcess,
    n: int,
    seconds: float,
    reps: int,
    hold_s: float,
    settle: float,
) -> dict[str, Any]:
    """Others' latency without / with a non-reading subscriber; then one held until it is cut off.

    A/B phases alternate; each B phase opens a fresh slow subscriber, which
    never reads during the phase and is dropped after it. Then one slow
    subscriber is held for `hold_s` while the others are measured once more
    (its whole life: kernel buffers filling, its queue filling, the cut-off),
    and it reads again: what had been buffered arrives and the stream ends,
    with the close code the server could get through to it.
    """
    admin = Admin(server.url)
    admin.set_intensity(0)
    feeds = await Feeds.open(server.url, n)
    phases: dict[str, list[dict[str, Any]]] = {"without": [], "with": []}
    try:
        admin.set_intensity(float(SLOW_INTENSITY))
        await asyncio.sleep(settle)
        for rep in range(reps):
            order = ["without", "with"]
            for label in order if rep % 2 == 0 else reversed(order):
                slow = await Slow.open(server) if label == "with" else None
                phases[label].append(await feeds.phase(seconds, server))
                if slow is not None and slow.socket is not None:
                    slow.socket.close()
                await asyncio.sleep(settle)
        slow = await Slow.open(server)
        held = await feeds.phase(hold_s, server)
        cut = await slow.finish(timeout=min(20.0, hold_s))
        complete = await feeds.complete(admin, drain_s=DRAIN_S)
    finally:
        await feeds.close()
        admin.set_intensity(1)
    without, with_slow = summarize(phases["without"]), summarize(phases["with"])
    p99_pairs = [
        b["latency_ms"]["p99"] / a["latency_ms"]["p99"] for a, b in zip(phases["without"], phases["with"], strict=True)
    ]
    return {
        "subscribers": n,
        "intensity": SLOW_INTENSITY,
        "send_queue_limit": SLOW_QUEUE_LIMIT,
        "without": without,
        "with": with_slow,
        "p99_ratio_with_over_without": median(p99_pairs),
        "held": {"seconds": hold_s, "others": held, "slow": cut},
        "complete_subscribers": complete,
        "phases": phases,
    }


def run(scale: Scale) -> dict[str, Any]:
    counts = scale.pick([1, 100, 500], [1, 100, 500], [1, 3])
    seconds = scale.pick(5.0, 2.0, 0.5)
    slow_n = scale.pick(100, 100, 3)
    hold_s = scale.pick(45.0, 45.0, 1.0)
    settle = scale.pick(1.0, 1.0, 0.2)
    """Pause after each change of intensity or subscribers, so a phase starts in the steady state."""
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        with server_process(Path(tmp) / "a", bots=True) as server:
            server.add_user(*ADMIN, role="admin")
            sweep_results = asyncio.run(sweep(server, counts, seconds, scale.reps, settle))
        with server_process(Path(tmp) / "b", bots=True,
                            config={"server": {"send_queue_limit": SLOW_QUEUE_LIMIT}}) as server:  # fmt: skip
            server.add_user(*ADMIN, role="admin")
            slow = asyncio.run(slow_consumer(server, slow_n, seconds, scale.reps, hold_s, settle))

    rows = []
    one = sweep_results[str(counts[0])]
    for n in counts:
        r = sweep_results[str(n)]
        d = r["default"]
        everyone = r["complete_subscribers"] == n and d["gaps"] == 0 and d["closed"] == 0
        rows.append(
            row(
                NAME,
                f"{n} subs, default rate: events/s delivered",
                d["delivered_per_s"],
                "ev/s",
                "market rate x subscribers",
                d["market_events_per_s"] * n,
                target="every event, no drops" if n == max(counts) else None,
                met=everyone if n == max(counts) else None,
                note=f"{r['complete_subscribers']}/{n} complete, {d['gaps']} gaps, {d['closed']} closed",
            )
        )
        rows.append(
            row(
                NAME,
                f"{n} subs, default rate: latency p99",
                d["latency_ms"].get("p99"),
                "ms",
                f"{counts[0]} subscriber",
                one["default"]["latency_ms"].get("p99"),
                target="<= 20 ms" if n == max(counts) else None,
                met=d["latency_ms"].get("p99", float("inf")) <= 20 if n == max(counts) else None,
                note=f"server CPU {d['server_cpu_share']:.2f}, load generator CPU {d['generator_cpu_share']:.2f}",
            )
        )
        x = r["raised"]
        rows.append(
            row(
                NAME,
                f"{n} subs, intensity {RAISED}: events/s delivered",
                x["delivered_per_s"],
                "ev/s",
                "market rate x subscribers",
                x["market_events_per_s"] * n,
                note=f"{x['gaps']} gaps, {x['closed']} closed",
            )
        )
    ratio_p99 = slow["p99_ratio_with_over_without"]
    rows.append(
        row(
            NAME,
            f"slow subscriber among {slow_n}: others' p99",
            slow["with"]["latency_ms"].get("p99"),
            "ms",
            "same, without the slow one",
            slow["without"]["latency_ms"].get("p99"),
            target="< +10%",
            met=ratio_p99 < 1.10,
            note=f"median of the paired ratios {ratio_p99:.2f}; default market rate",
        )
    )
    held = slow["held"]
    code = held["slow"]["close_code"]
    rows.append(
        row(
            NAME,
            "slow subscriber: its data stops after",
            held["slow"]["blocked_after_s"],
            "s",
            target="cut off (4008, or a reset after the close timeout)",
            met=code in CUT_OFF and held["slow"]["blocked_after_s"] is not None,
            note=f"close code {code}; others' p99 over its {held['seconds']:.0f} s life "
            f"{held['others']['latency_ms'].get('p99')} ms",
        )
    )
    return {"sweep": sweep_results, "slow_consumer": slow, "rows": rows}
