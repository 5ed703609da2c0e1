"""A damaged journal on a real server: a torn tail restarts the market, damage in the middle stops it cleanly."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, handshake, open_wire


async def trader(srv: ServerProcess) -> Wire:
    wire = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
    await wire.ok("auth.login", {})
    return wire


async def bids_after_three_orders(srv: ServerProcess) -> list[list[object]]:
    wire = await trader(srv)
    for price in ("97.00", "98.00", "99.00"):
        await wire.ok("order.place", {"sym": "ACME", "side": "buy", "qty": 1, "price": price})
    return list((await wire.ok("book.get", {"sym": "ACME"}))["bids"])


def damage(data_dir: Path, which: str) -> int:
    """Overwrite the first or last journal record with garbage while the server is down; its seq."""
    db = sqlite3.connect(data_dir / "market.db")
    with db:
        (seq,) = db.execute(f"SELECT {which}(seq) FROM journal").fetchone()
        db.execute("UPDATE journal SET command = ? WHERE seq = ?", (b"\x00\xffnot a command", seq))
    db.close()
    return int(seq)


def quarantined(data_dir: Path) -> str:
    [kept] = data_dir.glob("journal-quarantine-*.jsonl")
    return kept.read_text()


def truncate(data_dir: Path, seq: int) -> str:
    """The operator's way out, through the real CLI."""
    cli = [sys.executable, "-m", "hftsim", "journal", "truncate", "--from", str(seq), "--data-dir", str(data_dir)]
    return subprocess.run(cli, capture_output=True, text=True, check=True).stdout


async def test_a_garbage_last_record_is_cut_and_the_market_restarts(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        bids = await bids_after_three_orders(srv)
        srv.kill()
        seq = damage(tmp_path, "MAX")
        srv.start()
        book = await (await trader(srv)).ok("book.get", {"sym": "ACME"})
        assert book["bids"] == bids[1:]  # the 99.00 bid was the damaged record
        assert f'"seq":{seq}' in quarantined(tmp_path)
        assert f"journal: cut 1 damaged record(s) from command {seq} on" in srv.log()
        srv.kill()
        srv.start()  # and the next start finds a sound journal
        assert (await (await trader(srv)).ok("book.get", {"sym": "ACME"}))["bids"] == bids[1:]
    assert "Traceback" not in srv.log()


async def test_damage_in_the_middle_stops_the_start_until_the_operator_truncates(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        await bids_after_three_orders(srv)
        srv.kill()
        seq = damage(tmp_path, "MIN")
        with pytest.raises(RuntimeError, match="exited with 1") as info:
            srv.start()
        assert f"journal record {seq} is damaged" in str(info.value)
        assert f"hftsim journal truncate --from {seq}" in str(info.value)
        assert "Traceback" not in srv.log()
        assert "moved 3 record(s)" in truncate(tmp_path, seq)
        srv.start()
        assert (await (await trader(srv)).ok("book.get", {"sym": "ACME"}))["bids"] == []
