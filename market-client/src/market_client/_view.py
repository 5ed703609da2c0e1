"""The live terminal view of `market-client run`: positions, PnL, open orders, latency.

Built with rich from what the broker and runner already know; the account
(cash, realized and unrealized PnL) is asked from the server once a second.
"""

from __future__ import annotations

import time

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from ._live import LiveBroker
from ._strategy import StrategyRunner


class TerminalView:
    """Redraws a rich Live display on every tick of `run_live` (pass `tick` as its `on_tick`)."""

    def __init__(self, title: str, console: Console | None = None) -> None:
        self.title = title
        self.live = Live(auto_refresh=False, transient=False, console=console)
        self._account_due = 0.0

    def __enter__(self) -> TerminalView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    async def tick(self, broker: LiveBroker, runner: StrategyRunner) -> None:
        if time.monotonic() >= self._account_due:
            self._account_due = time.monotonic() + 1.0
            try:
                await broker.refresh_account()
            except Exception as exc:  # reconnecting: show the last numbers, say why
                broker.account = {**broker.account, "note": f"account not refreshed: {exc}"}
        self.live.update(render(self.title, broker, runner), refresh=True)


def render(title: str, broker: LiveBroker, runner: StrategyRunner) -> Group:
    """The whole screen as one rich renderable."""
    account = broker.account
    latency = broker.latency()

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"[b]{title}[/b]",
        f"state: {broker.client.state}",
        f"cash: {account.get('cash', '-')}",
        f"realized: {account.get('realized_pnl', '-')}",
        f"unrealized: {account.get('unrealized_pnl', '-')}",
    )
    head.add_row(
        f"order latency last {ms(latency['last'])}",
        f"median {ms(latency['median'])}",
        f"p99 {ms(latency['p99'])}",
        f"hooks: {runner.hooks}  errors: {runner.errors}",
        f"fills: {len(runner.fills)}",
    )
    positions = Table("sym", "qty", "avg price", "realized", "unrealized", "last", title="positions", expand=True)
    for p in account.get("positions", []):
        positions.add_row(
            str(p.get("sym")),
            str(p.get("qty")),
            str(p.get("avg_price") or "-"),
            str(p.get("realized_pnl", "-")),
            str(p.get("unrealized_pnl", "-")),
            str(p.get("last") or "-"),
        )
    orders = Table("id", "sym", "side", "price", "qty", "filled", "status", "ahead", title="open orders", expand=True)
    for o in broker.open_orders()[:20]:
        ahead = "-" if o.queue_ahead is None else str(o.queue_ahead)
        orders.add_row(str(o.order_id), o.sym, o.side, o.price or "mkt", str(o.qty), str(o.filled_qty), o.status, ahead)
    parts: list[RenderableType] = [Panel(head), positions, orders]
    note = account.get("note")
    if note:
        parts.append(f"[yellow]{note}[/yellow]")
    if runner.last_error:
        parts.append(f"[red]last error: {runner.last_error}[/red]")
    return Group(*parts)
