"""The leaderboard screen: users ranked by PnL exactly as `leaderboard.get`
answers, the page's own user highlighted, refreshed only while shown, and
the simulated agents shown as a reference group unless turned off."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from hftsim.testing import ServerProcess
from playwright.sync_api import Page, expect

from .conftest import PageFactory
from .helpers import (
    ARTIFACTS,
    HttpTrader,
    login_guest,
    page_state,
    place_limit,
    select_symbol,
    wait_until,
)

RECORD_LEADERBOARD_REQUESTS = """
(() => {
  window.__board = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const env = JSON.parse(data);
      if (env.op === "leaderboard.get") window.__board.push(env.payload);
    } catch (e) {}
    return send.call(this, data);
  };
})();
"""

SHOWN_ROWS = """() => [...document.querySelectorAll('[data-testid="leaderboard-body"] tr[data-user-id]')].map((r) => ({
    rank: Number(r.dataset.rank),
    user_id: Number(r.dataset.userId),
    username: r.querySelector('[data-testid^="leaderboard-name-"]').textContent,
    is_bot: r.dataset.bot === "true",
    me: r.dataset.me === "true",
    shown_rank: r.querySelector('[data-testid^="leaderboard-rank-"]').textContent,
    pnl: r.querySelector('[data-testid^="leaderboard-pnl-"]').textContent,
    realized_pnl: r.querySelector('[data-testid^="leaderboard-realized-"]').textContent,
    unrealized_pnl: r.querySelector('[data-testid^="leaderboard-unrealized-"]').textContent,
}))"""

FIELDS = (
    "rank",
    "user_id",
    "username",
    "is_bot",
    "pnl",
    "realized_pnl",
    "unrealized_pnl",
)


def leaders(trader: HttpTrader, include_bots: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = trader.request("leaderboard.get", {"limit": 100, "include_bots": include_bots})[
        "leaders"
    ]
    return rows


def shown(page: Page) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.evaluate(SHOWN_ROWS)
    for r in rows:  # money is shown grouped ("1,234.50"); the digits are the server's own
        for k in ("pnl", "realized_pnl", "unrealized_pnl"):
            r[k] = r[k].replace(",", "")
    return rows


def same_as_server(page: Page, expected: list[dict[str, Any]]) -> bool:
    rows = shown(page)
    return [{k: r[k] for k in FIELDS} for r in rows] == [{k: e[k] for k in FIELDS} for e in expected] and all(
        r["shown_rank"] == str(r["rank"]) for r in rows
    )


def order(page: Page, side: str, price: str, qty: int) -> None:
    place_limit(page, side, price, qty)
    expect(page.get_by_test_id("ticket-result")).to_contain_text(f"filled {qty}")


def board_requests(page: Page) -> int:
    n: int = page.evaluate("() => window.__board.length")
    return n


def test_leaderboard_ranks_two_traders_highlights_me_and_refreshes(
    server: ServerProcess, new_page: PageFactory
) -> None:
    page = new_page(server.url, width=1280, height=800)
    login_guest(page)
    select_symbol(page, "ACME")
    me = page_state(page, "s.session.user")
    other = HttpTrader(server.url)

    # The page buys 10 @ 100.00 from the other trader, then sells 5 back @ 101.00.
    other.place("ACME", "sell", "100.00", 10)
    order(page, "buy", "100.00", 10)
    other.place("ACME", "buy", "101.00", 5)
    order(page, "sell", "101.00", 5)
    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("5")

    expected = leaders(other)
    # Page user: +5 realized, 5 left marked at 101 (+5); the other trader the mirror image.
    assert [
        (
            e["user_id"],
            Decimal(e["pnl"]),
            Decimal(e["realized_pnl"]),
            Decimal(e["unrealized_pnl"]),
        )
        for e in expected
    ] == [
        (me["user_id"], Decimal(10), Decimal(5), Decimal(5)),
        (other.user_id, Decimal(-10), Decimal(-5), Decimal(-5)),
    ], expected

    page.get_by_test_id("nav-leaderboard").click()
    expect(page.get_by_test_id("leaderboard-screen")).to_be_visible()
    expect(page.get_by_test_id("nav-leaderboard")).to_have_class("nav on")
    expect(page.get_by_test_id("trading-screen")).to_have_count(0)
    wait_until(
        lambda: same_as_server(page, expected),
        timeout=5,
        what="leaderboard == leaderboard.get",
    )
    rows = shown(page)
    assert [r["username"] for r in rows] == [me["username"], other.username]
    assert [r["me"] for r in rows] == [True, False]
    mine = page.get_by_test_id(f"leaderboard-row-{me['user_id']}")
    expect(mine).to_have_class("me top top-1")
    expect(mine).to_contain_text("you")
    expect(page.get_by_test_id(f"leaderboard-row-{other.user_id}")).to_have_class("top top-2")
    expect(page.get_by_test_id(f"leaderboard-pnl-{me['user_id']}")).to_have_class("num pos pnl")
    expect(page.get_by_test_id(f"leaderboard-pnl-{other.user_id}")).to_have_class("num neg pnl")
    expect(page.get_by_test_id("leaderboard-me")).to_have_attribute("data-rank", "1")
    expect(page.get_by_test_id("leaderboard-count")).to_have_text("2")

    # The screen fits 1280x800 in the dark theme.
    box = page.get_by_test_id("leaderboard").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1280.5 and box["y"] + box["height"] <= 800.5, box
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    bg = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=leaderboard]')).backgroundColor")
    assert bg == "rgb(16, 21, 28)", bg
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leaderboard.png"))

    # A third trader deals with the second: the open screen catches up on its own.
    third = HttpTrader(server.url)
    other.place("ACME", "buy", "102.00", 2)
    third.place("ACME", "sell", "102.00", 2)
    expected = leaders(other)
    assert [e["user_id"] for e in expected] == [
        me["user_id"],
        third.user_id,
        other.user_id,
    ], expected
    assert expected[0]["pnl"] != rows[0]["pnl"], "the marks should have moved"
    start = time.monotonic()
    wait_until(
        lambda: same_as_server(page, expected),
        timeout=8,
        what="leaderboard refreshed by itself",
    )
    print(f"leaderboard caught up after {time.monotonic() - start:.1f}s")
    expect(page.get_by_test_id(f"leaderboard-row-{third.user_id}")).to_have_attribute("data-me", "false")

    # And back to trading: the trade screen is intact.
    page.get_by_test_id("nav-trade").click()
    expect(page.get_by_test_id("trading-screen")).to_be_visible()
    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("5")


def test_leaderboard_polls_only_while_shown_and_includes_agents_on_request(
    bot_server: ServerProcess, new_page: PageFactory
) -> None:
    page = new_page(bot_server.url, init_script=RECORD_LEADERBOARD_REQUESTS)
    login_guest(page)
    page.evaluate("() => { window.hftsim.leaderboard.pollMs = 250; }")
    observer = HttpTrader(bot_server.url)
    wait_until(
        lambda: any(r["is_bot"] for r in leaders(observer, True)),
        timeout=15,
        what="agents to trade",
    )

    # Not shown: no requests at all.
    page.wait_for_timeout(800)
    assert board_requests(page) == 0

    page.get_by_test_id("nav-leaderboard").click()
    expect(page.get_by_test_id("leaderboard-updated")).not_to_have_attribute("data-ts", "0")
    # The agents are a reference group by default, so a lone guest still sees a field.
    assert page.evaluate("() => window.__board[0]") == {
        "limit": 100,
        "include_bots": True,
    }
    bot_rows = page.locator('[data-testid="leaderboard-body"] tr[data-bot="true"]')
    expect(bot_rows.first).to_be_visible()
    expect(page.get_by_test_id("leaderboard-agents-head")).to_be_visible()
    expect(page.get_by_test_id("leaderboard-include-bots")).to_be_checked()
    expect(page.get_by_test_id("leaderboard-me")).to_have_text("You: not ranked")
    # Shown: it polls.
    n = board_requests(page)
    wait_until(lambda: board_requests(page) >= n + 3, timeout=3, what="polling while shown")

    bots = {r["username"] for r in leaders(observer, True) if r["is_bot"]}
    rows = shown(page)
    assert rows and all(r["is_bot"] and r["username"] in bots for r in rows), rows
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    pnls = [Decimal(r["pnl"]) for r in rows]
    assert pnls == sorted(pnls, reverse=True), pnls
    page.screenshot(path=str(ARTIFACTS / "leaderboard-agents.png"))

    # Another screen: polling stops at once.
    page.get_by_test_id("nav-trade").click()
    n = board_requests(page)
    page.wait_for_timeout(1_000)
    assert board_requests(page) == n
    assert page_state(page, "s.leaderboard.polling") is False

    # Back: an immediate refresh, then polling again...
    page.get_by_test_id("nav-leaderboard").click()
    wait_until(lambda: board_requests(page) >= n + 2, timeout=3, what="polling resumed")
    # ...until the browser tab is hidden.
    page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    n = board_requests(page)
    page.wait_for_timeout(1_000)
    assert board_requests(page) == n
    page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    wait_until(
        lambda: board_requests(page) >= n + 2,
        timeout=3,
        what="polling after the tab is visible again",
    )

    # Unticking leaves the agents out, and the choice is remembered.
    page.get_by_test_id("leaderboard-include-bots").uncheck()
    expect(bot_rows).to_have_count(0)
    expect(page.get_by_test_id("leaderboard-agents-head")).to_have_count(0)
    expect(page.get_by_test_id("leaderboard-body")).to_contain_text("Nobody has traded yet")
    assert page.evaluate("() => window.__board.at(-1)") == {
        "limit": 100,
        "include_bots": False,
    }
    assert page.evaluate("() => localStorage.getItem('hftsim.leaderboard.bots')") == "0"
