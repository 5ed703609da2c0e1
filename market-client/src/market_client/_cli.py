"""The `market-client` command: run a strategy file live, in a backtest, or over a recording.

```
market-client run mybot.py --url http://127.0.0.1:8000 [--user NAME --password-env VAR]
```

A strategy file defines one `Strategy` subclass (or name it with
`--class`). Whatever stops a run (Ctrl-C, SIGTERM, `--duration`), the
strategy's `on_stop` runs and its resting orders are canceled before the
client closes. A refused login or an unreachable server ends the command
with one line saying why.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import inspect
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ._exceptions import MarketClientError, ServerError
from ._live import RunSummary, run_live
from ._strategy import Strategy

GUEST_HINT = "log in with --user NAME (password in the variable --password-env names) instead of as a guest"


class UsageError(Exception):
    """A problem with the command line or the strategy file; the message is shown as is."""


def load_strategy(path: Path, class_name: str | None = None) -> Strategy:
    """Import a strategy file and instantiate its Strategy subclass (the one named `class_name`, if given)."""
    if not path.is_file():
        raise UsageError(f"no strategy file {path}")
    spec = importlib.util.spec_from_file_location(f"strategy_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, Strategy) and value.__module__ == module.__name__
    }
    listed = ", ".join(found) or "none"
    if class_name is not None:
        if class_name not in found:
            raise UsageError(f"{path} defines no Strategy subclass {class_name!r} (it has: {listed})")
        return found[class_name]()
    if len(found) != 1:
        raise UsageError(f"{path} must define one Strategy subclass, or pick one with --class (found: {listed})")
    return next(iter(found.values()))()


def _password(args: argparse.Namespace) -> str | None:
    if args.user is None:
        return None
    password = os.environ.get(args.password_env)
    if not password:
        raise UsageError(f"set ${args.password_env} to the password of {args.user}")
    return password


def print_summary(label: str, summary: RunSummary) -> None:
    traded = sum(int(f.get("qty", 0)) for f in summary.fills)
    positions = ", ".join(f"{s} {q:+d}" for s, q in sorted(summary.positions.items())) or "flat"
    print(
        f"{label}: {summary.orders} orders, {len(summary.fills)} fills ({traded} traded), "
        f"positions: {positions}, cash {summary.cash}; {summary.hooks} hooks, {summary.errors} raised"
        + ("" if summary.canceled_on_exit else "; WARNING: orders were left resting")
    )
    if summary.last_error:
        print(f"last error: {summary.last_error}")


async def _run(args: argparse.Namespace) -> RunSummary:
    strategy = load_strategy(args.file, args.class_name)
    password = _password(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    view_wanted = args.view == "on" or (args.view == "auto" and sys.stdout.isatty())
    options = {"username": args.user, "password": password, "stop": stop, "duration_s": args.duration,
               "record": args.record}  # fmt: skip
    if not view_wanted:
        return await run_live(strategy, args.url, **options)
    from ._view import TerminalView

    with TerminalView(f"{type(strategy).__name__} @ {args.url}") as view:
        return await run_live(strategy, args.url, on_tick=view.tick, **options)


def run_command(args: argparse.Namespace) -> None:
    try:
        summary = asyncio.run(_run(args))
    except ServerError as exc:
        hint = f"; {GUEST_HINT}" if args.user is None and exc.code in ("RATE_LIMITED", "GUEST_DISABLED") else ""
        sys.exit(f"market-client run: the server refused: {exc}{hint}")
    except MarketClientError as exc:
        sys.exit(f"market-client run: {exc}")
    print_summary(args.file.name, summary)


def backtest_command(args: argparse.Namespace) -> None:
    from ._backtest import run_backtest

    strategy = load_strategy(args.file, args.class_name)
    try:
        result = asyncio.run(
            run_backtest(strategy, seed=args.seed, minutes=args.minutes, warmup_s=args.warmup, config=args.config)
        )
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    print_summary(
        f"{args.file.name} seed {args.seed}",
        RunSummary(result.hooks, result.errors, result.orders, result.fills, result.positions, result.cash),
    )
    speed = f"{args.minutes:g} simulated minutes in {result.wall_s:.1f} s ({result.speedup:.0f}x real time)"
    print(f"pnl {result.pnl}; {speed}")


def replay_command(args: argparse.Namespace) -> None:
    from ._replay import run_replay

    strategy = load_strategy(args.strategy, args.class_name)
    try:
        result = asyncio.run(run_replay(strategy, args.file))
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    traded = sum(int(f.get("qty", 0)) for f in result.fills)
    print(
        f"{args.file.name} through {args.strategy.name}: {result.events} events, {len(result.decisions)} decisions "
        f"({len(result.divergences)} not as recorded), {len(result.fills)} fills ({traded} traded); "
        f"{result.hooks} hooks, {result.errors} raised"
    )
    for line in result.divergences[:20]:
        print(f"  diverged: {line}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="market-client", description="Run HFT Simulator strategies.")
    top.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    sub = top.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run a strategy file against a live server")
    r.add_argument("file", type=Path, help="a Python file defining one Strategy subclass")
    r.add_argument("--url", default="http://127.0.0.1:8000", help="the server (default: %(default)s)")
    r.add_argument("--user", help="log in as this user (default: a new guest)")
    r.add_argument(
        "--password-env", default="MARKET_CLIENT_PASSWORD", metavar="VAR",
        help="environment variable holding the password (default: %(default)s)",
    )  # fmt: skip
    r.add_argument("--class", dest="class_name", help="the Strategy subclass to run, when the file has several")
    r.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    r.add_argument("--view", choices=["auto", "on", "off"], default="auto",
                   help="live terminal view (auto: when stdout is a terminal)")  # fmt: skip
    r.add_argument("--record", type=Path, metavar="FILE", help="record both sockets' frames (gzip JSON lines)")
    r.set_defaults(func=run_command)

    p = sub.add_parser("replay", help="feed a recording to a strategy, deterministically")
    p.add_argument("file", type=Path, help="a recording (client.record() or run --record)")
    p.add_argument("--strategy", type=Path, required=True, help="a Python file defining one Strategy subclass")
    p.add_argument("--class", dest="class_name", help="the Strategy subclass to run, when the file has several")
    p.set_defaults(func=replay_command)

    b = sub.add_parser("backtest", help="run a strategy file against the in-process engine and agents")
    b.add_argument("file", type=Path, help="a Python file defining one Strategy subclass")
    b.add_argument("--seed", type=int, default=1, help="seed of the simulated agents (default: %(default)s)")
    b.add_argument("--minutes", type=float, default=5.0, help="simulated minutes to run (default: %(default)s)")
    b.add_argument("--warmup", type=float, default=30.0,
                   help="simulated seconds of trading before the strategy starts (default: %(default)s)")  # fmt: skip
    b.add_argument("--config", type=Path, help="the server's TOML configuration (symbols, agents, limits)")
    b.add_argument("--class", dest="class_name", help="the Strategy subclass to run, when the file has several")
    b.set_defaults(func=backtest_command)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `market-client` console script."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        args.func(args)
    except UsageError as exc:
        sys.exit(f"market-client {args.command}: {exc}")
