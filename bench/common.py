"""What every benchmark shares: scales, repetition, medians, percentiles, table rows.

Machines are noisy, so a figure is never one measurement: each side of a
comparison runs `scale.reps` times, the sides alternate (A B, B A, A B, ...)
so drift hits both alike, and the reported figure is the median of the
repetitions. A ratio is always ours / baseline from the same run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True)
class Scale:
    """How big a run is: `full` (make bench), `quick` (--quick), `smoke` (make test)."""

    name: str
    reps: int

    def pick(self, full: T, quick: T, smoke: T) -> T:
        return {"full": full, "quick": quick, "smoke": smoke}[self.name]


FULL = Scale("full", 5)
QUICK = Scale("quick", 3)
SMOKE = Scale("smoke", 1)


def pct_name(p: float) -> str:
    return f"p{p:g}"


def percentiles(samples: Sequence[float], ps: Iterable[float] = PERCENTILES) -> dict[str, float]:
    """Nearest-rank percentiles of `samples` ({} when there are none)."""
    if not samples:
        return {}
    ordered = sorted(samples)
    n = len(ordered)
    return {pct_name(p): ordered[min(n - 1, max(0, int(p / 100 * n + 0.5) - 1))] for p in ps}


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def median_of(dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Key by key median of numeric fields (recursing into dicts); other fields from the first."""
    out: dict[str, Any] = {}
    for key, first in dicts[0].items():
        values = [d[key] for d in dicts if key in d]
        if isinstance(first, Mapping):
            out[key] = median_of(values)
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            out[key] = median(values)
        else:
            out[key] = first
    return out


def alternate(sides: Mapping[str, Callable[[], T]], reps: int) -> dict[str, list[T]]:
    """Run each side `reps` times, interleaved, reversing the order every other round."""
    names = list(sides)
    results: dict[str, list[T]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else reversed(names):
            results[name].append(sides[name]())
    return results


def ratio(ours: float | None, base: float | None) -> float | None:
    if ours is None or not base:
        return None
    return ours / base


def row(
    bench: str,
    metric: str,
    value: float | None,
    unit: str,
    baseline: str | None = None,
    base_value: float | None = None,
    *,
    target: str | None = None,
    met: bool | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """One line of the README table."""
    return {
        "bench": bench,
        "metric": metric,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "base_value": base_value,
        "ratio": ratio(value, base_value),
        "target": target,
        "met": met,
        "note": note,
    }


class Deadline:
    """A time bound for a loop: `while not deadline.expired(): ...`."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS
