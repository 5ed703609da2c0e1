"""What the market expects of the order flow still to come: a regression it keeps learning.

Aggressive flow moves the consensus only by its surprise (`SymbolState.observe`):
the part of each push of flow that the recent flow did not announce. The
market extrapolates three recent rates of the flow (a burst of orders
reacting to each other within a second, a run of orders over seconds, a
parent order worked over minutes) by as much of each as went on lately: the
least-squares regression of the push that arrived on the rates just before
it, forgetting over minutes.

Learned, not set: a fixed share that the flow does not bear out makes prices
predictable. Flow that was expected and does not come takes back what it
added, so prices revert; flow that keeps coming unexpected pushes on, so
they trend; and how persistent the flow is differs from one symbol to
another and from one spell to the next. Anticipation consistent with what
arrives leaves the surprises, and the returns they make, nearly
uncorrelated, whatever the memory of the order signs.
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

RATE_HALF_LIVES_S = (0.5, 8.0, 60.0)
"""Memories of the recent flow rates the market extrapolates: a burst, a run, a parent order."""
LEARN_HALF_LIFE_S = 600.0
"""Memory of the regression: the flow of the last ten minutes or so."""
LEARN_EVERY_S = 1.0
"""The market solves its regression again this often (its sums move on every step of the 10-ms grid)."""
PRIOR = (0.0, 0.5, 0.0)
"""What the market expects of each rate before it has watched the flow: half the run's rate goes on."""
PRIOR_S = 60.0
"""The prior counts as this many seconds of rates of one unit a second (forgotten like the flow)."""
LN2 = math.log(2)


def solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """x with matrix x = vector (Gaussian elimination with partial pivoting); None if the matrix is singular."""
    n = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-12:
            return None
        rows[col], rows[pivot] = rows[pivot], rows[col]
        head = rows[col]
        for r in range(col + 1, n):
            factor = rows[r][col] / head[col]
            row = rows[r]
            for c in range(col, n + 1):
                row[c] -= factor * head[c]
    x = [0.0] * n
    for i in range(n - 1, -1, -1):
        row = rows[i]
        x[i] = (row[n] - sum(row[j] * x[j] for j in range(i + 1, n))) / row[i]
    return x


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class FlowForecast:
    """The flow a symbol's market expects, in the units of the pushes it is given (order sizes).

    Three rates and the regression's sums held as plain numbers, not lists: the market updates them at
    every step of its 10-ms grid, hundreds of thousands of times a simulated hour per symbol.
    """

    def __init__(self) -> None:
        self.burst = self.run = self.parent = 0.0
        """Recent push per second, over each of RATE_HALF_LIVES_S."""
        self.shares = list(PRIOR)
        """How much of each rate the market expects to go on."""
        # The regression's sums over time (forgetting with LEARN_HALF_LIFE_S): of rate times rate (the
        # symmetric Gram matrix), and of the push that arrived times the rate just before it.
        self._g00 = self._g11 = self._g22 = PRIOR_S
        self._g01 = self._g02 = self._g12 = 0.0
        self._m0 = PRIOR[0] * PRIOR_S
        self._m1 = PRIOR[1] * PRIOR_S
        self._m2 = PRIOR[2] * PRIOR_S
        self._since_solved_s = 0.0

    def expected(self, dt_s: float) -> float:
        """The push the market expects over the next dt_s seconds."""
        shares = self.shares
        total = 0.0
        total += shares[0] * self.burst
        total += shares[1] * self.run
        total += shares[2] * self.parent
        return total * dt_s

    def update(self, push: float, dt_s: float) -> None:
        """The push that arrived over the last dt_s seconds: learn from it, then add it to the rates."""
        keep = math.exp(-LN2 * dt_s / LEARN_HALF_LIFE_S)
        r0, r1, r2 = self.burst, self.run, self.parent
        self._g00 = keep * self._g00 + r0 * r0 * dt_s
        self._g01 = keep * self._g01 + r0 * r1 * dt_s
        self._g02 = keep * self._g02 + r0 * r2 * dt_s
        self._g11 = keep * self._g11 + r1 * r1 * dt_s
        self._g12 = keep * self._g12 + r1 * r2 * dt_s
        self._g22 = keep * self._g22 + r2 * r2 * dt_s
        self._m0 = keep * self._m0 + push * r0
        self._m1 = keep * self._m1 + push * r1
        self._m2 = keep * self._m2 + push * r2
        self._since_solved_s += dt_s
        if self._since_solved_s >= LEARN_EVERY_S:
            self._since_solved_s = 0.0
            gram = [
                [self._g00, self._g01, self._g02],
                [self._g01, self._g11, self._g12],
                [self._g02, self._g12, self._g22],
            ]
            solved = solve(gram, [self._m0, self._m1, self._m2])
            if solved is not None:
                self.shares = solved
        rate = push / dt_s
        burst_life, run_life, parent_life = RATE_HALF_LIVES_S
        self.burst = r0 - math.expm1(-LN2 * dt_s / burst_life) * (rate - r0)
        self.run = r1 - math.expm1(-LN2 * dt_s / run_life) * (rate - r1)
        self.parent = r2 - math.expm1(-LN2 * dt_s / parent_life) * (rate - r2)
