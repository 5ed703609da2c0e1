"""The fair value of a symbol: what the informed know and the makers estimate.

Log-price diffusion (GBM) whose volatility follows a mean-reverting
log-volatility regime (stochastic volatility: calm and turbulent spells),
plus Poisson jumps that also kick the volatility up, plus a very weak pull
back to the reference price so the value stays inside the price band.

The parameters are scaled so the long-run total variance (diffusion, regime
and jumps together) matches the configured volatility. Pure and seeded: the
caller passes the time step and owns the random generator.
"""

from __future__ import annotations

import math
import random

from mypy_extensions import mypyc_attr

from .config import TRADING_SECONDS_PER_YEAR, SymbolSimSettings

TWO_PI = 2.0 * math.pi
JUMP_VOL_KICK = 0.5
"""Log-volatility added by a jump, in units of vol_of_vol: volatility rises after news."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Normals:
    """Normal draws from one generator, exactly the ones its `gauss()` would give.

    The same Box-Muller pairs as `random.Random.gauss` (the second of a pair
    kept for the next draw), here so that compiled code draws the fixed
    grid's thousands of normals per simulated second without running
    `random.gauss` in the interpreter. The sequence is the generator's own
    only while nothing else calls `gauss` on it.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._spare: float | None = None

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        z = self._spare
        self._spare = None
        if z is None:
            draw = self.rng.random
            x2pi = draw() * TWO_PI
            g2rad = math.sqrt(-2.0 * math.log(1.0 - draw()))
            z = math.cos(x2pi) * g2rad
            self._spare = math.sin(x2pi) * g2rad
        return mu + z * sigma


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class FairValue:
    """Fair value in ticks (a float), advanced by `advance(dt_s)`."""

    def __init__(self, params: SymbolSimSettings, start: float, low: float, high: float, rng: random.Random) -> None:
        """`start` is the initial value in ticks; [low, high] the band (in ticks) the value must stay in."""
        self._rng = rng
        self._normals = Normals(rng)
        self.anchor = math.log(start)
        self.log_value = self.anchor
        self._low = math.log(max(low, 1.0))
        self._high = math.log(max(high, low + 1.0))
        # The news part of the variance per second: the order flow carries the rest (`flow_share`).
        sigma2 = (1.0 - params.flow_share) * params.volatility**2 / TRADING_SECONDS_PER_YEAR
        self.jump_rate = params.jump_rate_per_hour / 3600.0
        self.jump_size = params.jump_size
        jump_var = self.jump_rate * self.jump_size**2
        # Diffusion gets what the jumps leave, never less than a quarter of the total.
        self.sigma = math.sqrt(max(sigma2 - jump_var, sigma2 / 4))
        self.vol_of_vol = params.vol_of_vol
        self._vol_decay = math.log(2) / params.vol_half_life_s
        self._anchor_decay = math.log(2) / params.anchor_half_life_s
        # Jumps kick the log-volatility up; its OU mean sits below 0 by the kicks' long-run
        # contribution so the average variance stays the configured one.
        self._vol_mean = -self.jump_rate * JUMP_VOL_KICK * self.vol_of_vol / self._vol_decay
        self.log_vol = self._vol_mean + (self._normals.gauss(0.0, self.vol_of_vol) if self.vol_of_vol else 0.0)
        """Current log-volatility regime; the multiplier exp(h - s^2) has E[m^2] = 1."""

    @property
    def value(self) -> float:
        return math.exp(self.log_value)

    @property
    def vol_multiplier(self) -> float:
        return math.exp(self.log_vol - self.vol_of_vol**2)

    @property
    def sigma_per_s(self) -> float:
        """Current volatility of log value per square-root second (regime included)."""
        return self.sigma * self.vol_multiplier

    def reset(self, start: float) -> None:
        """Move the value to `start` ticks (e.g. to the market's price after a restart)."""
        self.log_value = min(max(math.log(start), self._low), self._high)

    def advance(self, dt_s: float) -> float:
        """Move time forward by dt_s seconds; returns the log return over the step."""
        return self.advance_steps(1, dt_s)

    def advance_steps(self, steps: int, dt_s: float) -> float:
        """`steps` steps of dt_s seconds each (the same draws as as many `advance` calls, with less overhead);
        returns the log return over them."""
        if dt_s <= 0 or steps <= 0:
            return 0.0
        rng = self._rng
        normals = self._normals
        uniform = rng.random
        s = self.vol_of_vol
        keep = math.exp(-self._vol_decay * dt_s)
        vol_shock = s * math.sqrt(1 - keep * keep)
        vol_mean = self._vol_mean
        sigma_dt = self.sigma * math.sqrt(dt_s)
        pull = self._anchor_decay * dt_s
        anchor = self.anchor
        jump_p = self.jump_rate * dt_s
        jump_size = self.jump_size
        kick = JUMP_VOL_KICK * s
        s2 = s * s
        low, high = self._low, self._high
        log_vol = self.log_vol
        start = value = self.log_value
        for _ in range(steps):
            if s:
                log_vol = vol_mean + (log_vol - vol_mean) * keep + vol_shock * normals.gauss(0.0, 1.0)
            move = sigma_dt * math.exp(log_vol - s2) * normals.gauss(0.0, 1.0) - pull * (value - anchor)
            if jump_p and uniform() < jump_p:
                move += normals.gauss(0.0, jump_size)
                if s:
                    log_vol += kick
            value += move
            # Reflect off the band edges (kept a little inside so quotes around the value stay valid).
            if value < low:
                value = min(2 * low - value, high)
            elif value > high:
                value = max(2 * high - value, low)
        self.log_vol = log_vol
        self.log_value = value
        return value - start
