"""The agents on a real server: in-process (`hftsim serve`), and out of process as market-client users."""

from __future__ import annotations

import asyncio
import cmath
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from market_client import MarketClient

from hftsim.sim import SimSettings
from hftsim.sim.remote import BotsRefused, Credentials, run_remote
from hftsim.testing import server_process

GUEST_LIMIT = {"session": {"login_per_user": {"burst": 10, "per_second": 1}}}
"""The shipped limit on guest logins per address (the test defaults lift it)."""

SCARCE_GUESTS = {"session": {"login_per_user": {"burst": 10, "per_second": 0.01}}}
"""The shipped burst with a refill no login sequence outlasts: on a loaded machine the agents' logins can take
long enough for the shipped 1 a second to let every one through."""


def test_remote_agents_make_a_market_on_a_real_server(tmp_path: Path) -> None:
    """With admin credentials the agents trade as funded bot accounts, even under the shipped guest limit."""

    async def scenario(url: str) -> None:
        settings = SimSettings(name_prefix="remote_")
        stats = await run_remote(url, settings, seed=3, duration_s=8.0, admin=Credentials("root", "rootpw"))
        assert stats.steps > 30
        assert stats.commands > 100
        assert stats.trades_seen > 0
        assert stats.failures == 0 and stats.errors == 0
        assert stats.rejections.get("POSITION_LIMIT", 0) == 0
        # Seen from an ordinary user: trades happened, and the agents cleaned up their orders on exit.
        async with await MarketClient.connect(url) as watcher:
            trades = await watcher.send("trades.list", {"sym": "ACME", "limit": 100})
            assert trades["trades"]
            book = await watcher.get_book("ACME")
            assert book["bids"] == [] and book["asks"] == []
        async with await MarketClient.connect(url, connect_md=False, username="root", password="rootpw") as root:
            bots = [u for u in (await root.send("admin.users"))["users"] if u["is_bot"]]
            assert len(bots) == sum(settings.agents.model_dump().values())
            assert {u["username"][:7] for u in bots} == {"remote_"}
            assert "INSUFFICIENT_FUNDS" not in stats.rejections

    with server_process(tmp_path / "data", bots=False, config=GUEST_LIMIT) as server:
        server.add_user("root", "rootpw", "admin")
        asyncio.run(scenario(server.url))


def test_remote_agents_act_at_their_own_times_not_on_a_shared_grid(tmp_path: Path) -> None:
    """Each wake-up's commands reach the server when it is due, not in one burst per 100-ms step.

    Measured from outside: the milliseconds in which the agents changed the
    book are spread over the phase of a 100-ms cycle (mean resultant length
    0.05-0.23 in runs on a loaded machine); commands sent as one batch per
    step land at one phase of it (0.89-0.97).
    """
    moments: set[int] = set()
    """The milliseconds (server time) in which the book changed while the agents ran."""
    enough = asyncio.Event()

    def on_md_event(event: Any) -> None:
        # Once enough is seen the run stops: the cancellations of every resting order on the way out
        # are not counted.
        if event.get("op") == "md.delta" and not enough.is_set():
            moments.add(int(event["ts"]))
            if len(moments) >= 80:
                enough.set()

    async def scenario(url: str) -> None:
        async with await MarketClient.connect(url, on_md_event=on_md_event):
            settings = SimSettings(name_prefix="remote_")
            stats = await run_remote(
                url, settings, seed=5, duration_s=120.0, stop=enough, admin=Credentials("root", "rootpw")
            )
        assert enough.is_set(), f"the agents changed the book in only {len(moments)} milliseconds in 120 s"
        assert stats.failures == 0 and stats.errors == 0
        step_ms = settings.step_ms
        phase = sum(cmath.exp(2j * math.pi * (ts % step_ms) / step_ms) for ts in moments) / len(moments)
        assert abs(phase) < 0.5, f"book changes bunch at one phase of the {step_ms}-ms step: {abs(phase):.2f}"

    with server_process(tmp_path / "data", bots=False) as server:
        server.add_user("root", "rootpw", "admin")
        asyncio.run(scenario(server.url))


def test_guest_agents_stopped_by_the_guest_limit_say_so(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", bots=False, config=SCARCE_GUESTS) as server:
        with pytest.raises(BotsRefused) as refused:
            asyncio.run(run_remote(server.url, SimSettings(), seed=3, duration_s=1.0))
        message = str(refused.value)
        assert "guest login" in message and "RATE_LIMITED" in message and "--admin-user" in message
        assert f"of {sum(SimSettings().agents.model_dump().values())}" in message
        # The command line reports it in one line and exits non-zero, with no traceback.
        env = {**os.environ, "HFTSIM_SESSION": '{"password_profile": "CHEAPEST"}'}
        done = subprocess.run(
            [sys.executable, "-m", "hftsim", "bots", "--url", server.url, "--duration", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode != 0
        assert "Traceback" not in done.stderr, done.stderr
        assert re.search(r"^hftsim bots: .*guest login.* was refused \(.*RATE_LIMITED", done.stderr, re.M), done.stderr


def test_bots_need_an_admin(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", bots=False) as server:
        server.add_user("ann", "annpw", "trader")
        with pytest.raises(BotsRefused, match="ann is not an admin"):
            asyncio.run(run_remote(server.url, SimSettings(), duration_s=1.0, admin=Credentials("ann", "annpw")))
        with pytest.raises(BotsRefused, match=r"admin login as ann was refused \(.*INVALID_CREDENTIALS"):
            asyncio.run(run_remote(server.url, SimSettings(), duration_s=1.0, admin=Credentials("ann", "wrong")))


def test_in_process_agents_make_a_living_market_within_seconds(tmp_path: Path) -> None:
    async def scenario(url: str) -> None:
        async with await MarketClient.connect(url) as watcher:
            symbols = [s["sym"] for s in await watcher.get_symbols()]
            deadline = time.monotonic() + 15
            waiting = set(symbols)
            while waiting and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                for sym in list(waiting):
                    book = watcher.book_snapshot(sym, 20)
                    trades = await watcher.send("trades.list", {"sym": sym, "limit": 10})
                    if len(book["bids"]) >= 5 and len(book["asks"]) >= 5 and trades["trades"]:
                        waiting.discard(sym)
            assert not waiting, f"no deep two-sided book with trades yet on {sorted(waiting)}"

    with server_process(tmp_path / "data", bots=True) as server:
        asyncio.run(scenario(server.url))
