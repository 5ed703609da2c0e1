"""Backtests on the in-process engine and agents: reproducible, and the strategy file is the live one."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from market_client import OrderRejected, Strategy, run_backtest
from market_client._cli import load_strategy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def maker() -> Strategy:
    """The example market maker, quoting one tick either side of the mid so that it trades within a minute."""
    strategy = load_strategy(EXAMPLES / "market_maker.py")
    sys.modules[type(strategy).__module__].HALF_SPREAD = 1  # type: ignore[attr-defined]
    return strategy


async def test_the_same_seed_gives_the_same_fills() -> None:
    first = await run_backtest(maker(), seed=5, minutes=1.0, warmup_s=10)
    second = await run_backtest(maker(), seed=5, minutes=1.0, warmup_s=10)
    assert first.fills, "the market maker never traded in a simulated minute"
    assert first.errors == 0 and first.orders > 10
    key = [(f["fill_id"], f["side"], f["price"], f["qty"], f["ts"]) for f in first.fills]
    assert key == [(f["fill_id"], f["side"], f["price"], f["qty"], f["ts"]) for f in second.fills]
    assert (first.cash, first.pnl, first.positions) == (second.cash, second.pnl, second.positions)
    assert first.hooks == second.hooks
    assert first.wakes == second.wakes > 0


class Watcher(Strategy):
    """Notes the venue's clock at its timer and at every print."""

    symbols = ("ACME",)
    timer_s = 0.25

    async def on_start(self) -> None:
        self.timers: list[int] = []
        self.prints: list[int] = []

    async def on_timer(self) -> None:
        self.timers.append(self.now_ms())

    async def on_trade(self, trade: dict[str, object]) -> None:
        self.prints.append(self.now_ms())


async def test_the_strategy_lives_on_the_agents_clock_and_its_own_timer() -> None:
    bot = Watcher()
    # A busy minute (activity comes in spells: this seed's ACME prints 173 times, another's 16).
    result = await run_backtest(bot, seed=1, minutes=1.0, warmup_s=10)
    assert len(bot.timers) == 240 and {b - a for a, b in itertools.pairwise(bot.timers)} == {250}
    assert len(bot.prints) > 20 and bot.prints == sorted(bot.prints)
    assert len({t % 100 for t in bot.prints}) > 10, "prints fall on a coarse grid, not at the agents' instants"
    assert result.wakes > 0


async def test_the_pairs_trader_backtests_as_it_runs_live() -> None:
    strategy = load_strategy(EXAMPLES / "pairs_trader.py")
    module = sys.modules[type(strategy).__module__]
    module.WINDOW, module.ENTRY, module.EXIT = 2, 0.0, 0.0  # type: ignore[attr-defined]
    result = await run_backtest(strategy, seed=3, minutes=0.2, warmup_s=10)
    assert result.errors == 0 and result.orders > 0 and result.fills


class Taker(Strategy):
    """Takes liquidity once and tries a price off the tick: what the engine answers reaches the strategy as live."""

    symbols = ("ACME",)

    async def on_start(self) -> None:
        self.bought = await self.buy("ACME", 3)
        with pytest.raises(OrderRejected) as refused:
            await self.sell("ACME", 1, "100.001")
        self.refusal = refused.value.code
        self.filled_events: list[int] = []

    async def on_fill(self, order: object, fill: dict[str, object]) -> None:
        self.filled_events.append(int(str(fill["qty"])))


async def test_orders_fill_against_the_agents_and_refusals_raise_as_live() -> None:
    bot = Taker()
    result = await run_backtest(bot, seed=2, minutes=0.05, warmup_s=20)
    assert bot.refusal == "PRICE_NOT_ON_TICK"
    assert bot.bought.status == "filled" and bot.bought.filled_qty == 3
    assert sum(bot.filled_events) == 3 and result.positions == {"ACME": 3}


def test_the_command_line_prints_a_reproducible_summary() -> None:
    command = [sys.executable, "-m", "market_client", "backtest", str(EXAMPLES / "momentum_taker.py"),
               "--seed", "4", "--minutes", "0.5", "--warmup", "10"]  # fmt: skip
    runs = [subprocess.run(command, capture_output=True, text=True, timeout=120, check=True) for _ in range(2)]
    summaries = [run.stdout.splitlines()[0] for run in runs]
    assert summaries[0].startswith("momentum_taker.py seed 4: ") and summaries[0] == summaries[1]
