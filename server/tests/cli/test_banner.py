"""The banner names what a newcomer needs: where to go, the market, the agents, the data, guests, admins, docs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hftsim.banner import Listening, banner, hide_password
from hftsim.config import load
from hftsim.gateway.venue import Venue


@pytest.fixture
def venue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Venue]:
    monkeypatch.setenv("HFTSIM_SESSION__ALLOW_GUESTS", "false")
    built = Venue.build(load(), tmp_path)
    yield built
    assert built.journal is not None
    built.journal.close()


def test_the_banner_lists_what_a_newcomer_needs(venue: Venue, tmp_path: Path) -> None:
    text = banner(venue, Listening("0.0.0.0", 8123, tmp_path, seed=5), "9.9.9", reset=True)
    first = text.splitlines()[0]
    assert first == "HFT Simulator 9.9.9 is ready: open http://127.0.0.1:8123  (listening on every interface)"
    assert "ACME (tick 0.01) ref 100.00" in text
    assert "DUNE (tick 0.001, lot 100) ref 1.250" in text
    assert "agents    off" in text
    assert "market    new (--reset)" in text
    assert f"SQLite in {tmp_path.resolve()}" in text
    assert "guests    off" in text
    assert f"hftsim users add NAME --role admin --data-dir {tmp_path}" in text
    assert "docs/getting-started/" in text
    assert "http://127.0.0.1:8123/api/docs" in text


def test_a_recovered_market_says_where_it_resumed(venue: Venue, tmp_path: Path) -> None:
    venue.recovered_at = 42
    text = banner(venue, Listening("127.0.0.1", 8000, tmp_path, seed=1), "1", reset=False)
    assert "as they were at command 42" in text
    assert text.splitlines()[0].endswith("open http://127.0.0.1:8000")


def test_database_passwords_stay_off_the_screen() -> None:
    assert hide_password("postgresql://hftsim:s3cret@db:5432/x") == "postgresql://hftsim:***@db:5432/x"
    assert hide_password("postgresql://hftsim@db/x") == "postgresql://hftsim@db/x"
