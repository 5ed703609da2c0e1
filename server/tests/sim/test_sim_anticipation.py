"""The market's forecast of the order flow: it learns how persistent the flow is, so surprises are uncorrelated.

Synthetic flow on the simulation's 10-ms grid: orders of one unit arriving
at random, their signs either independent or in runs of same-side orders
(a parent worked over seconds to a minute). The surprises the forecast
leaves (`push - expected`) are what move the consensus: summed over 10 s
they must be uncorrelated however persistent the flow, where a fixed
anticipation leaves them correlated.
"""

from __future__ import annotations

import random

from hftsim.sim.anticipation import FlowForecast
from hftsim.sim.stats import autocorr

DT_S = 0.01
SECONDS = 3600
ORDERS_PER_S = 4.0


def flow(seed: int, mean_run: float) -> list[float]:
    """Signed pushes per grid step: Poisson arrivals, each keeping the sign of the last with 1 - 1/mean_run."""
    rng = random.Random(seed)
    pushes = []
    sign = 1.0
    for _ in range(round(SECONDS / DT_S)):
        push = 0.0
        if rng.random() < ORDERS_PER_S * DT_S:
            if rng.random() < 1.0 / mean_run:
                sign = 1.0 if rng.random() < 0.5 else -1.0
            push = sign
        pushes.append(push)
    return pushes


def surprises(pushes: list[float], forecast: FlowForecast) -> list[float]:
    """The surprise of every 10-s window (the half-hour's first five minutes, while it learns, left out)."""
    out, window = [], 0.0
    for step, push in enumerate(pushes, 1):
        window += push - forecast.expected(DT_S)
        forecast.update(push, DT_S)
        if step % round(10 / DT_S) == 0:
            out.append(window)
            window = 0.0
    return out[30:]


class Fixed(FlowForecast):
    """A forecast that keeps the shares it is given (a market that does not learn)."""

    def __init__(self, shares: list[float]) -> None:
        super().__init__()
        self.shares = shares

    def update(self, push: float, dt_s: float) -> None:
        shares = self.shares
        super().update(push, dt_s)
        self.shares = shares


def test_flow_without_memory_leaves_uncorrelated_surprises() -> None:
    """Independent signs: the learned forecast's surprises stay uncorrelated, where anticipating 0.9 of an 8-s
    rate, as the market did before it learned, takes back most of each order within seconds: -0.31 here."""
    pushes = flow(1, mean_run=1.0)
    learned = surprises(pushes, FlowForecast())
    assert abs(autocorr(learned, 1)) < 0.1
    assert abs(autocorr(learned, 2)) < 0.1
    assert autocorr(surprises(pushes, Fixed([0.0, 0.9, 0.0])), 1) < -0.2, "the check can fail"


def test_persistent_flow_is_anticipated_and_leaves_uncorrelated_surprises() -> None:
    """Runs of 20 same-side orders on average: the raw flow's 10-s sums are correlated, the surprises are not."""
    pushes = flow(3, mean_run=20.0)
    raw = [sum(pushes[i : i + 1000]) for i in range(0, len(pushes), 1000)][30:]
    assert autocorr(raw, 1) > 0.2
    forecast = FlowForecast()
    learned = surprises(pushes, forecast)
    assert 0.5 < sum(forecast.shares) < 1.0
    assert abs(autocorr(learned, 1)) < 0.1
