"""Watching the market in the browser: watchlist, book ladder, chart, tape,
and the protocol's sequence rule (a gap resyncs that one symbol)."""

from __future__ import annotations

import json
import os
import re

from hftsim.testing import ServerProcess
from playwright.sync_api import Page, expect

from .conftest import PageFactory
from .helpers import (
    REPO,
    HttpTrader,
    login_guest,
    page_state,
    select_symbol,
    ticks_from,
    wait_until,
)

# Records every op the page sends on its sockets (window.__sent), so a test
# can see exactly which snapshots the page asked for.
ANY = re.compile(r".+")

RECORD_SENT = """
(() => {
  window.__sent = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try { const m = JSON.parse(data); window.__sent.push({op: m.op, payload: m.payload}); } catch (e) {}
    return send.call(this, data);
  };
})();
"""


def seed_book(mm: HttpTrader, sym: str, levels: int = 5) -> dict[str, str]:
    """Rests `levels` bids and asks around the reference price; returns the best prices."""
    info = mm.symbols()[sym]
    ref, tick, q = info["ref_price"], info["tick"], info["min_qty"]
    for i in range(1, levels + 1):
        mm.place(sym, "buy", ticks_from(ref, tick, -i), q * i)
        mm.place(sym, "sell", ticks_from(ref, tick, i), q * i)
    return {
        "bid": ticks_from(ref, tick, -1),
        "ask": ticks_from(ref, tick, 1),
        "tick": tick,
    }


def ladder_levels(page: Page, side: str) -> list[tuple[str, str]]:
    """The ladder's (price, size) rows of one side, best first."""
    levels: list[tuple[str, str]] = page.evaluate(
        """(side) => {
            const out = [];
            for (let i = 0; ; i++) {
                const row = document.querySelector(`[data-testid="ladder-${side}-${i}"]`);
                if (!row || !row.dataset.price) return out;
                out.push([row.dataset.price, row.querySelectorAll(".num")[1].textContent]);
            }
        }""",
        side,
    )
    return [(price, qty) for price, qty in levels]


def test_guest_sees_live_book_fill_with_agents(bot_server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(bot_server.url)
    expect(page.get_by_test_id("login-page")).to_be_visible()
    login_guest(page)

    syms = HttpTrader(bot_server.url).symbols()
    for sym in syms:
        expect(page.get_by_test_id(f"watch-row-{sym}")).to_be_visible()
    # The agents quote both sides: the ladder fills up and prices print.
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", ANY, timeout=30_000)
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", ANY, timeout=30_000)
    expect(page.get_by_test_id("tape-row").first).to_be_visible(timeout=30_000)
    first = next(iter(syms))
    expect(page.get_by_test_id(f"watch-last-{first}")).not_to_have_text("—", timeout=30_000)
    expect(page.get_by_test_id("chart")).not_to_have_attribute("data-bars", "0", timeout=30_000)
    bid = page.get_by_test_id("ladder-bid-0").get_attribute("data-price") or ""
    ask = page.get_by_test_id("ladder-ask-0").get_attribute("data-price") or ""
    assert float(bid) < float(ask), f"crossed book on the page: {bid} / {ask}"

    # Trade a little from the page so every panel has something to show.
    page.get_by_test_id("ticket-type-market").click()
    page.get_by_test_id("ticket-qty").fill("5")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("fills-count")).not_to_have_text("0")
    expect(page.get_by_test_id(f"position-qty-{first}")).to_have_text("5")
    page.get_by_test_id("ticket-type-limit").click()
    page.get_by_test_id("ticket-price").fill(ticks_from(bid, syms[first]["tick"], -10))
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("orders-count")).not_to_have_text("0")

    # The product screenshot in docs/ is refreshed on request only, so a test run leaves the tree clean.
    if os.environ.get("HFTSIM_UPDATE_SCREENSHOT") == "1":
        page.get_by_test_id("chart-toggle-vwap").click()
        page.get_by_test_id("chart-toggle-ma").click()
        page.wait_for_timeout(25_000)  # let the chart collect candles
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(REPO / "docs" / "img" / "trading.png"))


def test_book_ladder_matches_resting_orders_and_updates_live(server: ServerProcess, new_page: PageFactory) -> None:
    mm = HttpTrader(server.url)
    best = seed_book(mm, "ACME")
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")

    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", best["bid"])
    expect(page.get_by_test_id("ladder-ask-0")).to_have_attribute("data-price", best["ask"])
    book = mm.request("book.get", {"sym": "ACME", "depth": 10})
    want_bids = [(p, str(q)) for p, q in book["bids"]]
    want_asks = [(p, str(q)) for p, q in book["asks"]]
    assert ladder_levels(page, "bid") == want_bids
    assert ladder_levels(page, "ask") == want_asks
    expect(page.get_by_test_id("ladder-spread")).to_contain_text("0.02")

    # A live delta: a new best bid from another trader appears on the ladder.
    inside = ticks_from(best["bid"], best["tick"], 1)
    mm.place("ACME", "buy", inside, 7)
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", inside)
    expect(page.get_by_test_id("ladder-bid-0")).to_contain_text("7")

    # Depth is configurable.
    page.get_by_test_id("ladder-depth").select_option("5")
    expect(page.locator('[data-testid^="ladder-bid-"]')).to_have_count(5)

    # A trade prints on the tape and the watchlist, with the change vs open.
    HttpTrader(server.url).place("ACME", "sell", None, 2)
    expect(page.get_by_test_id("tape-row").first).to_contain_text(inside)
    expect(page.get_by_test_id("watch-last-ACME")).to_have_text(inside)
    expect(page.get_by_test_id("watch-chg-ACME")).to_have_text("+0.00%")


def test_clicking_a_level_prices_the_ticket(server: ServerProcess, new_page: PageFactory) -> None:
    mm = HttpTrader(server.url)
    best = seed_book(mm, "BOLT")
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "BOLT")
    page.get_by_test_id("ladder-ask-2").click()
    third_ask = ticks_from(best["ask"], best["tick"], 2)
    expect(page.get_by_test_id("ticket-price")).to_have_value(third_ask)
    expect(page.get_by_test_id("ticket-qty")).to_be_focused()


def test_chart_seeded_from_candles_and_interval_choice(server: ServerProcess, new_page: PageFactory) -> None:
    mm, taker = HttpTrader(server.url), HttpTrader(server.url)
    seed_book(mm, "ACME")
    for _ in range(3):
        taker.place("ACME", "buy", None, 1)
    page = new_page(server.url)
    login_guest(page)
    chart = page.get_by_test_id("chart")
    expect(chart).to_have_attribute("data-interval", "1000")
    expect(chart).not_to_have_attribute("data-bars", "0")
    expect(page.get_by_test_id("chart-canvas").locator("canvas").first).to_be_visible()

    for label, ms in (("5s", 5_000), ("1m", 60_000), ("5m", 300_000), ("1s", 1_000)):
        page.get_by_test_id(f"chart-interval-{label}").click()
        expect(chart).to_have_attribute("data-interval", str(ms))
        expect(chart).not_to_have_attribute("data-bars", "0")
    # Live: a new trade adds its volume to the candles.
    volume = "s.market.candles.bars.reduce((a, b) => a + b.v, 0)"
    wait_until(lambda: page_state(page, volume) == 3, what="seeded volume 3")
    taker.place("ACME", "buy", None, 4)
    wait_until(lambda: page_state(page, volume) == 7, what="live volume 7")


def test_gap_resyncs_only_that_symbol(server: ServerProcess, new_page: PageFactory) -> None:
    mm = HttpTrader(server.url)
    seed_book(mm, "ACME")
    seed_book(mm, "BOLT")
    page = new_page(server.url, init_script=RECORD_SENT)
    login_guest(page)
    select_symbol(page, "ACME")
    page.evaluate("() => { window.__sent.length = 0; }")

    # The server's test hook swallows ACME's next public event: the page misses seq N.
    mm.request("test.drop_md", {"sym": "ACME", "count": 1})
    best_bid = page.get_by_test_id("ladder-bid-0").get_attribute("data-price") or ""
    mm.place("ACME", "buy", ticks_from(best_bid, "0.01", 1), 3)  # dropped
    mm.place("ACME", "buy", ticks_from(best_bid, "0.01", 2), 4)  # seq N+1: gap

    want = mm.request("book.get", {"sym": "ACME", "depth": 10})
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", want["bids"][0][0])
    expect(page.get_by_test_id("ladder-bid-1")).to_have_attribute("data-price", want["bids"][1][0])
    expect(page.get_by_test_id("ladder-bid-1")).to_contain_text("3")

    snaps = wait_until(
        lambda: [m for m in page.evaluate("() => window.__sent") if m["op"] == "md.snapshot"],
        what="an md.snapshot request",
    )
    assert [m["payload"] for m in snaps] == [{"sym": "ACME"}], json.dumps(snaps)
    # No other symbol resynced; the session itself never reconnected.
    assert page_state(
        page,
        "[...s.market.streams.values()].filter(x => x.sym !== 'ACME').map(x => x.gaps)",
    ) == [0] * (len(mm.symbols()) - 1)
    assert "reconnecting" not in page_state(page, "s.connHistory")
    expect(page.get_by_test_id("ladder")).to_have_attribute("data-synced", "true")


def test_trading_screen_fits_1280x800(server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(server.url, width=1280, height=800)
    login_guest(page)
    for tid in (
        "watchlist",
        "chart",
        "ladder",
        "ticket",
        "tape",
        "blotter",
        "positions-panel",
        "conn-status",
    ):
        box = page.get_by_test_id(tid).bounding_box()
        assert box is not None, tid
        assert box["x"] >= 0 and box["y"] >= 0, (tid, box)
        assert box["x"] + box["width"] <= 1280 + 0.5, (tid, box)
        assert box["y"] + box["height"] <= 800 + 0.5, (tid, box)
        if tid != "conn-status":
            assert box["width"] > 150 and box["height"] > 30, (tid, box)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
