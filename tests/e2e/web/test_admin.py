"""Logging in with a password, and the admin screen: halt / resume, agent
intensity, users. A trader's page shows a halt and refuses orders."""

from __future__ import annotations

import json

import httpx
import pytest
from hftsim.testing import ServerProcess
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import (
    ADMIN,
    STUDENT,
    ApiError,
    HttpTrader,
    admin_page,
    login_guest,
    login_user,
    select_symbol,
    snap,
)


def test_login_with_password_and_wrong_password(class_server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(class_server.url)
    snap(page, "login")
    page.get_by_test_id("login-username").fill(STUDENT[0])
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("INVALID_CREDENTIALS")
    expect(page.get_by_test_id("trading-screen")).to_have_count(0)
    snap(page, "login-error")

    login_user(page, *STUDENT)
    expect(page.get_by_test_id("user-name")).to_have_text(STUDENT[0])
    expect(page.get_by_test_id("user-role")).to_have_text("trader")
    expect(page.get_by_test_id("nav-admin")).to_be_hidden()

    saved = page.evaluate("sessionStorage.getItem('hftsim.session')")
    bearer = {"Authorization": f"Bearer {json.loads(saved)['token']}"}
    with page.expect_response("**/auth/logout") as logout:
        page.get_by_test_id("logout").click()
    assert logout.value.status == 200
    expect(page.get_by_test_id("login-page")).to_be_visible()
    # the website's logout revoked the token on the server
    ping = {"type": "request", "ver": 1, "msg_id": "late", "op": "ping", "payload": {}}
    refused = httpx.post(f"{class_server.url}/api/request", json=ping, headers=bearer)
    assert refused.status_code == 401


def test_admin_halts_symbol_and_trader_page_refuses_orders(class_server: ServerProcess, new_page: PageFactory) -> None:
    trader = new_page(class_server.url)
    login_user(trader, *STUDENT)
    select_symbol(trader, "ACME")
    guest = new_page(class_server.url)
    login_guest(guest)

    admin = admin_page(new_page, class_server.url)
    expect(admin.get_by_test_id("user-role")).to_have_text("admin")
    expect(admin.get_by_test_id("admin-screen")).to_be_visible()
    expect(admin.get_by_test_id("admin-status-ACME")).to_have_text("TRADING")
    # Users: the two accounts and the guest.
    expect(admin.get_by_test_id(f"admin-user-{ADMIN[0]}")).to_contain_text("admin")
    expect(admin.get_by_test_id(f"admin-user-{STUDENT[0]}")).to_contain_text("trader")
    expect(admin.get_by_test_id("admin-users-body").locator("tr", has_text="guest")).not_to_have_count(0)

    admin.get_by_test_id("admin-halt-ACME").click()
    expect(admin.get_by_test_id("admin-status-ACME")).to_have_text("HALTED")
    snap(admin, "admin-screen")

    # The trader's page sees the halt at once and will not send orders.
    expect(trader.get_by_test_id("watch-status-ACME")).to_have_text("HALTED")
    expect(trader.get_by_test_id("ticket-halted")).to_be_visible()
    expect(trader.get_by_test_id("ticket-halted")).to_contain_text("halted")
    trader.get_by_test_id("ticket-price").fill("99.00")
    trader.get_by_test_id("ticket-qty").fill("1")
    expect(trader.get_by_test_id("ticket-submit")).to_be_disabled()
    trader.get_by_test_id("ticket-qty").press("Enter")
    expect(trader.get_by_test_id("orders-count")).to_have_text("0")
    snap(trader, "trader-halted")
    # Other symbols still trade.
    expect(trader.get_by_test_id("watch-status-BOLT")).to_have_text("")
    # And the server refuses too.
    with pytest.raises(ApiError) as exc:
        HttpTrader(class_server.url).place("ACME", "buy", "99.00", 1)
    assert exc.value.code == "SYMBOL_HALTED"

    admin.get_by_test_id("admin-resume-ACME").click()
    expect(admin.get_by_test_id("admin-status-ACME")).to_have_text("TRADING")
    expect(trader.get_by_test_id("watch-status-ACME")).to_have_text("")
    expect(trader.get_by_test_id("ticket-halted")).to_be_hidden()
    expect(trader.get_by_test_id("ticket-submit")).to_be_enabled()
    trader.get_by_test_id("ticket-submit").click()
    expect(trader.get_by_test_id("orders-count")).to_have_text("1")

    # Back on the trading screen the admin can trade like anyone else.
    admin.get_by_test_id("nav-trade").click()
    expect(admin.get_by_test_id("trading-screen")).to_be_visible()


def test_admin_sets_agent_intensity(class_bot_server: ServerProcess, new_page: PageFactory) -> None:
    admin = admin_page(new_page, class_bot_server.url)
    state = admin.get_by_test_id("admin-sim-state")
    expect(state).to_have_attribute("data-running", "true")
    admin.get_by_test_id("admin-intensity").fill("2.5")
    admin.get_by_test_id("admin-sim-apply").click()
    expect(state).to_contain_text("2.5")
    admin.get_by_test_id("admin-sim-pause").click()
    expect(state).to_have_text("paused")
    expect(state).to_have_attribute("data-running", "false")
    # The server agrees.
    boss = HttpTrader(class_bot_server.url, username=ADMIN[0], password=ADMIN[1])
    assert boss.request("admin.sim", {})["running"] is False
    admin.get_by_test_id("admin-intensity").fill("1")
    admin.get_by_test_id("admin-sim-apply").click()
    expect(state).to_have_attribute("data-running", "true")


def test_guest_cannot_reach_admin_ops(server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(server.url)
    login_guest(page)
    expect(page.get_by_test_id("nav-admin")).to_be_hidden()
    forbidden = page.evaluate(
        "() => window.hftsim.session.request('admin.halt', {sym: 'ACME'}).then(() => 'ok', e => e.code)"
    )
    assert forbidden == "FORBIDDEN"
