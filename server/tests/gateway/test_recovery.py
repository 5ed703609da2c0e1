"""Nothing acknowledged is lost: a restart, clean or a crash, rebuilds the same market."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftsim.config import ConfigError, load
from hftsim.gateway.venue import recover
from hftsim.store.segments import SegmentJournal
from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, handshake, login, open_wire


async def login_as(srv: ServerProcess, name: str) -> Wire:
    return await login(srv.url, username=name, password=f"pw-{name}")


async def market_state(srv: ServerProcess) -> tuple[object, ...]:
    alice, bob = await login_as(srv, "alice"), await login_as(srv, "bob")
    state = (
        await alice.ok("orders.list"),
        await alice.ok("account.get"),
        await bob.ok("account.get"),
        await bob.ok("fills.list"),
        (await alice.ok("book.get", {"sym": "ACME"})),
        sum(c["v"] for c in (await alice.ok("candles.get", {"sym": "ACME", "depth": 120}))["candles"]),
    )
    await alice.ws.close()
    await bob.ws.close()
    return state


@pytest.mark.parametrize(
    ("stop", "store", "journal"),
    [("clean", "sqlite", "files"), ("crash", "sqlite", "files"), ("crash", "postgres", "files"),
     ("crash", "postgres", "database")],
)  # fmt: skip
async def test_restart_recovers_orders_positions_and_history(
    tmp_path: Path, stop: str, store: str, journal: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("new_postgres_db")() if store == "postgres" else ""
    with server_process(tmp_path, config={"store": {"url": url}, "journal": {"store": journal}}) as srv:
        srv.add_user("alice", "pw-alice")
        srv.add_user("bob", "pw-bob")
        alice, bob = await login_as(srv, "alice"), await login_as(srv, "bob")
        for i in range(5):
            await alice.ok("order.place", {"sym": "ACME", "side": "sell", "price": f"100.0{i}", "qty": 10})
        await bob.ok("order.place", {"sym": "ACME", "side": "buy", "price": "100.02", "qty": 25})
        await alice.ok("order.amend", {"order_id": 5, "qty": 4})
        before = await market_state(srv)
        assert before[1]["positions"][0]["qty"] == -25  # type: ignore[index]
        if stop == "clean":
            srv.stop()
        else:
            srv.kill()
        srv.start()
        after = await market_state(srv)
        assert after == before
        bob = await login_as(srv, "bob")
        placed = await bob.ok("order.place", {"sym": "ACME", "side": "buy", "price": "100.04", "qty": 4})
        assert placed["order"]["order_id"] == 7 and placed["order"]["status"] == "filled"
    assert "Traceback" not in srv.log()


async def test_a_token_survives_a_restart_with_its_user(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        grant = handshake(srv.url, guest=True)
        wire = await open_wire(srv.url, "/ws/cmd", grant["token"])
        placed = await wire.ok("order.place", {"sym": "BOLT", "side": "buy", "price": "40.00", "qty": 3})
        await wire.ws.close()
        srv.kill()
        srv.start()
        renewed = handshake(srv.url, token=grant["token"])
        assert renewed["user_id"] == grant["user_id"] and renewed["username"] == grant["username"]
        wire = await open_wire(srv.url, "/ws/cmd", renewed["token"])
        orders = (await wire.ok("orders.list"))["orders"]
        assert [o["order_id"] for o in orders] == [placed["order"]["order_id"]]
        await wire.ws.close()


def test_a_snapshot_saved_under_older_rules_is_refused(tmp_path: Path) -> None:
    """A snapshot saved under older rules lacks state these rules need (buying power, ...): resuming it is refused."""
    settings = load()
    journal = SegmentJournal(tmp_path)
    engine, history, fills, _ = recover(settings, journal, tmp_path)
    engine.rules = 2
    journal.save_snapshot(engine.seq, (engine, history, fills))
    journal.close()
    with pytest.raises(ConfigError, match="--reset"):
        recover(settings, SegmentJournal(tmp_path), tmp_path)
