"""What a fact found: its numbers, its pass rule, their standard errors and how firm the verdict is.

A fact's measurement (`facts`) returns a `Finding`: the numbers that
matter, a line to show them (a format string over the numbers), and the
`Check`s its verdict rests on, each a real-market threshold on one number.
The verdict is taken on the estimate pooled over every run. Each checked
number also gets a standard error, by the jackknife over the runs
(`jackknife`: the estimate again with each run left out in turn), because
seeded runs are independent replicates and the estimators (kurtosis, tail
exponents, ratios of counts) have no simple formula for theirs. Sampling
noise is judged by that standard error, never by widening a threshold: a
verdict whose deciding number lies within `SETTLED_SE` standard errors of
its threshold is shown as unsettled, one that other seeds may turn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

SETTLED_SE = 2.0
"""A verdict is settled when every deciding number clears its threshold (or one misses it) by this many
standard errors."""

_FIELD = re.compile(r"\{(\w+)(?::([^}]*))?\}")


@dataclass(frozen=True)
class Check:
    """One pass condition: `low <= numbers[key] <= high` (an open side is None)."""

    key: str
    low: float | None = None
    high: float | None = None

    def holds(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def margin(self, value: float, se: float | None) -> float:
        """How far `value` is inside its bounds (< 0: outside), in standard errors; ±inf without one."""
        if math.isnan(value):
            return -math.inf
        room = min(
            value - self.low if self.low is not None else math.inf,
            self.high - value if self.high is not None else math.inf,
        )
        if se is None or not se > 0 or math.isinf(room):
            return math.inf if self.holds(value) else -math.inf
        return room / se


@dataclass
class Finding:
    text: str
    """The key numbers as the report shows them: a format string over `numbers` (`{key:spec}`)."""
    numbers: dict[str, float] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    """What passing takes; none: reported without a verdict."""
    failed: bool = False
    """Failed whatever the numbers (nothing to measure: no two-sided book, no orders)."""
    se: dict[str, float] = field(default_factory=dict)
    """Standard errors of the checked numbers (see `jackknife`); empty from a single run."""

    @property
    def passed(self) -> bool | None:
        """The verdict on the pooled estimate; None: no verdict."""
        if self.failed:
            return False
        if not self.checks:
            return None
        return all(c.holds(self.numbers.get(c.key, math.nan)) for c in self.checks)

    @property
    def margin(self) -> float:
        """The deciding number's distance inside (> 0) or outside (< 0) its threshold, in standard errors."""
        if self.failed:
            return -math.inf
        return min(
            (c.margin(self.numbers.get(c.key, math.nan), self.se.get(c.key)) for c in self.checks),
            default=math.inf,
        )

    @property
    def settled(self) -> bool:
        return abs(self.margin) >= SETTLED_SE

    @property
    def shown(self) -> str:
        """The text with its numbers, each checked one with ± its standard error when known."""

        def field_of(match: re.Match[str]) -> str:
            key, spec = match.group(1), match.group(2) or ""
            value = self.numbers.get(key, math.nan)
            out = _fmt(value, spec)
            se = self.se.get(key)
            if se is not None and math.isfinite(se) and math.isfinite(value):
                out += f" ± {_fmt(se, spec.replace('+', ''))}"
            return out

        return _FIELD.sub(field_of, self.text)


def mark(finding: Finding) -> str:
    """The verdict as the report shows it: pass, FAIL, or either with how few standard errors decide it."""
    passed = finding.passed
    if passed is None:
        return "-"
    word = "pass" if passed else "**FAIL**"
    return word if finding.settled else f"{word} ({abs(finding.margin):.1f} SE)"


def _fmt(x: float, spec: str) -> str:
    return "nan" if math.isnan(x) else format(x, spec)


S = TypeVar("S")


def jackknife(runs: Sequence[S], finding: Finding, measure: Callable[[Sequence[S]], Finding]) -> dict[str, float]:
    """Jackknife standard errors of `finding`'s checked numbers over `runs` (the runs it was measured on).

    sqrt((n - 1) / n * sum_i (x_(i) - mean)^2), x_(i) measured without run i: the standard error of the
    pooled estimate itself, whatever the estimator. A leave-one-out estimate that is NaN is left out.
    """
    n = len(runs)
    keys = {c.key for c in finding.checks}
    if n < 2 or not keys:
        return {}
    out_of: list[dict[str, float]] = [measure([r for j, r in enumerate(runs) if j != i]).numbers for i in range(n)]
    se: dict[str, float] = {}
    for key in keys:
        values = [v for v in (o.get(key, math.nan) for o in out_of) if math.isfinite(v)]
        if len(values) < 2:
            continue
        mean = sum(values) / len(values)
        m = len(values)
        se[key] = math.sqrt((m - 1) / m * sum((v - mean) ** 2 for v in values))
    return se
