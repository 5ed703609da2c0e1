"""Trading in the browser: order ticket (keyboard too), open orders, cancel,
fills, positions and PnL, and rejections shown to the user."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hftsim.testing import ServerProcess
from playwright.sync_api import Page, expect

from .conftest import PageFactory
from .helpers import HttpTrader, login_guest, page_state, select_symbol, wait_until


def ticket(
    page: Page,
    side: str,
    price: str | None,
    qty: int,
    tif: str = "GTC",
    post_only: bool = False,
) -> None:
    page.get_by_test_id(f"ticket-{side}").click()
    if price is None:
        page.get_by_test_id("ticket-type-market").click()
    else:
        page.get_by_test_id("ticket-type-limit").click()
        page.get_by_test_id("ticket-price").fill(price)
    page.get_by_test_id("ticket-qty").fill(str(qty))
    if price is not None:
        page.get_by_test_id("ticket-tif").select_option(tif)
        if post_only:
            page.get_by_test_id("ticket-post-only").check()
    page.get_by_test_id("ticket-submit").click()


def test_limit_order_by_keyboard_shows_in_open_orders_and_on_ladder_then_cancel(
    server: ServerProcess, new_page: PageFactory
) -> None:
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")

    # Keyboard entry: B picks the buy side and focuses the price; Enter sends.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("s")
    expect(page.get_by_test_id("ticket")).to_have_attribute("data-side", "sell")
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    expect(page.get_by_test_id("ticket")).to_have_attribute("data-side", "buy")
    expect(page.get_by_test_id("ticket-price")).to_be_focused()
    page.keyboard.type("99.50")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("ticket-qty")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("12")
    expect(page.get_by_test_id("ticket-submit")).to_have_text("Buy 12 ACME @ 99.50")
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    rows = page.get_by_test_id("open-orders-body").locator("tr[data-order-id]")
    expect(rows).to_have_count(1)
    order_id = rows.first.get_attribute("data-order-id")
    expect(rows.first).to_contain_text("99.50")
    expect(rows.first).to_contain_text("BUY")
    expect(page.get_by_test_id("orders-count")).to_have_text("1")

    # The server agrees, and the public book carries it.
    other = HttpTrader(server.url)
    assert other.request("book.get", {"sym": "ACME"})["bids"][0] == ["99.50", 12]
    # Marked as the user's own on the ladder.
    level = page.locator('[data-testid^="ladder-bid-"][data-price="99.50"]')
    expect(level).to_have_attribute("data-own", "12")
    expect(level).to_have_class("lvl bid filled mine")

    # Esc clears the ticket.
    page.get_by_test_id("ticket-price").click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("ticket-price")).to_have_value("")

    page.get_by_test_id(f"cancel-{order_id}").click()
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("orders-count")).to_have_text("0")
    expect(page.locator('[data-testid^="ladder-bid-"][data-price="99.50"]')).to_have_count(0)
    assert other.request("book.get", {"sym": "ACME"})["bids"] == []


def test_cancel_all(server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "BOLT")
    for price in ("41.00", "41.05", "41.10"):
        ticket(page, "buy", price, 3)
        expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    ticket(page, "sell", "44.00", 2)
    expect(page.get_by_test_id("orders-count")).to_have_text("4")
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-own", "3")
    page.get_by_test_id("cancel-all").click()
    expect(page.get_by_test_id("orders-count")).to_have_text("0")
    expect(page.get_by_test_id("toast")).to_contain_text("Canceled 4 orders")
    expect(page.locator("[data-own]")).to_have_count(0)


def test_marketable_order_fills_and_moves_position_and_pnl(server: ServerProcess, new_page: PageFactory) -> None:
    maker = HttpTrader(server.url)
    maker.place("ACME", "sell", "100.10", 5)
    maker.place("ACME", "sell", "100.20", 5)
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", "100.10")

    # A market buy of 8 takes 5 @ 100.10 and 3 @ 100.20.
    ticket(page, "buy", None, 8)
    expect(page.get_by_test_id("ticket-result")).to_contain_text("filled 8")
    expect(page.get_by_test_id("fills-count")).to_have_text("2")
    page.get_by_test_id("tab-fills").click()
    fills = page.get_by_test_id("fill-row")
    expect(fills).to_have_count(2)
    expect(fills.nth(0)).to_contain_text("100.20")
    expect(fills.nth(1)).to_contain_text("100.10")
    expect(fills.nth(0)).to_contain_text("taker")

    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("8")
    # Money shows with the server's cash decimals (3: DUNE's tick is 0.001), as the SDK and leaderboard do.
    # Marked to the last trade (100.20): (100.20 - avg 100.1375) * 8 = 0.500
    expect(page.get_by_test_id("position-upnl-ACME")).to_have_text("0.500")
    expect(page.get_by_test_id("acct-unrealized")).to_have_text("0.500")
    expect(page.get_by_test_id("acct-cash")).to_have_text("999,198.900")
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", "100.20")
    expect(page.get_by_test_id("ladder-ask-0")).to_contain_text("2")

    # Someone else trades higher: unrealized PnL follows the last price.
    maker.place("ACME", "sell", "100.50", 1)
    HttpTrader(server.url).place("ACME", "buy", "100.50", 3)  # takes 2 @ 100.20, 1 @ 100.50
    expect(page.get_by_test_id("watch-last-ACME")).to_have_text("100.50")
    expect(page.get_by_test_id("position-upnl-ACME")).to_have_text("2.900")

    # Selling 8 into a resting bid closes the position and realizes PnL.
    maker.place("ACME", "buy", "100.40", 8)
    ticket(page, "sell", "100.40", 8, tif="IOC")
    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("0")
    expect(page.get_by_test_id("position-rpnl-ACME")).to_have_text("2.100")
    expect(page.get_by_test_id("acct-realized")).to_have_text("2.100")
    expect(page.get_by_test_id("acct-unrealized")).to_have_text("0.000")
    expect(page.get_by_test_id("fills-count")).to_have_text("3")


def test_server_rejection_is_shown(server: ServerProcess, new_page: PageFactory) -> None:
    HttpTrader(server.url).place("ACME", "sell", "100.10", 5)
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    error = page.get_by_test_id("ticket-error")

    # Outside the price band: only the server knows, and says so.
    ticket(page, "buy", "150.00", 1)
    expect(error).to_contain_text("PRICE_OUT_OF_BAND")
    expect(error).to_have_attribute("data-source", "server")
    expect(page.get_by_test_id("orders-count")).to_have_text("0")

    # Post-only that would cross.
    ticket(page, "buy", "100.10", 1, post_only=True)
    expect(error).to_contain_text("POST_ONLY_WOULD_CROSS")

    # Above the per-order limit.
    page.get_by_test_id("ticket-post-only").uncheck()
    ticket(page, "buy", "99.00", 100_001)
    expect(error).to_contain_text("QTY_ABOVE_MAX")
    expect(page.get_by_test_id("orders-count")).to_have_text("0")


def test_ticket_validates_tick_lot_and_min_qty_in_the_page(server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(
        server.url,
        init_script="""
        window.__placed = 0;
        const send = WebSocket.prototype.send;
        WebSocket.prototype.send = function (d) {
            if (String(d).includes('"order.place"')) window.__placed++;
            return send.call(this, d);
        };""",
    )
    login_guest(page)
    error = page.get_by_test_id("ticket-error")

    select_symbol(page, "BOLT")  # tick 0.05
    # The band hint names the outermost limit prices on tick.
    info = HttpTrader(server.url).symbols()["BOLT"]
    ref, tick, pct = (
        Decimal(info["ref_price"]),
        Decimal(info["tick"]),
        Decimal(info["band_pct"]),
    )
    lo = ((ref - ref * pct / 100) / tick).to_integral_value(ROUND_CEILING) * tick
    hi = ((ref + ref * pct / 100) / tick).to_integral_value(ROUND_FLOOR) * tick
    expect(page.get_by_test_id("ticket-hint")).to_contain_text(f"band {lo} – {hi}")
    ticket(page, "buy", "42.52", 1)
    expect(error).to_contain_text("multiple of the tick 0.05")
    expect(error).to_have_attribute("data-source", "page")
    ticket(page, "buy", "42.5x", 1)
    expect(error).to_contain_text("decimal number")

    select_symbol(page, "DUNE")  # lot 100, min_qty 100, tick 0.001
    ticket(page, "buy", "1.245", 150)
    expect(error).to_contain_text("multiple of the lot (100)")
    ticket(page, "buy", "1.245", 0)
    expect(error).to_contain_text("above zero")
    ticket(page, "buy", "1.2455", 100)
    expect(error).to_contain_text("multiple of the tick 0.001")
    assert page.evaluate("() => window.__placed") == 0

    # Arrow keys step by exact ticks; the order goes through.
    page.get_by_test_id("ticket-price").fill("1.249")
    page.get_by_test_id("ticket-price").press("ArrowUp")
    expect(page.get_by_test_id("ticket-price")).to_have_value("1.250")
    page.get_by_test_id("ticket-price").press("ArrowDown")
    page.get_by_test_id("ticket-price").press("ArrowDown")
    expect(page.get_by_test_id("ticket-price")).to_have_value("1.248")
    page.get_by_test_id("ticket-qty").fill("100")
    page.get_by_test_id("ticket-qty").press("ArrowUp")
    expect(page.get_by_test_id("ticket-qty")).to_have_value("200")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    row = page.get_by_test_id("open-orders-body").locator("tr[data-order-id]").first
    expect(row).to_have_attribute("data-price", "1.248")
    wait_until(lambda: page.evaluate("() => window.__placed") == 1, what="one order.place sent")
    # The price went out as the exact string typed, never as a float.
    assert page_state(page, "[...s.trading.orders.values()].map(o => o.price)") == ["1.248"]
