"""A damaged journal through the real server: a torn tail heals itself, a damaged middle stops the start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from store.tamper import SegmentTamper

from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, login


async def trader(srv: ServerProcess) -> Wire:
    wire = await login(srv.url, username="alice", password="pw-alice")
    return wire


async def place_orders(srv: ServerProcess, count: int) -> list[int]:
    """`count` resting orders; then the server is killed so that they live only in the journal."""
    srv.add_user("alice", "pw-alice")
    alice = await trader(srv)
    ids = []
    for i in range(count):
        placed = await alice.ok("order.place", {"sym": "ACME", "side": "buy", "price": f"90.0{i}", "qty": 1})
        ids.append(placed["order"]["order_id"])
    await alice.ws.close()
    srv.kill()
    return ids


async def open_order_ids(srv: ServerProcess) -> list[int]:
    alice = await trader(srv)
    orders = (await alice.ok("orders.list"))["orders"]
    await alice.ws.close()
    return sorted(o["order_id"] for o in orders)


def journal_seqs(data_dir: Path) -> list[int]:
    return SegmentTamper(data_dir).seqs()


def quarantined(data_dir: Path, seq: int) -> list[str]:
    """The lines of the one quarantine file whose cut starts at `seq`."""
    (path,) = data_dir.glob(f"journal-quarantine-{seq}-*.jsonl")
    return path.read_text().splitlines()


def truncate(data_dir: Path, seq: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hftsim", "journal", "truncate", "--from", str(seq), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("damage", ["flipped", "torn", "garbage"])
async def test_a_torn_tail_is_cut_and_the_server_starts(tmp_path: Path, damage: str) -> None:
    with server_process(tmp_path) as srv:
        ids = await place_orders(srv, 4)
        last = journal_seqs(tmp_path)[-1]
        tamper = SegmentTamper(tmp_path)
        if damage == "flipped":
            tamper.flip_a_byte(last)
            survivors = ids[:-1]
        elif damage == "torn":
            tamper.tear(last)
            survivors = ids[:-1]
        else:
            tamper.append(last + 1, 0, b"\xde\xad", 1)
            survivors = ids
        srv.start()
        assert await open_order_ids(srv) == survivors
        cut_from = last if damage != "garbage" else last + 1
        assert len(quarantined(tmp_path, cut_from)) == 1
        warnings = [line for line in srv.log().splitlines() if "damaged record(s)" in line]
        assert len(warnings) == 1 and f"from command {cut_from}" in warnings[0]
        assert f"{tmp_path}/journal-quarantine-{cut_from}-" in warnings[0]
        # The venue keeps trading on from the last good command.
        alice = await trader(srv)
        placed = await alice.ok("order.place", {"sym": "ACME", "side": "buy", "price": "89.00", "qty": 1})
        assert placed["order"]["order_id"] == survivors[-1] + 1
        await alice.ws.close()
    assert "Traceback" not in srv.log()


async def test_a_damaged_middle_stops_serve_until_truncated(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        ids = await place_orders(srv, 4)
        seqs = journal_seqs(tmp_path)
        bad = seqs[-3]
        tamper = SegmentTamper(tmp_path)
        tamper.flip_a_byte(bad)
        damaged = tamper.stored()
        with pytest.raises(RuntimeError, match="exited with 1") as caught:
            srv.start()
        message = str(caught.value)
        way_out = f"hftsim journal truncate --from {bad} --data-dir {tmp_path}"
        assert f"damaged at command {bad}" in message and way_out in message
        assert "Traceback" not in message
        assert tamper.stored() == damaged, "a failed start must not change the journal"
        truncated = truncate(tmp_path, bad)
        assert truncated.returncode == 0, truncated.stderr
        srv.start()
        assert await open_order_ids(srv) == ids[:-3]
        assert len(quarantined(tmp_path, bad)) == 3
