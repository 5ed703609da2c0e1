"""The admin screen's market clock: pause (a trader's order is refused with
MARKET_PAUSED), step while paused, save a snapshot and restore it, resume."""

from __future__ import annotations

from hftsim.testing import ServerProcess
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import HttpTrader, admin_page, login_guest, select_symbol, snap


def test_instructor_pauses_steps_snapshots_restores_and_resumes(
    class_bot_server: ServerProcess, new_page: PageFactory
) -> None:
    admin = admin_page(new_page, class_bot_server.url)
    state = admin.get_by_test_id("admin-clock-state")
    expect(state).to_have_text("RUNNING")
    admin.get_by_test_id("admin-pause").click()
    expect(state).to_have_text("PAUSED")
    expect(admin.get_by_test_id("admin-step")).to_be_enabled()

    trader = new_page(class_bot_server.url)
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
    placed = HttpTrader(class_bot_server.url).place("ACME", "buy", "90.00", 1)
    assert placed["status"] in ("new", "filled", "partially_filled")


def test_instructor_starts_a_scenario_and_steps_through_it(
    scenario_server: ServerProcess, new_page: PageFactory
) -> None:
    admin = admin_page(new_page, scenario_server.url)
    playing = admin.get_by_test_id("admin-scenario-playing")
    expect(playing).to_have_text("none playing")
    expect(admin.get_by_test_id("admin-scenario-flash_crash.toml")).to_contain_text("Flash crash and recovery")
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
