"""Settings of the simulated market: what the `[sim]` TOML table holds.

Every number has a default that works for any instrument: scales that depend
on the instrument (sizes of a tick relative to the price, typical order
sizes) are derived from its tick, lot, min_qty and reference price when the
setting is left unset (None). Per-symbol overrides name only what they
change:

```toml
[sim]
step_ms = 100

[sim.defaults]          # every symbol, where its own table does not say otherwise
impact = 0.5

[sim.symbols.ACME]      # this symbol only; the rest comes from [sim.defaults]
volatility = 0.4
jump_rate_per_hour = 4
```

Volatility is annualised over `TRADING_SECONDS_PER_YEAR` (252 days of 6.5
hours), so 0.4 is about 1.0 % per hour, 0.13 % per minute, 0.016 % per
second: at a price of 100 with a 0.01 tick, about 1.6 ticks per second.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600


class SymbolSimSettings(BaseModel):
    """Per-symbol parameters. In `symbols.<SYM>` only the fields given override `defaults`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Whether the agents trade this symbol at all."""

    # Fair value ---------------------------------------------------------------
    volatility: float = Field(default=0.4, ge=0, le=5)
    """Annualised volatility of the price, jumps and regimes included."""
    flow_share: float = Field(default=0.7, ge=0, lt=1)
    """Share of that variance carried by the order flow (its moves of the consensus, see `impact`); the fair
    value's own variance is the rest."""
    jump_rate_per_hour: float = Field(default=2.0, ge=0)
    """Mean number of fair-value jumps per hour."""
    jump_size: float = Field(default=0.002, ge=0, le=0.2)
    """Standard deviation of one jump's log return (0.002 = 20 bp)."""
    vol_of_vol: float = Field(default=0.5, ge=0, le=2)
    """Standard deviation of the log-volatility regime (0 turns stochastic volatility off)."""
    vol_half_life_s: float = Field(default=300.0, gt=0)
    """How long a volatility regime lasts (half-life of the log-volatility)."""
    anchor_half_life_s: float = Field(default=6 * 3600.0, gt=0)
    """Weak pull of the fair value back to the reference price, so it stays inside the price band."""

    # Scales (None: derived from the instrument) -------------------------------
    order_size: int | None = Field(default=None, ge=1)
    """Typical order size in units; default 10 lots (at least min_qty)."""
    max_position: int | None = Field(default=None, ge=1)
    """Cap of every agent's absolute position (incl. open orders); default 100 order sizes, within the server limit."""

    # Activity -----------------------------------------------------------------
    taker_rate: float = Field(default=0.6, ge=0)
    """Mean number of noise-trader market orders per second (before self-excitation)."""
    hawkes_branching: float = Field(default=0.7, ge=0, lt=1)
    """Share of noise orders triggered by earlier orders (self-excitation, bursty flow)."""
    hawkes_half_life_s: float = Field(default=10.0, gt=0)
    """How fast the excitation of one order fades."""
    liquidity_rate: float = Field(default=4.0, ge=0)
    """Limit orders per second from the liquidity providers."""
    informed_rate: float = Field(default=1 / 20, ge=0)
    """Parent orders per second started by the informed trader on its own (it also reacts to mispricing)."""

    # Trading day (see `hftsim.sim.day`) ----------------------------------------
    session_hours: float = Field(default=0.0, ge=0, le=24)
    """Length of a trading day, days back to back from the agents' start, over which activity follows the
    intraday U-shape; 0: a venue open around the clock, equally busy all the time."""
    open_activity: float = Field(default=4.0, ge=1, le=10)
    """How much busier than at midday the agents are at the open (with `session_hours` set)."""
    close_activity: float = Field(default=3.0, ge=1, le=10)
    """How much busier than at midday the agents are at the close."""
    intraday_half_life_min: float = Field(default=20.0, gt=0)
    """How fast the open's rush fades, and the close's builds up (simulated minutes)."""

    # Market makers ------------------------------------------------------------
    mm_levels: int = Field(default=5, ge=1, le=20)
    """Price levels each market maker quotes on each side."""
    mm_half_spread_ticks: float | None = Field(default=None, gt=0)
    """Base half-spread; default about one second of volatility (0.6 sigma_1s, at least 0.1 tick)."""
    consensus_error_bps: float = Field(default=1.5, ge=0)
    """How far (bp, standard deviation) the market's consensus strays from the fair value on its own."""
    mm_error_bps: float = Field(default=1.0, ge=0)
    """How far (bp, standard deviation) the first market maker's own view strays from the consensus; each later
    maker's half as far again. Views much wider than a second's move (a calm index future) have the makers
    picking each other off, and their wandering rather than the flow sets how much the price moves."""
    impact: float = Field(default=0.6, ge=0)
    """Move of the consensus value per order size of unexpected aggressive flow, in one-second volatilities."""
    impact_half_life_s: float = Field(default=120.0, gt=0)
    """How fast the flow-driven part of the consensus decays back (the informed trade it away sooner)."""


class AgentCounts(BaseModel):
    """How many accounts of each kind; every agent trades every enabled symbol."""

    model_config = ConfigDict(extra="forbid")

    market_makers: int = Field(default=2, ge=0, le=20)
    liquidity_providers: int = Field(default=3, ge=0, le=50)
    noise: int = Field(default=4, ge=0, le=100)
    momentum: int = Field(default=2, ge=0, le=50)
    mean_reversion: int = Field(default=2, ge=0, le=50)
    informed: int = Field(default=1, ge=0, le=20)
    institutional: int = Field(default=1, ge=0, le=20)


class SimSettings(BaseModel):
    """The `[sim]` table."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Run the agents in-process with the server (`hftsim serve --no-bots` also turns them off)."""
    step_ms: int = Field(default=100, ge=10, le=10_000)
    """Longest the in-process runner sleeps between looks at the agents' clock, and the simulated time
    of one `admin.sim` step; the agents themselves wake at their own microseconds whatever it is."""
    intensity: float = Field(default=1.0, ge=0, le=100)
    """Activity multiplier: simulated time runs this many times as fast as the wall clock (an
    `admin.sim` step covers step_ms * intensity); 0 pauses the agents."""
    name_prefix: str = Field(default="bot_", max_length=16)
    """Prefix of the agents' account names."""
    password: str | None = None
    """Password of the agents' accounts in out-of-process mode (None: log in as guests)."""
    agent_cash: Decimal = Field(default=Decimal(1_000_000_000), ge=0)
    """Cash each in-process agent's account opens with: buys must be paid for, and the agents make the market."""
    agents: AgentCounts = AgentCounts()
    defaults: SymbolSimSettings = SymbolSimSettings()
    symbols: dict[str, SymbolSimSettings] = {}

    def for_symbol(self, sym: str) -> SymbolSimSettings:
        """The defaults with the symbol's own overrides (only the fields it sets) on top."""
        override = self.symbols.get(sym)
        if override is None:
            return self.defaults
        changed = {name: getattr(override, name) for name in override.model_fields_set}
        return self.defaults.model_copy(update=changed)
