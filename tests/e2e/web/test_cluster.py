"""The website on a cluster of two gateways over two shards, in Chromium: it works on either gateway unchanged,
and a page whose gateway dies carries on at the other."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, cluster_processes
from market_client import MarketClient
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import (
    HttpTrader,
    login_guest,
    page_state,
    place_limit,
    select_symbol,
    ticks_from,
    wait_connected,
)

SHARDS = {"a": ["ACME", "BOLT"], "b": ["CRUX", "DUNE", "EMBR"]}
"""ACME and BOLT on one shard, CRUX, DUNE and EMBR on the other."""


@contextmanager
def two_gateways(where: Path) -> Iterator[list[ServerProcess]]:
    """The two shards and two quiet gateways over them (no agents), announcing each other's address to the
    website (`cluster.gateways`)."""
    with cluster_processes(where, SHARDS, announce=True) as processes:
        yield processes.gateways


@pytest.fixture
def cluster(tmp_path: Path, built_site: Path) -> Iterator[list[ServerProcess]]:
    """Two gateways over two shards, for one test."""
    with two_gateways(tmp_path) as gateways:
        yield gateways


async def sell(url: str, sym: str, price: str, qty: int) -> str:
    """An SDK client on `url` sells; the status of its order."""
    async with await MarketClient.connect(url) as client:
        placed = await client.place_order(sym, "sell", price, qty)
        status: str = placed["order"]["status"]
        return status


def sdk_sell(url: str, sym: str, price: str, qty: int) -> str:
    """`sell` on a loop of its own thread (Playwright's synchronous API holds this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, sell(url, sym, price, qty)).result(timeout=60)


def test_the_website_on_gateway_two_trades_on_both_shards_with_a_client_of_gateway_one(
    cluster: list[ServerProcess], new_page: PageFactory
) -> None:
    one, two = cluster
    maker = HttpTrader(one.url)
    maker.place("ACME", "sell", "100.10", 5)  # shard a
    maker.place("EMBR", "sell", "29100.0", 3)  # shard b
    crux = maker.symbols()["CRUX"]

    page = new_page(two.url)
    login_guest(page)
    for sym, price in (("ACME", "100.10"), ("EMBR", "29100.0")):
        select_symbol(page, sym)
        ask = page.get_by_test_id("ladder-ask-0")
        expect(ask).to_have_attribute("data-price", price)

    # An order on shard b, placed and canceled from the page.
    select_symbol(page, "CRUX")
    bid = ticks_from(crux["ref_price"], crux["tick"], -20)
    place_limit(page, "buy", bid, 4)
    rows = page.get_by_test_id("open-orders-body").locator("tr[data-order-id]")
    expect(rows).to_have_count(1)
    assert maker.request("book.get", {"sym": "CRUX"})["bids"] == [[bid, 4]]  # gateway 1 sees it
    page.get_by_test_id(f"cancel-{rows.first.get_attribute('data-order-id')}").click()
    expect(rows).to_have_count(0)
    assert maker.request("book.get", {"sym": "CRUX"})["bids"] == []

    # A bid on shard a, filled by an SDK client of gateway 1: the page hears its fill.
    select_symbol(page, "ACME")
    place_limit(page, "buy", "99.50", 10)
    expect(rows).to_have_count(1)
    assert sdk_sell(one.url, "ACME", "99.50", 10) == "filled"
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("fills-count")).to_have_text("1")
    expect(page.get_by_test_id("position-qty-ACME")).to_have_text("10")
    expect(page.get_by_test_id("watch-last-ACME")).to_have_text("99.50")


def test_the_page_moves_to_the_other_gateway_when_its_own_dies_and_resyncs(
    cluster: list[ServerProcess], new_page: PageFactory
) -> None:
    one, two = cluster
    page = new_page(one.url)
    login_guest(page)
    user = page_state(page, "s.session.user.username")
    select_symbol(page, "EMBR")
    place_limit(page, "buy", "28900.0", 2)
    rows = page.get_by_test_id("open-orders-body").locator("tr[data-order-id]")
    expect(rows).to_have_count(1)

    one.kill()
    page.wait_for_url(f"{two.url}/", timeout=30_000)  # the session left in the fragment, then dropped
    wait_connected(page, timeout=30_000)
    assert page_state(page, "s.session.user.username") == user  # the same session, not a new guest
    expect(rows).to_have_count(1)  # the orders reloaded from the new gateway
    select_symbol(page, "EMBR")
    bid = page.locator('[data-testid^="ladder-bid-"][data-price="28900.0"]')
    expect(bid).to_have_attribute("data-own", "2")  # the book from a snapshot of the new gateway

    assert sdk_sell(two.url, "EMBR", "28900.0", 2) == "filled"
    expect(rows).to_have_count(0)
    expect(page.get_by_test_id("fills-count")).to_have_text("1")
    expect(page.get_by_test_id("position-qty-EMBR")).to_have_text("2")
