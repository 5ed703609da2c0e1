"""Verdicts on pooled estimates with their standard errors: the checks, the jackknife and how they are shown."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np
import pytest

from hftsim.realism.findings import Check, Finding, jackknife, mark


def test_a_verdict_is_taken_on_the_estimate_and_settled_only_beyond_two_standard_errors() -> None:
    checks = (Check("ratio", 0.5, 4.0), Check("share", low=0.3))
    firm = Finding("x", {"ratio": 2.0, "share": 0.5}, checks, se={"ratio": 0.1, "share": 0.05})
    assert firm.passed and firm.settled and firm.margin == pytest.approx(4.0), "share is 4 SE above 0.3"
    near = Finding("x", {"ratio": 3.9, "share": 0.5}, checks, se={"ratio": 0.1, "share": 0.05})
    assert near.passed and not near.settled and near.margin == pytest.approx(1.0)
    assert mark(near) == "pass (1.0 SE)"
    missed = Finding("x", {"ratio": 2.0, "share": 0.29}, checks, se={"ratio": 0.1, "share": 0.05})
    assert missed.passed is False and not missed.settled and mark(missed) == "**FAIL** (0.2 SE)"
    far = Finding("x", {"ratio": 9.0, "share": 0.29}, checks, se={"ratio": 0.1, "share": 0.05})
    assert far.passed is False and far.settled and mark(far) == "**FAIL**", "one number far out settles a fail"
    single_run = Finding("x", {"ratio": 3.99, "share": 0.5}, checks)
    assert single_run.passed and single_run.settled, "no standard error: the estimate alone decides"
    assert Finding("x", {"ratio": math.nan, "share": 0.5}, checks).passed is False
    assert Finding("reported only", {"skew": 0.3}).passed is None and mark(Finding("-")) == "-"
    assert Finding("no orders", failed=True).passed is False


def test_shown_gives_each_checked_number_with_its_standard_error_in_its_own_format() -> None:
    found = Finding(
        "rho {rho:+.3f}; {share:.0%} within 2 s; tail {alpha:.2f}",
        {"rho": 0.0123, "share": 0.412, "alpha": math.nan},
        (Check("rho", high=0.05), Check("share", low=0.3)),
        se={"rho": 0.004, "share": 0.031},
    )
    assert found.shown == "rho +0.012 ± 0.004; 41% ± 3% within 2 s; tail nan"


def test_the_jackknife_of_a_pooled_mean_is_the_standard_error_of_the_runs_means() -> None:
    rng = np.random.default_rng(7)
    runs = [rng.normal(loc, 1.0, 400) for loc in (0.0, 0.3, -0.2, 0.5, 0.1)]

    def pooled_mean(parts: Sequence[np.ndarray]) -> Finding:
        return Finding("{mean:.2f}", {"mean": float(np.concatenate(parts).mean())}, (Check("mean", low=0.0),))

    found = pooled_mean(runs)
    se = jackknife(runs, found, pooled_mean)["mean"]
    means = [float(r.mean()) for r in runs]
    assert se == pytest.approx(statistics.stdev(means) / math.sqrt(len(runs)))
    assert jackknife(runs[:1], found, pooled_mean) == {}, "one run: no standard error"
