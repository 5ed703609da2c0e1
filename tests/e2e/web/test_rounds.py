"""The rounds panel on the leaderboard screen: an instructor starts a round,
a student trades, the instructor ends it (positions closed out at the
marks, market paused) and downloads the results as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess
from playwright.sync_api import expect

from .conftest import PageFactory
from .helpers import STUDENT, ApiError, HttpTrader, admin_page, snap


def test_instructor_runs_a_round_and_downloads_the_results(class_server: ServerProcess, new_page: PageFactory) -> None:
    admin = admin_page(new_page, class_server.url, "leaderboard")
    expect(admin.get_by_test_id("rounds-state")).to_have_text("no round yet")
    admin.get_by_test_id("rounds-name").fill("Heat A")
    admin.get_by_test_id("rounds-start").click()
    expect(admin.get_by_test_id("rounds-state")).to_contain_text("running")
    expect(admin.get_by_test_id("rounds-start")).to_be_disabled()

    student = HttpTrader(class_server.url, username=STUDENT[0], password=STUDENT[1])
    maker = HttpTrader(class_server.url)
    maker.place("ACME", "sell", "101.00", 10)
    student.place("ACME", "buy", "101.00", 4)
    maker.place("ACME", "buy", "100.50", 1)
    HttpTrader(class_server.url).place("ACME", "sell", "100.50", 1)  # last trade: the mark

    admin.get_by_test_id("rounds-end").click()
    expect(admin.get_by_test_id("rounds-state")).to_contain_text("ended")
    row = admin.get_by_test_id(f"rounds-row-{STUDENT[0]}")
    # Bought 4 at 101.00, closed out at the 100.50 mark.
    expect(row).to_have_attribute("data-pnl", "-2.000")
    snap(admin, "rounds-ended")
    with pytest.raises(ApiError) as paused:
        student.place("ACME", "buy", "100.00", 1)
    assert paused.value.code == "MARKET_PAUSED"

    with admin.expect_download() as download:
        admin.get_by_test_id("rounds-csv").click()
    text = Path(download.value.path()).read_text()
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows[STUDENT[0]]["pnl"] == "-2.000" and rows[STUDENT[0]]["round"] == "Heat A"
    assert rows[STUDENT[0]]["volume"] == "4"
