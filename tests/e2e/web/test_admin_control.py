"""The admin screen's market clock: pause (a trader's order is refused with
MARKET_PAUSED), step while paused, save a snapshot and restore it, resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import HttpTrader, login_guest, login_user, select_symbol, snap

ADMIN = ("prof", "prof-pass-1")


@pytest.fixture
def clock_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "data", bots=True)
    srv.add_user(*ADMIN, role="admin")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_instructor_pauses_steps_snapshots_restores_and_resumes(
    clock_server: ServerProcess, new_page: PageFactory
) -> None:
    admin = new_page(clock_server.url)
    login_user(admin, *ADMIN)
    admin.get_by_test_id("nav-admin").click()
    state = admin.get_by_test_id("admin-clock-state")
    expect(state).to_have_text("RUNNING")
    admin.get_by_test_id("admin-pause").click()
    expect(state).to_have_text("PAUSED")
    expect(admin.get_by_test_id("admin-step")).to_be_enabled()

    trader = new_page(clock_server.url)
    login_guest(trader)
    select_symbol(trader, "ACME")
    trader.get_by_test_id("ticket-price").fill("90.00")
    trader.get_by_test_id("ticket-qty").fill("1")
    trader.get_by_test_id("ticket-submit").click()
    expect(trader.get_by_test_id("ticket-error")).to_contain_text("MARKET_PAUSED")

    admin.get_by_test_id("admin-snapshot-name").fill("class start")
    admin.get_by_test_id("admin-snapshot-save").click()
    expect(admin.get_by_test_id("admin-snapshot-1")).to_contain_text("class start")
    clock = admin.get_by_test_id("admin-clock-time")
    before = clock.inner_text()
    admin.get_by_test_id("admin-step-s").fill("5")
    admin.get_by_test_id("admin-step").click()
    expect(admin.get_by_test_id("toasts")).to_contain_text("Stepped")
    expect(clock).not_to_have_text(before)
    admin.get_by_test_id("admin-restore-1").click()
    expect(clock).to_have_text(before)
    expect(state).to_have_text("PAUSED")
    snap(admin, "admin-clock")

    admin.get_by_test_id("admin-speed").fill("3")
    admin.get_by_test_id("admin-speed-apply").click()
    expect(admin.get_by_test_id("toasts")).to_contain_text("×3")
    admin.get_by_test_id("admin-resume-market").click()
    expect(state).to_have_text("RUNNING")
    placed = HttpTrader(clock_server.url).place("ACME", "buy", "90.00", 1)
    assert placed["status"] in ("new", "filled", "partially_filled")


SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


@pytest.fixture
def scenario_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path / "data", bots=True, config={"scenarios": {"dir": str(SCENARIOS)}}
    )
    srv.add_user(*ADMIN, role="admin")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_instructor_starts_a_scenario_and_steps_through_it(
    scenario_server: ServerProcess, new_page: PageFactory
) -> None:
    admin = new_page(scenario_server.url)
    login_user(admin, *ADMIN)
    admin.get_by_test_id("nav-admin").click()
    playing = admin.get_by_test_id("admin-scenario-playing")
    expect(playing).to_have_text("none playing")
    expect(admin.get_by_test_id("admin-scenario-flash_crash.toml")).to_contain_text(
        "Flash crash and recovery"
    )
    admin.get_by_test_id("admin-scenario-start-flash_crash.toml").click()
    expect(playing).to_have_attribute("data-name", "Flash crash and recovery")
    admin.get_by_test_id("admin-pause").click()
    admin.get_by_test_id("admin-step-s").fill("45")
    admin.get_by_test_id("admin-step").click()
    expect(admin.get_by_test_id("admin-status-BOLT")).to_have_text("HALTED")
    admin.get_by_test_id("admin-users-refresh").click()
    admin.get_by_test_id("nav-trade").click()
    admin.get_by_test_id("nav-admin").click()
    expect(playing).to_have_attribute("data-done", "3")
    snap(admin, "admin-scenario")
    admin.get_by_test_id("admin-scenario-stop").click()
    expect(playing).to_have_text("none playing")
