"""Fail closed through the real server: PostgreSQL holding the journal goes away, writes are refused, reads go on,
and it heals; with the journal in files, the market does not even notice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from hftsim.testing import postgres_instance, server_process

from .conftest import Wire, login

ORDER = {"sym": "ACME", "side": "buy", "qty": 1}


PATIENCE_S = 30.0


async def place_when_the_store_is_back(wire: Wire) -> dict[str, Any]:
    """Retry a refused order until the venue's probe finds the store writable; each refusal must be the store's."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        msg = await wire.request("order.place", {**ORDER, "price": "90.02"})
        if msg["ok"]:
            return dict(msg["payload"])
        assert msg["error"]["code"] == "STORE_UNAVAILABLE", msg
        await asyncio.sleep(0.05)
    raise AssertionError(f"orders were still refused {PATIENCE_S}s after PostgreSQL came back")


async def test_a_store_outage_refuses_writes_keeps_reads_and_heals(tmp_path: Path) -> None:
    with (
        postgres_instance() as pg,
        server_process(tmp_path, config={"store": {"url": pg.url}, "journal": {"store": "database"}}) as srv,
    ):
        srv.add_user("alice", "pw-alice")
        alice = await login(srv.url, username="alice", password="pw-alice")
        first = (await alice.ok("order.place", {**ORDER, "price": "90.00"}))["order"]

        pg.stop()
        assert await alice.error("order.place", {**ORDER, "price": "90.01"}) == "STORE_UNAVAILABLE"
        assert await alice.error("order.cancel", {"order_id": first["order_id"]}) == "STORE_UNAVAILABLE"
        assert [o["order_id"] for o in (await alice.ok("orders.list"))["orders"]] == [first["order_id"]]
        book = await alice.ok("book.get", {"sym": "ACME"})
        assert book["bids"] == [["90.00", 1]], book

        pg.start()
        second = (await place_when_the_store_is_back(alice))["order"]
        assert second["order_id"] == first["order_id"] + 1, "a refused order must not have taken an id"
        await alice.ws.close()

        # What the journal holds is exactly what was acknowledged.
        srv.kill()
        srv.start()
        alice = await login(srv.url, username="alice", password="pw-alice")
        orders = (await alice.ok("orders.list"))["orders"]
        assert sorted(o["order_id"] for o in orders) == [first["order_id"], second["order_id"]]
        await alice.ws.close()
    assert "Traceback" not in srv.log()


async def test_with_the_journal_in_files_a_postgresql_outage_does_not_stop_trading(tmp_path: Path) -> None:
    """Users and sessions in PostgreSQL, the journal in the data directory: orders never touch the database."""
    with postgres_instance() as pg, server_process(tmp_path, config={"store": {"url": pg.url}}) as srv:
        srv.add_user("alice", "pw-alice")
        alice = await login(srv.url, username="alice", password="pw-alice")
        first = (await alice.ok("order.place", {**ORDER, "price": "90.00"}))["order"]
        pg.stop()
        second = (await alice.ok("order.place", {**ORDER, "price": "90.01"}))["order"]
        pg.start()
        await alice.ws.close()
        srv.kill()
        srv.start()
        alice = await login(srv.url, username="alice", password="pw-alice")
        orders = (await alice.ok("orders.list"))["orders"]
        assert sorted(o["order_id"] for o in orders) == [first["order_id"], second["order_id"]]
        await alice.ws.close()
    assert "Traceback" not in srv.log()
