"""`python -m bench.run [--quick] [--no-peers] [names...]`: run benchmarks, save results, render the README.

Each benchmark writes `bench/results/<name>.json` (its figures, the rows of
the table, the machine, the load average around the run); the README table
is then rebuilt from every results file present, so running one benchmark
refreshes its rows and keeps the others.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from . import (
    agents,
    client_book,
    cluster,
    engine,
    fairness,
    fanout,
    journal,
    machine,
    memory,
    peers,
    report,
    roundtrip,
    throughput,
    transport,
)
from .common import FULL, QUICK, Scale

BENCHMARKS: dict[str, ModuleType] = {
    "engine": engine,
    "roundtrip": roundtrip,
    "throughput": throughput,
    "fanout": fanout,
    "client_book": client_book,
    "memory": memory,
    "fairness": fairness,
    "journal": journal,
    "agents": agents,
    "transport": transport,
    "cluster": cluster,
}
RESULTS = Path(__file__).with_name("results")


def wait_quiet(limit_s: float, threshold: float = 1.0) -> float:
    """Wait (at most `limit_s`) for the 1-minute load average to fall below `threshold`; return it."""
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def run_one(name: str, scale: Scale, quiet_s: float) -> dict[str, Any]:
    module = BENCHMARKS[name]
    load_before = wait_quiet(quiet_s) if quiet_s else os.getloadavg()[0]
    started = datetime.now(UTC)
    t0 = time.monotonic()
    result = module.run(scale)
    return {
        "name": name,
        "scale": scale.name,
        "reps": scale.reps,
        "started": started.isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t0, 1),
        "loadavg_1min_before": round(load_before, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "machine": machine.info(),
        "peers": peers.PEERS.note,
        **result,
    }


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")  # fmt: skip
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and 3 repetitions instead of 5",
    )
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="skip nautilus_trader (no separate venv)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each benchmark, wait up to S seconds for the load average to drop below 1",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    scale = QUICK if args.quick else FULL
    if not args.no_peers:
        peers.setup(allow_install=True)
    print(
        f"bench: {', '.join(names)} ({scale.name}, {scale.reps} repetitions); {peers.PEERS.note}",
        flush=True,
    )
    failed = []
    for name in names:
        print(f"bench: {name} ...", flush=True)
        t0 = time.monotonic()
        try:
            result = run_one(name, scale, args.wait_quiet)
        except Exception as exc:  # one broken benchmark must not lose the others' results
            failed.append(name)
            print(
                f"bench: {name} FAILED: {type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )
            continue
        path = save(name, result)
        print(f"bench: {name} done in {time.monotonic() - t0:.0f}s -> {path}", flush=True)
        for r in result["rows"]:
            print(f"    {report.row_text(r)}", flush=True)
    readme = report.render(RESULTS)
    print(f"bench: table rendered into {readme}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
