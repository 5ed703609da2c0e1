"""Scenarios on a real server: `hftsim serve --scenario FILE --paused`, stepped by an admin; the
admin's list of scenario files and starting one at run time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from market_client import MarketClient, ServerError

from hftsim.testing import ServerProcess, server_process

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
ADMIN = ("prof", "prof-pass-1")


@pytest.fixture
def crash_server(tmp_path: Path) -> Iterator[ServerProcess]:
    with server_process(
        tmp_path / "data",
        bots=True,
        config={"scenarios": {"dir": str(SCENARIOS)}, "sim": {"intensity": 5}},  # half a second per step
        args=("--scenario", str(SCENARIOS / "flash_crash.toml"), "--paused"),
        admins=dict([ADMIN]),
    ) as srv:
        yield srv


async def status_of(client: MarketClient, sym: str) -> str:
    return str((await client.get_book(sym, depth=1))["status"])


async def test_a_scenario_plays_on_the_stepped_clock_and_admins_pick_others(crash_server: ServerProcess) -> None:
    async with await MarketClient.connect(crash_server.url, username=ADMIN[0], password=ADMIN[1]) as boss:
        status = await boss.admin.sim_status()
        assert status["paused"] is True and status["scenario"]["name"] == "Flash crash and recovery"
        assert status["scenario"]["events_done"] == 0
        await boss.admin.step(35)
        assert await status_of(boss, "BOLT") == "trading"
        assert (await boss.admin.sim_status())["scenario"]["events_done"] == 2  # drought, plunge
        await boss.admin.step(10)
        assert await status_of(boss, "BOLT") == "halted"
        await boss.admin.step(35)
        assert await status_of(boss, "BOLT") == "trading"
        played = (await boss.admin.sim_status())["scenario"]
        assert played["events_done"] == 6 and played["log"][2] == "40s halt BOLT"

        listed = await boss.send("admin.scenarios")
        assert [s["file"] for s in listed["scenarios"]] == ["flash_crash.toml", "news_shock.toml", "quiet_day.toml"]
        assert listed["playing"]["name"] == "Flash crash and recovery"
        started = await boss.send("admin.scenario_start", {"file": "news_shock.toml"})
        assert started["scenario"]["name"] == "News shock" and started["scenario"]["events_done"] == 0
        for bad in ("nope.toml", "../scenarios/news_shock.toml"):
            with pytest.raises(ServerError) as unknown:
                await boss.send("admin.scenario_start", {"file": bad})
            assert unknown.value.code == "UNKNOWN_SCENARIO"
        await boss.send("admin.scenario_stop")
        assert (await boss.admin.sim_status())["scenario"] is None
    async with await MarketClient.connect(crash_server.url) as guest:
        with pytest.raises(ServerError) as forbidden:
            await guest.send("admin.scenario_start", {"file": "news_shock.toml"})
        assert forbidden.value.code == "FORBIDDEN"
