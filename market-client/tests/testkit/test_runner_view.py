"""The live terminal view of `market-client run`, and what a refused order leaves in the summary."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from market_client import LiveBroker, Strategy, StrategyRunner, run_live
from market_client._view import TerminalView
from market_client.testing import FakeVenue


class Quoter(Strategy):
    symbols = ("ACME",)

    async def on_start(self) -> None:
        await self.buy("ACME", 2, "99.00")
        await self.buy("ACME", 1, "99.001")  # off the tick: refused


async def test_the_view_shows_pnl_orders_latency_and_the_last_error() -> None:
    async with FakeVenue() as venue:
        venue.add_user("ann", "annpw")
        out = io.StringIO()
        view = TerminalView("Quoter @ fake", console=Console(file=out, width=160, force_terminal=False))
        stop = asyncio.Event()
        drawn = 0

        async def tick(broker: LiveBroker, runner: StrategyRunner) -> None:
            nonlocal drawn
            await view.tick(broker, runner)
            drawn += 1
            if drawn >= 2:
                stop.set()

        with view:
            summary = await run_live(Quoter(), venue.url, username="ann", password="annpw", stop=stop, on_tick=tick)
    text = out.getvalue()
    for shown in ("Quoter @ fake", "cash: 1000000", "open orders", "99.00", "order latency last", "positions"):
        assert shown in text, shown
    assert "last error: on_start: OrderRejected" in text and "PRICE_NOT_ON_TICK" in text
    assert summary.errors == 1 and summary.last_error is not None and "PRICE_NOT_ON_TICK" in summary.last_error
    assert summary.canceled_on_exit and summary.orders == 2
