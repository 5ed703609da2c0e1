"""The page keeps going: reconnects and resyncs after the server restarts,
renews its token before expiry, and stays smooth under live market data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process
from playwright.sync_api import Browser, Page, expect

from .conftest import PageFactory
from .helpers import (
    HttpTrader,
    login_guest,
    page_state,
    select_symbol,
    snap,
    wait_until,
)

ANY = re.compile(r".+")

RECORD_SENT = """
(() => {
  window.__sent = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try { window.__sent.push(JSON.parse(data).op); } catch (e) {}
    return send.call(this, data);
  };
})();
"""

LONG_TASK_CPU_MS = 200
"""The most CPU time one task of the page's main thread may take: longer, and the page stutters."""


def main_thread_tasks(trace: bytes) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of each task the page's main thread ran, read from a Chromium trace.

    The CPU time is the thread's own: on a loaded machine a task's wall time
    also counts the time other processes held the CPU, which says nothing of
    the page.
    """
    data = json.loads(trace)
    events = data["traceEvents"] if isinstance(data, dict) else data
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"
    }
    return [
        (e["dur"] / 1000, e["tdur"] / 1000)
        for e in events
        if e.get("ph") == "X"
        and e.get("name") == "ThreadControllerImpl::RunTask"
        and (e["pid"], e["tid"]) in main
        and "tdur" in e
    ]


def ladder_matches_server(page: Page, mm: HttpTrader, sym: str) -> bool:
    book = mm.request("book.get", {"sym": sym, "depth": 10})
    shown = page.evaluate(
        """() => {
            const side = (s) => {
                const out = [];
                for (let i = 0; ; i++) {
                    const r = document.querySelector(`[data-testid="ladder-${s}-${i}"]`);
                    if (!r || !r.dataset.price) return out;
                    out.push([r.dataset.price, Number(r.querySelectorAll(".num")[1].textContent)]);
                }
            };
            return {bids: side("bid"), asks: side("ask")};
        }"""
    )
    return bool(shown["bids"] == book["bids"] and shown["asks"] == book["asks"])


def test_reconnects_and_resyncs_after_server_restart(server: ServerProcess, new_page: PageFactory) -> None:
    mm = HttpTrader(server.url)
    mm.place("ACME", "buy", "99.90", 10)
    mm.place("ACME", "sell", "100.10", 10)
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", "99.90")
    conn = page.get_by_test_id("conn-status")

    server.stop()
    expect(conn).to_have_attribute("data-state", "reconnecting")
    expect(page.get_by_test_id("conn-label")).to_have_text("reconnecting")
    snap(page, "reconnecting")
    page.wait_for_timeout(1_500)  # a few failed attempts with backoff
    server.start()

    expect(conn).to_have_attribute("data-state", "connected", timeout=30_000)
    history = page_state(page, "s.connHistory")
    after_loss = history[history.index("reconnecting") :]
    assert "resyncing" in after_loss and after_loss[-1] == "connected", history

    # The books come back from a fresh snapshot and match the server's.
    mm2 = HttpTrader(server.url)
    wait_until(
        lambda: ladder_matches_server(page, mm2, "ACME"),
        what="ladder == book.get after restart",
    )
    # Live data flows again on the new sockets...
    mm2.place("ACME", "buy", "99.95", 6)
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", "99.95")
    # ...and so do orders.
    page.get_by_test_id("ticket-price").fill("99.80")
    page.get_by_test_id("ticket-qty").fill("2")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    expect(page.locator('[data-testid^="ladder-bid-"][data-price="99.80"]')).to_have_attribute("data-own", "2")


@pytest.fixture
def short_token_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    with server_process(tmp_path / "data", config={"session": {"token_ttl_s": 6}}) as srv:
        yield srv


def test_token_is_renewed_before_expiry(short_token_server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(short_token_server.url, init_script=RECORD_SENT)
    login_guest(page)
    page.wait_for_timeout(15_000)  # two and a half token lifetimes
    sent = page.evaluate("() => window.__sent")
    assert sent.count("auth.renew") >= 2, sent
    assert sent.count("md.renew") >= 2, sent
    history = page_state(page, "s.connHistory")
    assert "reconnecting" not in history, history
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "connected")
    # Both sockets still work: an order goes through and shows on the ladder.
    page.get_by_test_id("ticket-price").fill("99.00")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    expect(page.locator('[data-testid^="ladder-bid-"][data-price="99.00"]')).to_have_attribute("data-own", "1")


def test_no_long_tasks_over_30s_of_live_data(
    bot_server: ServerProcess, new_page: PageFactory, browser: Browser
) -> None:
    page = new_page(bot_server.url)
    login_guest(page)
    expect(page.get_by_test_id("ladder-bid-0")).to_have_attribute("data-price", ANY, timeout=30_000)
    start = page_state(page, "[...s.market.streams.values()].reduce((a, x) => a + (x.seq || 0), 0)")
    browser.start_tracing(page=page, categories=["toplevel"])
    # Walk around the screen meanwhile, as a trader would.
    for i, sym in enumerate(page_state(page, "[...s.market.symbols.keys()]") * 2):
        select_symbol(page, sym)
        page.get_by_test_id(f"chart-interval-{['1s', '5s', '1m', '5m'][i % 4]}").click()
        page.wait_for_timeout(3_000)
    tasks = main_thread_tasks(browser.stop_tracing())
    end = page_state(page, "[...s.market.streams.values()].reduce((a, x) => a + (x.seq || 0), 0)")
    longest_wall = max((wall for wall, _ in tasks), default=0.0)
    longest_cpu = max((cpu for _, cpu in tasks), default=0.0)
    print(
        f"md events in 30 s: {end - start}; {len(tasks)} tasks; longest: "
        f"{longest_cpu:.1f} ms of CPU, {longest_wall:.1f} ms of wall time"
    )
    assert end - start > 100, f"too little market data to judge smoothness: {end - start} events"
    assert len(tasks) > 1000, f"the trace holds only {len(tasks)} main-thread tasks"
    assert longest_cpu <= LONG_TASK_CPU_MS, (
        f"a task took {longest_cpu:.1f} ms of CPU time "
        f"(over {LONG_TASK_CPU_MS} ms): {sorted(tasks, key=lambda t: -t[1])[:5]}"
    )
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "connected")


def test_guest_keeps_identity_and_orders_across_server_restart(server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    username = page.get_by_test_id("user-name").inner_text()
    assert username, "no username in the top bar"
    user_id = page_state(page, "s.session.user.user_id")
    page.get_by_test_id("ticket-buy").click()
    page.get_by_test_id("ticket-price").fill("98.70")
    page.get_by_test_id("ticket-qty").fill("7")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-result")).to_contain_text("new")
    row = page.get_by_test_id("open-orders-body").locator("tr[data-order-id]")
    expect(row).to_have_count(1)
    order_id = row.first.get_attribute("data-order-id")
    gen_before = len(page_state(page, "s.connHistory"))

    server.stop()
    server.start()

    # The page notices by itself (no reload, no click) and comes back as the same guest.
    conn = page.get_by_test_id("conn-status")
    wait_until(
        lambda: "reconnecting" in page_state(page, "s.connHistory")[gen_before:],
        timeout=15,
        what="the page to notice the restart",
    )
    expect(conn).to_have_attribute("data-state", "connected", timeout=30_000)
    assert page_state(page, "s.session.user.user_id") == user_id
    expect(page.get_by_test_id("user-name")).to_have_text(username)
    expect(page.get_by_test_id("login-guest")).to_have_count(0)
    # The resting order survived in the journal and is the page's again.
    expect(page.get_by_test_id(f"order-row-{order_id}")).to_contain_text("98.70")
    expect(page.get_by_test_id("orders-count")).to_have_text("1")
    level = page.locator('[data-testid^="ladder-bid-"][data-price="98.70"]')
    expect(level).to_have_attribute("data-own", "7")
    expect(level).to_have_class("lvl bid filled mine")
    # The server sees the same user owning it.
    other = HttpTrader(server.url)
    assert other.request("book.get", {"sym": "ACME"})["bids"][0] == ["98.70", 7]
    snap(page, "identity-after-restart")
