"""Run the agents against a real Engine offline and measure how real the market looks.

`run_offline` drives a fresh `Engine` in a plain loop (no sockets, no clock),
sampling the book every step and the mid and the fair value every second;
`market_stats` / `fair_stats` turn a recording into the numbers the
market-realism guide asks for. From the command line it prints the table
for the fair-value path alone and for the market, pooled over a few seeds:

    python -m hftsim.sim.stats --minutes 60 --seeds 3 --pure-gbm

`--pure-gbm` adds the same market on a plain GBM fair value (no regimes, no
jumps): what shows up there, but not in its fair value, the agents make.
The measured numbers, and every stylised fact beside its real-market range,
are in the realism report (`hftsim realism`, docs/realism/README.md).

Volatility clustering on the GBM fair value comes from the noise traders' crowd (busy and quiet
spells of minutes, `SymbolState.crowd`), the long memory of order signs from the institutional
traders' split parent orders (`agents.institutional`).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..engine import Engine, Fill, Limits, Trade
from ..engine.instruments import Instrument
from .config import TRADING_SECONDS_PER_YEAR, SimSettings
from .simulation import Simulation

DEFAULT_LIMITS = Limits(max_order_qty=10_000, max_position=100_000)
DEFAULT_CASH = 10_000_000 * 100


def default_instrument(sym: str = "ACME", tick: str = "0.01", ref: str = "100", band_pct: str = "10") -> Instrument:
    tick_d = Decimal(tick)
    return Instrument(sym, tick_d, 1, 1, int(Decimal(ref) / tick_d), Decimal(band_pct))


@dataclass
class Recording:
    sym: str
    step_ms: float
    seconds: int
    mids: list[float | None] = field(default_factory=list)
    """Mid (ticks) at the end of every simulated second (None when one side is empty)."""
    fair: list[float] = field(default_factory=list)
    """Fair value (ticks) at the end of every simulated second."""
    spreads: list[int | None] = field(default_factory=list)
    """Spread (ticks) after every step."""
    bid_levels: list[int] = field(default_factory=list)
    ask_levels: list[int] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    wall_s: float = 0.0
    commands: int = 0


@dataclass
class OfflineRun:
    engine: Engine
    sim: Simulation
    recordings: dict[str, Recording]


def run_offline(
    instruments: Sequence[Instrument],
    settings: SimSettings,
    seed: int,
    seconds: float,
    *,
    limits: Limits = DEFAULT_LIMITS,
    initial_cash: int = DEFAULT_CASH,
    engine: Engine | None = None,
    ts0: int = 1_764_000_000_000,
) -> OfflineRun:
    """Run the agents for `seconds` of simulated time against an Engine, each wake-up applied at its own
    time, recording everything (the book sampled every step_ms)."""
    engine = engine if engine is not None else Engine(instruments, limits, initial_cash)
    sim = Simulation(settings, instruments, seed, limits=limits)
    sim.bind_users({name: i + 1 for i, name in enumerate(sim.agent_names())}, "1")
    for opening in sim.open_accounts(engine.cash_decimals):
        engine.apply(opening, ts0)
    step_ms = settings.step_ms
    steps = round(seconds * 1000 / step_ms)
    per_second = max(1, round(1000 / step_ms))
    recs = {s: Recording(s, step_ms, 0) for s in sim.symbols}
    started = time.perf_counter()
    for n in range(1, steps + 1):
        sent = 0
        while (commands := sim.wake(engine, n * step_ms)) is not None:
            now = ts0 + int(sim.sim_time_ms)
            for command in commands:
                result = engine.apply(command, now)
                sim.on_result(result)
                for event in result.events:
                    if type(event) is Fill:
                        recs[event.sym].trades.append(event.trade())
            sent += len(commands)
        for sym, rec in recs.items():
            bid, ask = engine.best_bid_ask(sym)
            rec.spreads.append(ask - bid if bid is not None and ask is not None else None)
            bids, asks = engine.book_levels(sym, 20)
            rec.bid_levels.append(len(bids))
            rec.ask_levels.append(len(asks))
            if n % per_second == 0:
                rec.mids.append((bid + ask) / 2 if bid is not None and ask is not None else None)
                rec.fair.append(sim.fair_value(sym))
                rec.seconds += 1
        for rec in recs.values():
            rec.commands += sent
    wall = time.perf_counter() - started
    for rec in recs.values():
        rec.wall_s = wall
    return OfflineRun(engine, sim, recs)


# Statistics -----------------------------------------------------------------


def log_returns(series: Sequence[float | None], horizon: int) -> list[float]:
    out = []
    for i in range(horizon, len(series), horizon):
        a, b = series[i - horizon], series[i]
        if a is not None and b is not None and a > 0 and b > 0:
            out.append(math.log(b / a))
    return out


def autocorr(xs: Sequence[float], lag: int) -> float:
    n = len(xs)
    if n <= lag + 2:
        return float("nan")
    mean = sum(xs) / n
    var = sum((x - mean) ** 2 for x in xs)
    if var == 0:
        return float("nan")
    return sum((xs[i] - mean) * (xs[i + lag] - mean) for i in range(n - lag)) / var


def excess_kurtosis(xs: Sequence[float]) -> float:
    n = len(xs)
    if n < 4:
        return float("nan")
    mean = sum(xs) / n
    m2 = sum((x - mean) ** 2 for x in xs) / n
    m4 = sum((x - mean) ** 4 for x in xs) / n
    return m4 / (m2 * m2) - 3 if m2 else float("nan")


def annualised_vol(returns: Sequence[float], horizon_s: float) -> float:
    if len(returns) < 3:
        return float("nan")
    return statistics.pstdev(returns) * math.sqrt(TRADING_SECONDS_PER_YEAR / horizon_s)


def quantile(xs: Sequence[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _mean_abs_autocorr(returns: Sequence[float], lags: Sequence[int]) -> float:
    absr = [abs(r) for r in returns]
    values = [autocorr(absr, lag) for lag in lags]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else float("nan")


def path_stats(series: Sequence[float | None]) -> dict[str, float]:
    """Return statistics of a per-second price path (mid or fair value)."""
    r1 = log_returns(series, 1)
    r10 = log_returns(series, 10)
    return {
        "vol_1s": annualised_vol(r1, 1),
        "vol_10s": annualised_vol(r10, 10),
        "kurt_1s": excess_kurtosis(r1),
        "kurt_10s": excess_kurtosis(r10),
        "absacf_1s_1": autocorr([abs(r) for r in r1], 1),
        "absacf_1s_10_50": _mean_abs_autocorr(r1, range(10, 51, 10)),
        "absacf_10s_1": autocorr([abs(r) for r in r10], 1),
        "acf_1s_1": autocorr(r1, 1),
        "acf_10s_1": autocorr(r10, 1),
    }


def market_stats(rec: Recording) -> dict[str, float]:
    spreads = [s for s in rec.spreads if s is not None]
    minutes = rec.seconds / 60 if rec.seconds else float("nan")
    signs = [1.0 if t.aggressor == "buy" else -1.0 for t in rec.trades]
    stats = {
        "spread_median": quantile(spreads, 0.5),
        "spread_p90": quantile(spreads, 0.9),
        "spread_le3_share": sum(1 for s in spreads if s <= 3) / len(spreads) if spreads else float("nan"),
        "two_sided_share": len(spreads) / len(rec.spreads) if rec.spreads else float("nan"),
        "bid_levels_median": quantile(rec.bid_levels, 0.5),
        "ask_levels_median": quantile(rec.ask_levels, 0.5),
        "five_levels_share": sum(1 for b, a in zip(rec.bid_levels, rec.ask_levels, strict=True) if b >= 5 and a >= 5)
        / max(1, len(rec.bid_levels)),
        "trades_per_min": len(rec.trades) / minutes,
        "volume_per_min": sum(t.qty for t in rec.trades) / minutes,
        "sign_acf_1": autocorr(signs, 1),
        "sign_acf_10": autocorr(signs, 10),
        "sign_acf_50": autocorr(signs, 50),
        "fair_tracking_ticks": _tracking(rec),
    }
    stats.update(path_stats(rec.mids))
    return stats


def _tracking(rec: Recording) -> float:
    """Root mean square gap between mid and fair value, in ticks."""
    gaps = [(m - f) ** 2 for m, f in zip(rec.mids, rec.fair, strict=True) if m is not None]
    return math.sqrt(sum(gaps) / len(gaps)) if gaps else float("nan")


def fair_stats(rec: Recording) -> dict[str, float]:
    return path_stats(rec.fair)


def pooled(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = rows[0].keys()
    out = {}
    for key in keys:
        values = [r[key] for r in rows if not math.isnan(r[key])]
        out[key] = sum(values) / len(values) if values else float("nan")
    return out


ROWS = [
    ("spread_median", "spread, ticks: median", "{:.1f}"),
    ("spread_p90", "spread, ticks: p90", "{:.1f}"),
    ("spread_le3_share", "share of time spread <= 3 ticks", "{:.2f}"),
    ("bid_levels_median", "bid levels (of 20): median", "{:.0f}"),
    ("ask_levels_median", "ask levels (of 20): median", "{:.0f}"),
    ("five_levels_share", "share of time >= 5 levels both sides", "{:.3f}"),
    ("trades_per_min", "trades per minute", "{:.0f}"),
    ("volume_per_min", "volume per minute", "{:.0f}"),
    ("vol_1s", "realised vol (annualised), 1 s returns", "{:.3f}"),
    ("vol_10s", "realised vol (annualised), 10 s returns", "{:.3f}"),
    ("kurt_1s", "excess kurtosis, 1 s", "{:.1f}"),
    ("kurt_10s", "excess kurtosis, 10 s", "{:.1f}"),
    ("absacf_1s_1", "|r| autocorrelation, 1 s, lag 1", "{:.3f}"),
    ("absacf_1s_10_50", "|r| autocorrelation, 1 s, lags 10-50 (mean)", "{:.3f}"),
    ("absacf_10s_1", "|r| autocorrelation, 10 s, lag 1", "{:.3f}"),
    ("acf_1s_1", "return autocorrelation, 1 s, lag 1", "{:+.3f}"),
    ("acf_10s_1", "return autocorrelation, 10 s, lag 1", "{:+.3f}"),
    ("sign_acf_1", "trade-sign autocorrelation, lag 1", "{:+.3f}"),
    ("sign_acf_10", "trade-sign autocorrelation, lag 10", "{:+.3f}"),
    ("sign_acf_50", "trade-sign autocorrelation, lag 50", "{:+.3f}"),
    ("fair_tracking_ticks", "rms mid - fair value, ticks", "{:.1f}"),
]


def table(columns: dict[str, dict[str, float]]) -> str:
    """A markdown table: one row per statistic, one column per named set of stats."""
    names = list(columns)
    lines = ["| statistic | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label, fmt in ROWS:
        cells = []
        for name in names:
            value = columns[name].get(key)
            cells.append("-" if value is None or math.isnan(value) else fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument(
        "--pure-gbm", action="store_true", help="also run with a plain GBM fair value (no regimes, jumps)"
    )
    args = parser.parse_args(argv)
    settings = SimSettings()
    configs = {"default": settings}
    if args.pure_gbm:
        configs["pure GBM fair value"] = settings.model_copy(
            update={"defaults": settings.defaults.model_copy(update={"vol_of_vol": 0.0, "jump_rate_per_hour": 0.0})}
        )
    columns: dict[str, dict[str, float]] = {}
    for label, cfg in configs.items():
        fair_rows, market_rows = [], []
        wall = 0.0
        for seed in range(args.seed, args.seed + args.seeds):
            run = run_offline([default_instrument()], cfg, seed, args.minutes * 60)
            rec = run.recordings["ACME"]
            fair_rows.append(fair_stats(rec))
            market_rows.append(market_stats(rec))
            wall += rec.wall_s
        suffix = "" if label == "default" else f" ({label})"
        columns[f"fair value{suffix}"] = pooled(fair_rows)
        columns[f"market{suffix}"] = pooled(market_rows)
        print(f"{label}: {args.seeds} x {args.minutes:g} simulated minutes in {wall:.1f} s wall", flush=True)
    print(f"configured volatility {settings.defaults.volatility}")
    print(table(columns))


if __name__ == "__main__":
    main()
