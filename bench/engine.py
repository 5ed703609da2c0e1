"""1. Engine: commands/s in-process for the mix of bench/mix.py, and per-command latency.

Sides, alternated and repeated:

- **engine**: `Engine.apply` of the running core on the mix (fresh engine per run,
  commands built beforehand): the compiled core when it is built (`make setup`);
- **engine pure**: the same core source run as plain Python (`hftsim.engine.build.pure()`);
- **reference**: the reference engine (`hftsim.engine.reference`, a naive book scanned
  per command) on the first `REFERENCE_COMMANDS` commands of the mix only: it is
  there to be read, not to be fast, and a whole mix would take it minutes;
- **floor**: `mix.Floor` running the same commands with no validation, accounts or events;
- **nautilus**: nautilus_trader's L3 order book applying the same *book changes* the
  engine's events describe (adds of resting orders, size updates of partly filled
  makers, deletes of filled and canceled ones). It does not match, validate or
  account, so it is a floor of another kind: what a compiled book costs per change.

Throughput is timed in the CPU time of the thread (`time.thread_time`): on a
quiet machine that is the wall time, on a shared one it leaves out the time
other processes held the core (cache effects of their work remain).

Latency is measured in a separate pass (`perf_counter_ns` around each call adds
about 0.1 µs, shown as `timer`), so the throughput runs carry no timing overhead.

The pre-built commands are moved out of the garbage collector's sight
(`gc.freeze()`) before the runs: in a server each command arrives and dies
alone, while here a million of them would be rescanned by every full
collection, charging the sides for the benchmark's own list.
"""

from __future__ import annotations

import contextlib
import gc
import time
from typing import Any

from hftsim import compiled
from hftsim.config import load
from hftsim.engine import (
    Engine,
    Fill,
    OrderCanceled,
    OrderStatus,
    PlaceOrder,
    build,
)
from hftsim.engine.reference import ReferenceEngine

from . import peers
from .common import Scale, alternate, median, percentiles, row
from .mix import (
    INITIAL_CASH,
    KIND_NAMES,
    LIMITS,
    Floor,
    Mix,
    floor_levels,
    make_mix,
    new_engine,
)

NAME = "engine"
TS = 1_764_000_000_000
TARGET = 1_000_000
REFERENCE_COMMANDS = 20_000
"""Commands the reference engine runs (the mix's first ones); its rate is per command all the same."""


def engine_seconds(mix: Mix, engine_class: type[Engine] = Engine) -> float:
    engine = engine_class(mix.instruments, LIMITS, INITIAL_CASH)
    apply = engine.apply
    commands = mix.commands
    gc.collect()
    t0 = time.thread_time()
    for command in commands:
        apply(command, TS)
    return time.thread_time() - t0


def reference_seconds(mix: Mix, n: int) -> float:
    engine = ReferenceEngine(mix.instruments, LIMITS, INITIAL_CASH)
    apply = engine.apply
    commands = mix.commands[:n]
    gc.collect()
    t0 = time.thread_time()
    for command in commands:
        apply(command, TS)
    return time.thread_time() - t0


def floor_seconds(mix: Mix) -> float:
    floor = Floor(len(mix.instruments))
    gc.collect()
    t0 = time.thread_time()
    floor.run(mix.floor_ops)
    return time.thread_time() - t0


def engine_latency(mix: Mix, engine_class: type[Engine] = Engine) -> list[int]:
    engine = engine_class(mix.instruments, LIMITS, INITIAL_CASH)
    apply = engine.apply
    clock = time.perf_counter_ns
    samples: list[int] = []
    append = samples.append
    gc.collect()
    for command in mix.commands:
        t0 = clock()
        apply(command, TS)
        append(clock() - t0)
    return samples


def floor_latency(mix: Mix) -> list[int]:
    floor = Floor(len(mix.instruments))
    place, cancel = floor.place, floor.cancel
    clock = time.perf_counter_ns
    samples: list[int] = []
    append = samples.append
    gc.collect()
    for op in mix.floor_ops:
        t0 = clock()
        if op[0] == 1:
            cancel(op[1])
        else:
            place(op[1], op[2], op[3], op[4], op[5])
        append(clock() - t0)
    return samples


def timer_overhead(n: int = 200_000) -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        t0 = clock()
        samples.append(clock() - t0)
    return percentiles(samples)["p50"] / 1000


def micros(samples: list[int]) -> dict[str, float]:
    return {k: v / 1000 for k, v in percentiles(samples).items()}


def book_changes(mix: Mix) -> list[tuple[str, int, bool, int, int, int]]:
    """What the engine did to its books, order by order, from its events (for the nautilus side)."""
    engine = new_engine(mix.instruments)
    index = {inst.sym: k for k, inst in enumerate(mix.instruments)}
    where: dict[int, tuple[int, bool, int]] = {}
    changes: list[tuple[str, int, bool, int, int, int]] = []
    for command in mix.commands:
        result = engine.apply(command, TS)
        for ev in result.events:
            if type(ev) is Fill:
                order_id = ev.maker_order_id
                k, is_buy, price = where[order_id]
                if ev.maker_status is OrderStatus.FILLED:
                    del where[order_id]
                    changes.append(("d", k, is_buy, price, 0, order_id))
                else:
                    changes.append(("u", k, is_buy, price, ev.maker_qty - ev.maker_filled_qty, order_id))
            elif type(ev) is OrderCanceled:
                k, is_buy, price = where.pop(ev.order.order_id)
                changes.append(("d", k, is_buy, price, 0, ev.order.order_id))
        placed = result.order
        if type(command) is PlaceOrder and placed is not None and placed.leaves_qty and placed.price is not None:
            where[placed.order_id] = entry = (
                index[placed.sym],
                placed.side == "buy",
                placed.price,
            )
            changes.append(("a", *entry, placed.leaves_qty, placed.order_id))
    return changes


def check_books(mix: Mix) -> bool:
    """The engine ends with exactly the floor's books (levels and totals)."""
    engine = new_engine(mix.instruments)
    for command in mix.commands:
        engine.apply(command, TS)
    return all(
        floor_levels(mix.final, k) == tuple(engine.book_levels(inst.sym)) for k, inst in enumerate(mix.instruments)
    )


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(1_000_000, 200_000, 5_000)
    n_reference = scale.pick(REFERENCE_COMMANDS, REFERENCE_COMMANDS // 2, 500)
    mix = make_mix(n, load().instruments())
    gc.collect()
    gc.freeze()
    pure = build.pure().Engine
    sides: dict[str, Any] = {
        "engine": lambda: engine_seconds(mix),
        "engine pure": lambda: engine_seconds(mix, pure),
        "reference": lambda: reference_seconds(mix, n_reference) * n / n_reference,
        "floor": lambda: floor_seconds(mix),
    }
    latency_sides: dict[str, Any] = {
        "engine": lambda: engine_latency(mix),
        "engine pure": lambda: engine_latency(mix, pure),
        "floor": lambda: floor_latency(mix),
    }
    naut = peers.nautilus()
    changes_count = 0
    handover = peers.handover((book_changes(mix), len(mix.instruments))) if naut else contextlib.nullcontext("")
    with handover as path:
        if naut is not None:
            sides["nautilus"] = lambda: naut.call("l3", path)["seconds"]
            latency_sides["nautilus"] = lambda: naut.call("l3", path, "latency")["latency_us"]
            changes_count = naut.call("l3", path)["ops"]
        seconds = alternate(sides, scale.reps)
        latency_runs = alternate(latency_sides, min(scale.reps, 3))
    rates = {side: [n / s for s in runs] for side, runs in seconds.items()}
    rate = {side: median(r) for side, r in rates.items()}

    latency: dict[str, Any] = {}
    for side, runs in latency_runs.items():
        if side == "nautilus":
            latency[side] = {"all": _median_pcts(runs)}
            continue
        per_run = [micros(s) for s in runs]
        entry = {"all": _median_pcts(per_run)}
        if side == "engine":
            for kind, name in enumerate(KIND_NAMES):
                entry[name] = _median_pcts(
                    [micros([s for s, k in zip(r, mix.kinds, strict=True) if k == kind]) for r in runs]
                )
        latency[side] = entry
    del latency_runs

    eng, flo = rate["engine"], rate["floor"]
    lat_e, lat_f = latency["engine"]["all"], latency["floor"]["all"]
    build_name = "compiled core" if compiled.ORDER_PATH.compiled else "pure core: compiled one not built"
    rows = [
        row(NAME, "commands/s (mix)", eng, "cmd/s", "floor (bare dict/deque loop)", flo,
            target=f">= {TARGET:,}/s", met=eng >= TARGET, note=build_name),
        row(NAME, "commands/s (mix)", eng, "cmd/s", "same core as plain Python", rate["engine pure"]),
        row(NAME, "commands/s (mix)", eng, "cmd/s", f"reference engine (first {n_reference:,} commands)",
            rate["reference"]),
        row(NAME, "latency p50", lat_e["p50"], "µs", "floor", lat_f["p50"]),
        row(NAME, "latency p99", lat_e["p99"], "µs", "floor", lat_f["p99"]),
        row(NAME, "latency p99.9", lat_e["p99.9"], "µs", "floor", lat_f["p99.9"]),
    ]  # fmt: skip
    if naut is not None:
        lat_n = latency["nautilus"]["all"]
        rows += [
            row(
                NAME,
                "commands/s (mix)",
                eng,
                "cmd/s",
                "nautilus L3 book, same book changes",
                rate["nautilus"],
            ),
            row(
                NAME,
                "latency p99",
                lat_e["p99"],
                "µs",
                "nautilus, per book change",
                lat_n["p99"],
            ),
        ]
    result: dict[str, Any] = {
        "commands": n,
        "compiled": compiled.ORDER_PATH.compiled,
        "reference_commands": n_reference,
        "mix": mix.counts(),
        "resting_orders_at_end": len(mix.final.orders),
        "rate_cmd_per_s": rate,
        "rate_runs": rates,
        "latency_us": latency,
        "timer_overhead_us": timer_overhead(),
        "rows": rows,
    }
    if naut is not None:
        result["nautilus_book_changes"] = changes_count
    gc.unfreeze()
    return result


def _median_pcts(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: median(r[key] for r in runs) for key in runs[0]}
