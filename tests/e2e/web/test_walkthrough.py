"""The instructor's walkthrough (docs/operations.md), from the website alone:
create a class, start a scenario, run three rounds with a pause and a
resume in the second, and download each round's results."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess
from playwright.sync_api import Page, expect

from .conftest import PageFactory
from .helpers import ApiError, HttpTrader, admin_page, snap, wait_until

CLASS = {"ann": "ann-pass-1", "bob": "bob-pass-1"}


def take_liquidity(trader: HttpTrader) -> int:
    """Buy what the agents offer on ACME up to the band's edge, once they offer; the quantity filled."""
    acme = trader.symbols()["ACME"]
    wait_until(
        lambda: trader.request("book.get", {"sym": "ACME"})["asks"],
        timeout=30,
        what="the agents' offers",
    )
    edge = Decimal(acme["ref_price"]) * (1 + Decimal(acme["band_pct"]) / 100)
    price = str(edge.quantize(Decimal(acme["tick"]), rounding="ROUND_FLOOR"))
    return int(trader.place("ACME", "buy", price, 3, tif="IOC")["filled_qty"])


def pause_and_resume(admin: Page, student: HttpTrader) -> None:
    admin.get_by_test_id("nav-admin").click()
    state = admin.get_by_test_id("admin-clock-state")
    admin.get_by_test_id("admin-pause").click()
    expect(state).to_have_text("PAUSED")
    with pytest.raises(ApiError) as paused:
        student.place("ACME", "buy", "90.00", 1)
    assert paused.value.code == "MARKET_PAUSED"
    admin.get_by_test_id("admin-resume-market").click()
    expect(state).to_have_text("RUNNING")
    admin.get_by_test_id("nav-leaderboard").click()


def test_an_instructor_runs_a_class_from_the_website_alone(
    scenario_server: ServerProcess, new_page: PageFactory
) -> None:
    admin = admin_page(new_page, scenario_server.url)
    # 1. The class, imported from a CSV list.
    lines = "".join(f"{name},{password}\n" for name, password in CLASS.items())
    admin.get_by_test_id("admin-csv").fill("username,password\n" + lines)
    admin.get_by_test_id("admin-import-submit").click()
    for name, password in CLASS.items():
        expect(admin.get_by_test_id(f"admin-issued-{name}")).to_contain_text(password)
    # 2. A scenario.
    admin.get_by_test_id("admin-scenario-start-news_shock.toml").click()
    expect(admin.get_by_test_id("admin-scenario-playing")).to_have_attribute("data-name", "News shock")
    # 3. Three rounds; the second paused and resumed.
    admin.get_by_test_id("nav-leaderboard").click()
    bob = HttpTrader(scenario_server.url, username="bob", password=CLASS["bob"])
    volumes = {}
    for number in (1, 2, 3):
        admin.get_by_test_id("rounds-name").fill(f"Heat {number}")
        admin.get_by_test_id("rounds-start").click()
        expect(admin.get_by_test_id("rounds-state")).to_contain_text("running")
        if number == 2:
            pause_and_resume(admin, bob)
        volumes[number] = take_liquidity(bob)
        admin.get_by_test_id("rounds-end").click()
        expect(admin.get_by_test_id("rounds-state")).to_contain_text("ended")
        expect(admin.get_by_test_id("rounds-row-bob")).to_be_visible()
    assert any(volumes.values()), volumes
    # The leaderboard shows what the last round's fills cost.
    fees = bob.request("account.get")["fees"]
    expect(admin.get_by_test_id(f"leaderboard-fees-{bob.user_id}")).to_have_attribute("data-value", fees)
    snap(admin, "walkthrough-rounds")
    # 5. Each round's results, downloaded.
    for number, volume in volumes.items():
        admin.get_by_test_id("rounds-picker").select_option(str(number))
        expect(admin.get_by_test_id("rounds-csv")).to_be_enabled()
        with admin.expect_download() as download:
            admin.get_by_test_id("rounds-csv").click()
        text = Path(download.value.path()).read_text()
        rows = {r["username"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows["bob"]["round"] == f"Heat {number}"
        assert int(rows["bob"]["volume"]) == volume
        assert "ann" not in rows  # no order, no account: nothing to score
    bob.close()
