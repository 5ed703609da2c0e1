"""Helpers for the website tests: a second trader over HTTP, logins, the
ticket, and page waits.

The other trader speaks only the public protocol (POST /auth/handshake,
POST /api/request), as docs/protocol.md describes it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

ADMIN = ("prof", "prof-pass-1")
"""The instructor's account on the servers of the admin screens' tests (conftest.class_server)."""
STUDENT = ("stu", "stu-pass-1")
"""A student's (trader) account on the same servers."""

_ids = itertools.count(1)


class ApiError(RuntimeError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class HttpTrader:
    """A guest (or named user) trading over `POST /api/request`."""

    def __init__(self, base_url: str, *, username: str | None = None, password: str | None = None) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)
        body: dict[str, Any] = {"username": username, "password": password} if username else {"guest": True}
        resp = self.http.post("/auth/handshake", json=body)
        resp.raise_for_status()
        data = resp.json()
        self.token: str = data["token"]
        self.user_id: int = data["user_id"]
        self.username: str = data["username"]

    def request(self, op: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        env = {
            "type": "request",
            "ver": 1,
            "msg_id": f"t-{next(_ids)}",
            "ts": int(time.time() * 1000),
            "op": op,
            "payload": payload or {},
        }
        resp = self.http.post("/api/request", json=env, headers={"Authorization": f"Bearer {self.token}"})
        data = resp.json()
        if not data.get("ok"):
            err = data.get("error") or {}
            raise ApiError(err.get("code", "?"), err.get("message", ""))
        result: dict[str, Any] = data["payload"]
        return result

    def symbols(self) -> dict[str, dict[str, Any]]:
        return {s["sym"]: s for s in self.request("symbols.list")["symbols"]}

    def place(self, sym: str, side: str, price: str | None, qty: int, **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {"sym": sym, "side": side, "qty": qty, **extra}
        if price is None:
            payload["type"] = "market"
        else:
            payload["price"] = price
        order: dict[str, Any] = self.request("order.place", payload)["order"]
        return order

    def close(self) -> None:
        self.http.close()


def ticks_from(price: str, tick: str, n: int) -> str:
    """`price` moved by `n` ticks, formatted with the tick's decimals (exact)."""
    value = Decimal(price) + Decimal(tick) * n
    return str(value.quantize(Decimal(tick)))


def wait_until(
    predicate: Any,
    timeout: float = 10.0,
    interval: float = 0.1,
    what: str = "condition",
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def login_guest(page: Page) -> None:
    page.get_by_test_id("login-guest").click()
    wait_connected(page)


def login_user(page: Page, username: str, password: str) -> None:
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    wait_connected(page)


def admin_page(new_page: Callable[..., Page], url: str, screen: str = "admin") -> Page:
    """A page logged in as the instructor (ADMIN), showing `screen` ("admin", "leaderboard" or "trade")."""
    page = new_page(url)
    login_user(page, *ADMIN)
    page.get_by_test_id(f"nav-{screen}").click()
    return page


def place_limit(page: Page, side: str, price: str, qty: int) -> None:
    """Enter a limit order (GTC) on the ticket and send it."""
    page.get_by_test_id(f"ticket-{side}").click()
    page.get_by_test_id("ticket-type-limit").click()
    page.get_by_test_id("ticket-price").fill(price)
    page.get_by_test_id("ticket-qty").fill(str(qty))
    page.get_by_test_id("ticket-submit").click()


def wait_connected(page: Page, timeout: float = 20_000) -> None:
    expect(page.get_by_test_id("trading-screen")).to_be_visible(timeout=timeout)
    expect(page.get_by_test_id("conn-status")).to_have_attribute("data-state", "connected", timeout=timeout)


def select_symbol(page: Page, sym: str) -> None:
    page.get_by_test_id(f"watch-row-{sym}").click()
    expect(page.get_by_test_id("ladder")).to_have_attribute("data-sym", sym)
    expect(page.get_by_test_id("ticket-sym")).to_have_text(sym)


def page_state(page: Page, expr: str) -> Any:
    """Evaluates `expr` against the page's read-only state hook `window.hftsim`."""
    return page.evaluate(f"() => {{ const s = window.hftsim; return {expr}; }}")


def snap(page: Page, name: str) -> None:
    """Saves a screenshot of the page as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
