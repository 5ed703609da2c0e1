"""Snapshots through the real server: the snapshot process writes them while trading goes on; recovery replays after."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from hftsim.store.segments import SUFFIX
from hftsim.testing import ServerProcess

from .conftest import handshake, open_wire

EVERY = 1000


WRITTEN = re.compile(r"snapshot at command (\d+) written by the snapshot process")


async def snapshot_written(srv: ServerProcess) -> int:
    """The seq of the snapshot once the server heard it from the snapshot process.

    The process reports a snapshot after it has renamed the file into place and dropped the segments the
    snapshot covers; the file alone appears before that drop, and a server killed in between keeps them.
    """
    async with asyncio.timeout(60):
        while True:
            found = WRITTEN.findall(srv.log())
            if found:
                return int(found[-1])
            await asyncio.sleep(0.05)


async def test_a_snapshot_off_the_loop_then_a_crash_replays_only_what_follows(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path, config={"journal": {"snapshot_every": EVERY}}, log_level="info")
    srv.start()
    try:
        grant = handshake(srv.url, guest=True)
        wire = await open_wire(srv.url, "/ws/cmd", grant["token"])
        placed = []
        for i in range(EVERY + 100):
            answer = await wire.ok("order.place", {"sym": "ACME", "side": "buy", "price": "90.00", "qty": 1})
            placed.append(answer["order"]["order_id"])
            if i == EVERY:  # the snapshot is on its way: trading goes on meanwhile
                assert (await wire.ok("book.get", {"sym": "ACME"}))["bids"]
        snapshot_seq = await snapshot_written(srv)
        assert snapshot_seq == EVERY
        await wire.ws.close()
        srv.kill()
        segments = sorted(p.name for p in (tmp_path / "journal").glob(f"*{SUFFIX}"))
        assert all(int(name.removesuffix(SUFFIX)) > snapshot_seq for name in segments), segments
        srv.start()
        wire = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, token=grant["token"])["token"])
        orders = (await wire.ok("orders.list"))["orders"]
        assert sorted(o["order_id"] for o in orders) == placed
        await wire.ws.close()
    finally:
        srv.stop()
    recovered = re.findall(r"recovered the market at command (\d+) \((\d+) replayed", srv.log())
    assert recovered and int(recovered[0][1]) == int(recovered[0][0]) - snapshot_seq
    assert f"snapshot at command {snapshot_seq} written by the snapshot process" in srv.log()
    assert "Traceback" not in srv.log()
