"""A journal that cannot be written: nothing is acknowledged, reads go on, the venue resumes by itself.

The failure is real: the server process's file-size limit (RLIMIT_FSIZE,
set from outside with prlimit) is lowered to one byte, so every write the
journal makes fails with EFBIG exactly as on a full disk; raising it again
is the operator freeing space.
"""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path
from typing import Any

from hftsim.testing import server_process

from .conftest import Wire, login

ORDER = {"sym": "ACME", "side": "buy", "qty": 1, "price": "99.00"}


async def place_until_ok(wire: Wire) -> dict[str, Any]:
    """The store probe runs every half second: retry, as a client told STORE_UNAVAILABLE does."""
    async with asyncio.timeout(30):
        while True:
            answer = await wire.request("order.place", ORDER)
            if answer["ok"]:
                return dict(answer["payload"])
            assert answer["error"]["code"] == "STORE_UNAVAILABLE", answer
            await asyncio.sleep(0.1)


async def test_a_failing_store_refuses_changes_keeps_reads_and_resumes(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        trader = await login(srv.url)
        first = (await trader.ok("order.place", ORDER))["order"]
        unlimited = resource.prlimit(srv.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(srv.pid, resource.RLIMIT_FSIZE, (1, unlimited[1]))
        try:
            for _ in range(3):
                assert await trader.error("order.place", ORDER) == "STORE_UNAVAILABLE"
            assert await trader.error("order.cancel", {"order_id": first["order_id"]}) == "STORE_UNAVAILABLE"
            orders = (await trader.ok("orders.list"))["orders"]
            assert [o["order_id"] for o in orders] == [first["order_id"]]
            assert (await trader.ok("book.get", {"sym": "ACME"}))["bids"]
        finally:
            resource.prlimit(srv.pid, resource.RLIMIT_FSIZE, unlimited)
        second = (await place_until_ok(trader))["order"]
        assert second["order_id"] == first["order_id"] + 1  # the refused commands used no sequence number
        srv.kill()
        srv.start()
        trader = await login(srv.url)
        book = await trader.ok("book.get", {"sym": "ACME"})
        assert book["bids"] == [["99.00", 2]]
