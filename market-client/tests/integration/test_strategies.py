"""The Strategy runner and the example bots against a real server with its agents trading."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import LiveBroker, MarketClient, Strategy, StrategyRunner, run_live
from market_client._cli import load_strategy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose own agents make a live market."""
    with server_process(Path(tmp_path_factory.mktemp("strategies")), bots=True) as srv:
        srv.add_user("alice", "alicepw")
        yield srv


def example(name: str, **constants: object) -> Strategy:
    """Load an example bot, with some of its module constants changed (shorter windows for a short run)."""
    strategy = load_strategy(EXAMPLES / f"{name}.py")
    module = sys.modules[type(strategy).__module__]
    for key, value in constants.items():
        assert hasattr(module, key), key
        setattr(module, key, value)
    return strategy


@pytest.mark.parametrize(
    ("name", "constants"),
    [
        ("market_maker", {}),
        ("momentum_taker", {"WINDOW": 3, "THRESHOLD": 0}),
        ("pairs_trader", {"WINDOW": 2, "ENTRY": 0.0, "EXIT": 0.0}),
    ],
)
async def test_each_example_trades_on_a_live_market_and_cleans_up(
    market: ServerProcess, name: str, constants: dict[str, object]
) -> None:
    strategy = example(name, **constants)
    stop = asyncio.Event()

    def after_first_order(broker: LiveBroker, runner: StrategyRunner) -> None:
        if broker.submitted >= 2:
            stop.set()

    summary = await run_live(strategy, market.url, stop=stop, duration_s=30.0, on_tick=after_first_order)
    assert stop.is_set(), f"{name} did not trade within 30 s"
    assert summary.errors == 0
    assert summary.orders > 0, f"{name} sent no order"
    assert summary.canceled_on_exit
    assert summary.hooks > 3


async def test_the_command_line_runs_a_bot_and_ctrl_c_cancels_its_orders(market: ServerProcess) -> None:
    env = {**os.environ, "MARKET_CLIENT_PASSWORD": "alicepw"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "market_client", "run", str(EXAMPLES / "market_maker.py"), "--url", market.url,
        "--user", "alice", "--view", "off",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with await MarketClient.connect(market.url, connect_md=False, username="alice", password="alicepw") as me:
            deadline = time.monotonic() + 20
            while not await me.list_orders():
                assert proc.returncode is None, await proc.communicate()
                assert time.monotonic() < deadline, "the bot never quoted"
                await asyncio.sleep(0.1)
            proc.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 0, err
            assert b"market_maker.py:" in out and b"WARNING" not in out
            assert await me.list_orders() == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_a_refused_login_is_one_clear_line(market: ServerProcess) -> None:
    env = {**os.environ, "MARKET_CLIENT_PASSWORD": "wrong"}
    done = subprocess.run(
        [sys.executable, "-m", "market_client", "run", str(EXAMPLES / "market_maker.py"), "--url", market.url,
         "--user", "alice"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "market-client run: the server refused: auth.login failed: INVALID_CREDENTIALS" in done.stderr


async def test_the_quickstart_example_runs_unchanged(market: ServerProcess) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "simple.py"), market.url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert b"symbols:" in out and b"canceled: canceled" in out
