"""The user's place in each queue and what their fills cost, as the website shows them.

Queue position: the quantity ahead of each resting order at its price level,
in the open orders and on the ladder, kept current as the level changes.
Fees: each fill's fee in the fills table, each symbol's in its position,
their total in the positions panel and the account summary, all as the
server counts them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hftsim.config import DEFAULT_CONFIG
from hftsim.testing import ServerProcess, server_process
from playwright.sync_api import Page, expect

from .conftest import PageFactory
from .helpers import HttpTrader, login_guest, place_limit, select_symbol, ticks_from


def place_by_ticket(page: Page, side: str, price: str, qty: int) -> int:
    """A GTC limit order entered on the ticket; its order id once it shows in the open orders."""
    place_limit(page, side, price, qty)
    row = page.get_by_test_id("open-orders-body").locator(f'tr[data-price="{price}"]')
    expect(row).to_have_count(1)
    return int(row.get_attribute("data-order-id") or 0)


def test_the_quantity_ahead_follows_the_queue_live(server: ServerProcess, new_page: PageFactory) -> None:
    first = HttpTrader(server.url)
    acme = first.symbols()["ACME"]
    price = ticks_from(acme["ref_price"], acme["tick"], -5)
    ahead = first.place("ACME", "buy", price, 7)

    page = new_page(server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    order_id = place_by_ticket(page, "buy", price, 3)
    cell = page.get_by_test_id(f"queue-ahead-{order_id}")
    level = page.locator(f'[data-testid^="ladder-bid-"][data-price="{price}"]')
    expect(cell).to_have_text("7")
    expect(level).to_have_attribute("data-ahead", "7")
    expect(level.locator(".own")).to_have_text("3 (7)")

    # An order joining behind does not move it; one ahead going away does, live.
    first.place("ACME", "buy", price, 11)
    expect(level).to_have_attribute("data-own", "3")
    first.request("order.cancel", {"order_id": ahead["order_id"]})
    expect(cell).to_have_text("0")
    expect(level).to_have_attribute("data-ahead", "0")
    expect(level.locator(".own")).to_have_text("3 (0)")
    first.close()


@pytest.fixture
def fee_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """A quiet market where ACME charges takers 10 bps and pays makers a 2 bps rebate."""
    symbols: list[dict[str, Any]] = tomllib.loads(DEFAULT_CONFIG.read_text())["symbols"]
    for s in symbols:
        if s["sym"] == "ACME":
            s.update(taker_fee_bps="10", maker_fee_bps="-2")
    with server_process(tmp_path / "data", config={"symbols": symbols}) as srv:
        yield srv


def test_a_fill_shows_its_fee_and_the_account_the_total(fee_server: ServerProcess, new_page: PageFactory) -> None:
    page = new_page(fee_server.url)
    login_guest(page)
    select_symbol(page, "ACME")
    taker = HttpTrader(fee_server.url)
    price = taker.symbols()["ACME"]["ref_price"]
    place_by_ticket(page, "buy", price, 50)
    taker.place("ACME", "sell", price, 50, tif="IOC")

    # The page's user rested, so it earned the maker rebate: 2 bps of the notional.
    rebate = -(Decimal(price) * 50 * Decimal("0.0002"))
    page.get_by_test_id("tab-fills").click()
    row = page.get_by_test_id("fill-row")
    expect(row).to_have_count(1)
    shown = row.get_by_test_id("fill-fee").inner_text()
    assert Decimal(shown.replace(",", "")) == rebate
    expect(page.get_by_test_id("positions-fees")).to_have_text(shown)
    expect(page.get_by_test_id("position-fees-ACME")).to_have_text(shown)
    expect(page.get_by_test_id("acct-fees")).to_have_text(shown)

    # The taker paid 10 bps; the server's account and leaderboard say the same.
    paid = Decimal(price) * 50 * Decimal("0.001")
    assert Decimal(taker.request("account.get")["fees"]) == paid
    leaders = {r["user_id"]: r for r in taker.request("leaderboard.get", {"limit": 10})["leaders"]}
    assert Decimal(leaders[taker.user_id]["fees"]) == paid
    taker.close()
