"""6. Memory: server-side engine RSS with 1M resting orders; client RSS with 50 symbols x 1,000 levels.

Method: every measurement runs in a fresh subprocess (`python -m bench.memory
WHAT ...`) so nothing else lives in the heap. It imports and builds what it
needs, runs `gc.collect()`, reads its resident set size from /proc/self/statm,
adds the orders (or levels), collects again, and reads the RSS once more; the
figure is the difference, also divided per order (level). Sides alternate and
the median of the repetitions is reported.

- **engine**: `Engine.apply(PlaceOrder)` of N non-crossing GTC orders, 100
  users, over the five default symbols, about 1,000 price levels per side
  where the price band allows; the engine keeps what the server keeps per
  resting order (order, its queue links, account and registry entries).
- **floor**: the same orders in `mix.Floor` (a list per order in a deque per level).
- **nautilus**: the same count in nautilus_trader L3 books.
- **client**: `MarketState` with 50 symbols, each a snapshot of 1,000 bid and
  1,000 ask levels (prices as the wire's strings); beside plain `dict[str, int]`
  per side (floor) and nautilus L2 books.
"""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson

from . import peers
from .common import Scale, alternate, median, row, rss_bytes
from .gateway import REPO

NAME = "memory"
MIB = 1024 * 1024


def engine_orders(n: int) -> dict[str, Any]:
    from hftsim.config import load
    from hftsim.engine import PlaceOrder, Side

    from .mix import new_engine

    instruments = load().instruments()
    engine = new_engine(instruments)
    plan = []
    for inst in instruments:
        half_band = inst.ref_price - inst.band_low
        plan.append((inst, max(1, min(1000, half_band - 1))))
    gc.collect()
    before = rss_bytes()
    for i in range(n):
        inst, levels = plan[i % len(plan)]
        is_buy = (i // len(plan)) % 2 == 0
        away = 1 + (i // (2 * len(plan))) % levels
        price = inst.ref_price - away if is_buy else inst.ref_price + away
        result = engine.apply(
            PlaceOrder(
                1 + i % 100,
                inst.sym,
                Side.BUY if is_buy else Side.SELL,
                inst.lot * (1 + i % 10),
                price,
            ),
            1,
        )
        assert result.rejection is None, result.rejection
    gc.collect()
    return {"orders": n, "rss_delta": rss_bytes() - before, "rss": rss_bytes()}


def floor_orders(n: int) -> dict[str, Any]:
    from .mix import Floor

    floor = Floor(5)
    gc.collect()
    before = rss_bytes()
    for i in range(n):
        k = i % 5
        is_buy = (i // 5) % 2 == 0
        away = 1 + (i // 10) % 1000
        floor.place(k, is_buy, 100_000 - away if is_buy else 100_000 + away, 1 + i % 10, True)
    gc.collect()
    return {"orders": n, "rss_delta": rss_bytes() - before, "rss": rss_bytes()}


def snapshot(sym: str, levels: int) -> dict[str, Any]:
    bids = [[f"{99.99 - i * 0.01:.2f}", 1 + i % 50] for i in range(levels)]
    asks = [[f"{100.00 + i * 0.01:.2f}", 1 + i % 50] for i in range(levels)]
    return {"sym": sym, "seq": 1, "status": "trading", "bids": bids, "asks": asks}


def client_books(syms: int, levels: int) -> dict[str, Any]:
    from market_client._market import MarketState

    gc.collect()
    start = rss_bytes()
    state = MarketState()
    for s in range(syms):
        state.on_snapshot(snapshot(f"S{s}", levels))  # the snapshot dict is garbage afterwards, as from the wire
    gc.collect()
    assert len(state.symbols()) == syms
    return {
        "books": syms,
        "levels_per_side": levels,
        "rss_delta": rss_bytes() - start,
        "rss": rss_bytes(),
    }


def client_floor(syms: int, levels: int) -> dict[str, Any]:
    gc.collect()
    start = rss_bytes()
    books = []
    for s in range(syms):
        snap = snapshot(f"S{s}", levels)
        books.append(({p: q for p, q in snap["bids"]}, {p: q for p, q in snap["asks"]}))
    gc.collect()
    return {
        "books": syms,
        "levels_per_side": levels,
        "rss_delta": rss_bytes() - start,
        "rss": rss_bytes(),
    }


def measure(what: str, *args: int) -> dict[str, Any]:
    """One measurement in a fresh interpreter of this venv."""
    proc = subprocess.run([sys.executable, "-m", "bench.memory", what, *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"bench.memory {what} failed:\n{proc.stderr[-2000:]}")
    answer: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    return answer


def run(scale: Scale) -> dict[str, Any]:
    n = scale.pick(1_000_000, 200_000, 10_000)
    syms, levels = scale.pick((50, 1000), (50, 1000), (5, 100))
    reps = min(scale.reps, 3)
    naut = peers.nautilus()
    server_sides: dict[str, Any] = {
        "engine": lambda: measure("engine", n),
        "floor": lambda: measure("floor", n),
    }
    client_sides: dict[str, Any] = {"market_client": lambda: measure("client", syms, levels),
                                    "floor": lambda: measure("client_floor", syms, levels)}  # fmt: skip
    if naut is not None:
        server_sides["nautilus"] = lambda: naut.call("mem_l3", n)
        client_sides["nautilus"] = lambda: naut.call("mem_l2", syms, levels)
    server = {side: median(r["rss_delta"] for r in rs) for side, rs in alternate(server_sides, reps).items()}
    client_runs = alternate(client_sides, reps)
    client = {side: median(r["rss_delta"] for r in rs) for side, rs in client_runs.items()}
    client_total = median(r["rss"] for r in client_runs["market_client"])
    rows = [
        row(NAME, f"engine RSS growth, {n:,} resting orders", server["engine"] / MIB, "MiB", "floor (lists in deques)",
            server["floor"] / MIB, note=f"{server['engine'] / n:.0f} B/order"),
        row(NAME, f"client RSS growth, {syms} symbols x {levels:,} levels/side", client["market_client"] / MIB, "MiB",
            "floor (dict[str, int] per side)", client["floor"] / MIB,
            note=f"process RSS {client_total / MIB:.0f} MiB in all"),
    ]  # fmt: skip
    if naut is not None:
        rows += [
            row(
                NAME,
                f"engine RSS growth, {n:,} resting orders",
                server["engine"] / MIB,
                "MiB",
                "nautilus L3 books",
                server["nautilus"] / MIB,
            ),
            row(
                NAME,
                f"client RSS growth, {syms} symbols x {levels:,} levels/side",
                client["market_client"] / MIB,
                "MiB",
                "nautilus L2 books",
                client["nautilus"] / MIB,
            ),
        ]
    return {"orders": n, "books": syms, "levels_per_side": levels, "server_rss_delta": server,
            "client_rss_delta": client, "client_process_rss": client_total, "rows": rows}  # fmt: skip


def main(argv: list[str]) -> None:
    what, args = argv[0], [int(a) for a in argv[1:]]
    measures: dict[str, Callable[..., dict[str, Any]]] = {
        "engine": engine_orders,
        "floor": floor_orders,
        "client": client_books,
        "client_floor": client_floor,
    }
    print(orjson.dumps(measures[what](*args)).decode())


if __name__ == "__main__":
    main(sys.argv[1:])
