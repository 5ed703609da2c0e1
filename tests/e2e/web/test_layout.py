"""The website on a 1024-px laptop and on a phone, one number format, a ticket that resets sensibly, the
guest button only when guests may log in, and charts from one second to one hour that survive a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hftsim.testing import ServerProcess
from playwright.sync_api import FloatRect, Page, expect

from .conftest import PageFactory
from .helpers import (
    ARTIFACTS,
    HttpTrader,
    login_guest,
    page_state,
    select_symbol,
    snap,
    wait_until,
)


def box(page: Page, testid: str) -> FloatRect:
    found = page.get_by_test_id(testid).bounding_box()
    assert found is not None, f"{testid} is not rendered"
    return found


def inside_viewport(page: Page, testid: str) -> None:
    """The element is wholly on screen and nothing covers its middle (it can be clicked where it is)."""
    b = box(page, testid)
    size = page.viewport_size
    assert size is not None
    assert b["x"] >= 0 and b["y"] >= 0, b
    assert b["x"] + b["width"] <= size["width"] and b["y"] + b["height"] <= size["height"], (b, size)
    on_top = page.evaluate(
        "([x, y, id]) => document.elementFromPoint(x, y)?.closest(`[data-testid='${id}']`) !== null",
        [b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, testid],
    )
    assert on_top, f"{testid} is covered"


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page.viewport_size is not None
    assert width <= page.viewport_size["width"], f"page is {width} px wide"


def test_the_ticket_is_on_screen_and_works_at_1024x700(server: ServerProcess, new_page: PageFactory) -> None:
    maker = HttpTrader(server.url)
    maker.place("ACME", "sell", "100.10", 5)
    page = new_page(server.url, width=1024, height=700)
    login_guest(page)
    select_symbol(page, "ACME")
    no_sideways_scroll(page)
    for part in ("ticket-buy", "ticket-sell", "ticket-price", "ticket-qty", "ticket-submit", "watchlist", "ladder"):
        inside_viewport(page, part)
    page.get_by_test_id("ticket").screenshot(path=str(ARTIFACTS / "ticket-1024x700.png"))
    page.get_by_test_id("ticket-type-market").click()
    page.get_by_test_id("ticket-qty").fill("5")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("5")
    snap(page, "layout-1024x700")


def test_a_phone_gets_a_read_only_view_of_the_market(server: ServerProcess, new_page: PageFactory) -> None:
    maker = HttpTrader(server.url)
    maker.place("ACME", "sell", "100.10", 5)
    maker.place("ACME", "buy", "99.90", 7)
    page = new_page(server.url, width=390, height=844)
    login_guest(page)
    select_symbol(page, "ACME")
    no_sideways_scroll(page)
    expect(page.get_by_test_id("ticket")).to_be_hidden()
    expect(page.get_by_test_id("phone-note")).to_be_visible()
    for part in ("watchlist", "chart", "ladder", "tape", "positions"):
        locator = page.get_by_test_id(part)
        locator.scroll_into_view_if_needed()
        expect(locator).to_be_visible()
        b = box(page, part)
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390, (part, b)
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", "100.10")
    expect(page.get_by_test_id("acct-cash")).to_be_visible()
    snap(page, "layout-390x844")


def test_money_and_prices_share_one_format(server: ServerProcess, new_page: PageFactory) -> None:
    """Cash and PnL with the decimals the server writes cash with; prices with the tick's decimals."""
    maker = HttpTrader(server.url)
    cash = maker.request("account.get")["cash"]
    decimals = len(cash.split(".")[1])
    maker.place("DUNE", "sell", "1.25", 100)
    maker.place("EMBR", "sell", "30000", 1)
    page = new_page(server.url)
    login_guest(page)
    expect(page.get_by_test_id("acct-cash")).to_have_text("1,000,000." + "0" * decimals)
    select_symbol(page, "DUNE")
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", "1.250")
    page.get_by_test_id("ticket-type-market").click()
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("position-qty-DUNE")).to_have_text("100")
    expect(page.get_by_test_id("acct-cash")).to_have_text("999,875." + "0" * decimals)
    expect(page.get_by_test_id("position-upnl-DUNE")).to_have_text("0." + "0" * decimals)
    select_symbol(page, "EMBR")
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", "30000.0")
    expect(page.get_by_test_id("ladder-ask-0")).to_contain_text("30000.0")


def test_the_ticket_resets_quantity_and_price_when_the_symbol_or_type_changes(
    server: ServerProcess, new_page: PageFactory
) -> None:
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    qty, price = page.get_by_test_id("ticket-qty"), page.get_by_test_id("ticket-price")
    qty.fill("7")
    price.fill("99.50")
    select_symbol(page, "DUNE")  # lot 100: 7 is not a valid quantity there
    expect(qty).to_have_value("100")
    expect(price).to_have_value("")
    qty.fill("300")
    select_symbol(page, "BOLT")  # lot 1, min 1: 300 still is
    expect(qty).to_have_value("300")
    price.fill("42.50")
    page.get_by_test_id("ticket-type-market").click()
    expect(price).to_have_value("")
    expect(price).to_be_disabled()
    expect(page.get_by_test_id("ticket-submit")).to_have_text("Buy 300 BOLT @ market")
    page.get_by_test_id("ticket-type-limit").click()
    expect(price).to_have_value("")
    expect(price).to_be_enabled()


@pytest.fixture
def no_guests(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "closed", config={"session": {"allow_guests": False}})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_the_guest_button_shows_only_when_guests_may_log_in(
    server: ServerProcess, no_guests: ServerProcess, new_page: PageFactory
) -> None:
    assert httpx.get(f"{no_guests.url}/api/info").json() == {"name": "HFT Simulator", "guests": False, "gateways": []}
    closed = new_page(no_guests.url)
    expect(closed.get_by_test_id("login-page")).to_have_attribute("data-guests", "false")
    expect(closed.get_by_test_id("login-guest")).to_be_hidden()
    expect(closed.get_by_test_id("login-submit")).to_be_visible()
    assert httpx.get(f"{server.url}/api/info").json()["guests"] is True
    opened = new_page(server.url)
    expect(opened.get_by_test_id("login-guest")).to_be_visible()


def chart_state(page: Page) -> dict[str, Any]:
    chart = page.get_by_test_id("chart")
    return {
        "interval": chart.get_attribute("data-interval"),
        "bars": int(chart.get_attribute("data-bars") or 0),
    }


def test_chart_timeframes_to_an_hour_survive_a_restart_and_indicators_toggle(
    server: ServerProcess, new_page: PageFactory
) -> None:
    maker, taker = HttpTrader(server.url), HttpTrader(server.url)
    for price in ("100.10", "100.20"):
        maker.place("ACME", "sell", price, 2)
        taker.place("ACME", "buy", price, 2)
    server.restart()
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    for label, ms in (("15m", 900_000), ("1h", 3_600_000)):
        page.get_by_test_id(f"chart-interval-{label}").click()
        expect(page.get_by_test_id("chart")).to_have_attribute("data-interval", str(ms))
        wait_until(lambda: chart_state(page)["bars"] >= 1, what=f"{label} bars from before the restart")
    candles = page_state(page, "s.market.candles.bars")
    assert candles[-1]["h"] == 100.2 and candles[-1]["l"] == 100.1 and candles[-1]["v"] == 4
    chart = page.get_by_test_id("chart")
    expect(chart).to_have_attribute("data-overlays", "volume")
    page.get_by_test_id("chart-toggle-vwap").click()
    page.get_by_test_id("chart-toggle-ma").click()
    page.get_by_test_id("chart-toggle-volume").click()
    expect(chart).to_have_attribute("data-overlays", "vwap ma")
    expect(page.get_by_test_id("chart-toggle-vwap")).to_have_attribute("aria-pressed", "true")
