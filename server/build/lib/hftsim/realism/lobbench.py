"""Distances between the market's distributions and a stored reference, the LOB-Bench way.

LOB-Bench (Nagy et al. 2025) scores a generated order book by how far the
distributions of a few observables lie from those of a reference: here the
spread, the quantity at the touch, the order-book imbalance, the time
between messages, the time to cancel, aggressive and limit order sizes, and
the price response to an aggressive order. Each is binned on fixed edges
(`METRICS`); the distance of two histograms is the L1 norm of the
difference of their shares (0 when equal, 2 when disjoint) and the
Wasserstein-1 distance between them on the bin centres (in the metric's
unit, log10 of it for the log-binned ones).

The reference is a frozen run stored in `reference.json` beside this module
(`--save-reference` writes one): every change to the agents shows whether
it moved the market closer to it or further; a sample of a real market can
be stored the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .facts import Sample
from .measures import Array
from .tape import Tape

REFERENCE = Path(__file__).with_name("reference.json")
RESPONSE_AFTER_S = 1
"""The price response is the signed mid change from just before an aggressive order to this many seconds after."""


def _log_edges(lo: float, hi: float, per_decade: int = 5) -> Array:
    inner = np.logspace(math.log10(lo), math.log10(hi), round(math.log10(hi / lo) * per_decade) + 1)
    return np.concatenate([[-np.inf], inner, [np.inf]])


def _lin_edges(lo: float, hi: float, step: float) -> Array:
    return np.concatenate([[-np.inf], np.arange(lo, hi + step / 2, step), [np.inf]])


def _concat(sample: Sample, take: Callable[[Tape], Array]) -> Array:
    parts = [take(t) for t in sample.tapes]
    return np.concatenate(parts) if parts else np.zeros(0)


def spread(t: Tape) -> Array:
    s = np.asarray(t.spread, dtype=float)
    return np.asarray(s[np.isfinite(s)], dtype=float)


def touch(t: Tape) -> Array:
    both = np.asarray(t.touch_bid, dtype=float) + np.asarray(t.touch_ask, dtype=float)
    return np.asarray(both / 2 / t.round_lot, dtype=float)


def imbalance(t: Tape) -> Array:
    b = np.asarray(t.touch_bid, dtype=float)
    a = np.asarray(t.touch_ask, dtype=float)
    total = a + b
    ok = total > 0
    return np.asarray((b[ok] - a[ok]) / total[ok], dtype=float)


def inter_arrival(t: Tape) -> Array:
    return np.diff(np.asarray(t.messages, dtype=float))


def time_to_cancel(t: Tape) -> Array:
    return np.asarray(t.cancel_age, dtype=float)


def taker_size(t: Tape) -> Array:
    return np.asarray(t.taker_qty, dtype=float) / t.round_lot


def limit_size(t: Tape) -> Array:
    return np.asarray(t.limit_qty, dtype=float) / t.round_lot


def response(t: Tape) -> Array:
    """Signed mid change (ticks) from just before each aggressive order to RESPONSE_AFTER_S later."""
    mid = np.asarray(t.mid, dtype=float)
    at = np.asarray(t.taker_t, dtype=float)
    # Sample i is the mid at the end of second i + 1.
    idx = np.ceil(at - 1e-9).astype(int) - 1 + RESPONSE_AFTER_S
    ok = idx < len(mid)
    after = mid[idx[ok]]
    before = np.asarray(t.taker_mid, dtype=float)[ok]
    r = (after - before) * np.asarray(t.taker_sign, dtype=float)[ok]
    return np.asarray(r[np.isfinite(r)], dtype=float)


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    unit: str
    edges: Array
    take: Callable[[Tape], Array]
    log: bool

    def histogram(self, sample: Sample) -> Array:
        values = _concat(sample, self.take)
        counts, _ = np.histogram(values, self.edges)
        return counts.astype(float)

    def centres(self) -> Array:
        inner = self.edges[1:-1]
        pos = np.log10(inner) if self.log else inner
        step = pos[1] - pos[0]
        mids = (pos[:-1] + pos[1:]) / 2
        return np.concatenate([[pos[0] - step / 2], mids, [pos[-1] + step / 2]])


METRICS: tuple[Metric, ...] = (
    Metric("spread", "spread", "ticks", _lin_edges(0.5, 30.5, 1.0), spread, False),
    Metric("touch", "quantity at the touch", "round lots", _log_edges(0.1, 1000), touch, True),
    Metric("imbalance", "order-book imbalance at the touch", "", _lin_edges(-1.0, 1.0, 0.1), imbalance, False),
    Metric("inter_arrival", "time between messages", "s", _log_edges(1e-6, 100), inter_arrival, True),
    Metric("cancel", "time to cancel", "s", _log_edges(1e-4, 1e4), time_to_cancel, True),
    Metric("taker_size", "aggressive order size", "round lots", _log_edges(0.01, 1000), taker_size, True),
    Metric("limit_size", "limit order size", "round lots", _log_edges(0.01, 1000), limit_size, True),
    Metric(
        "response",
        f"price response {RESPONSE_AFTER_S} s after an aggressive order",
        "ticks",
        _lin_edges(-20.0, 20.0, 0.5),
        response,
        False,
    ),
)


def l1(p: Array, q: Array) -> float:
    if p.sum() <= 0 or q.sum() <= 0:
        return math.nan
    return float(np.abs(p / p.sum() - q / q.sum()).sum())


def wasserstein(p: Array, q: Array, centres: Array) -> float:
    """W1 between two histograms on the same bins: the area between their CDFs."""
    if p.sum() <= 0 or q.sum() <= 0:
        return math.nan
    gap = np.abs(np.cumsum(p / p.sum()) - np.cumsum(q / q.sum()))[:-1]
    return float((gap * np.diff(centres)).sum())


def histograms(sample: Sample) -> dict[str, list[int]]:
    return {m.key: [int(c) for c in m.histogram(sample)] for m in METRICS}


def save_reference(samples: dict[str, Sample], path: Path, *, made_by: str) -> None:
    """Store the histograms of `samples` (symbol -> market sample) as the reference."""
    data = {
        "made_by": made_by,
        "edges": {m.key: [float(e) for e in m.edges[1:-1]] for m in METRICS},
        "symbols": {sym: histograms(sample) for sym, sample in samples.items()},
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


@dataclass
class Reference:
    made_by: str
    symbols: dict[str, dict[str, Array]]


def load_reference(path: Path = REFERENCE) -> Reference | None:
    """The stored reference, or None when there is none; histograms on other edges are left out."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    same = {m.key for m in METRICS if data["edges"].get(m.key) == [float(e) for e in m.edges[1:-1]]}
    symbols = {
        sym: {key: np.asarray(counts, dtype=float) for key, counts in hists.items() if key in same}
        for sym, hists in data["symbols"].items()
    }
    return Reference(data["made_by"], symbols)


def distances(sample: Sample, reference: dict[str, Array]) -> dict[str, tuple[float, float]]:
    """Metric -> (L1, Wasserstein-1) of the sample against one symbol's reference histograms."""
    out = {}
    for metric in METRICS:
        ref = reference.get(metric.key)
        if ref is None:
            continue
        mine = metric.histogram(sample)
        out[metric.key] = (l1(mine, ref), wasserstein(mine, ref, metric.centres()))
    return out


def section(samples: dict[str, Sample], reference: Reference | None) -> list[str]:
    """The report's Markdown section: one row per metric, L1 / W1 per symbol."""
    lines = ["## Distances to the reference (LOB-Bench method)", ""]
    if reference is None:
        return [*lines, "No reference is stored.", ""]
    syms = [s for s in samples if s in reference.symbols]
    lines += [
        f"Each observable's histogram against the stored reference ({reference.made_by}): L1 of the shares"
        " (0 equal … 2 disjoint) / Wasserstein-1 on the bin centres (log10 units for times and sizes).",
        "",
        "| observable | " + " | ".join(syms) + " |",
        "|---|" + "---|" * len(syms),
    ]
    found = {sym: distances(samples[sym], reference.symbols[sym]) for sym in syms}
    for metric in METRICS:
        unit = f" ({metric.unit})" if metric.unit else ""
        cells = []
        for sym in syms:
            d = found[sym].get(metric.key)
            cells.append("-" if d is None else f"{d[0]:.2f} / {d[1]:.2f}")
        lines.append(f"| {metric.title}{unit} | " + " | ".join(cells) + " |")
    means = []
    for sym in syms:
        values = [v[0] for v in found[sym].values() if not math.isnan(v[0])]
        means.append(f"{sum(values) / len(values):.2f}" if values else "-")
    lines += ["| **mean L1** | " + " | ".join(means) + " |", ""]
    return lines
