"""`admin.bots`: funded bot accounts with logged-in sessions, for agents run out of process."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from hftsim.testing import ServerProcess, server_process

from .conftest import login, open_wire


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with its own agents running, an admin and a trader."""
    with server_process(
        tmp_path_factory.mktemp("bots"), bots=True, admins={"root": "rootpw"}, traders={"ann": "annpw"}
    ) as srv:
        yield srv


async def test_admin_gets_funded_bot_sessions_that_trade(venue: ServerProcess) -> None:
    root = await login(venue.url, username="root", password="rootpw")
    bots = (await root.ok("admin.bots", {"names": ["far_a", "far_b"]}))["bots"]
    assert [b["username"] for b in bots] == ["far_a", "far_b"]
    bot = await open_wire(venue.url, "/ws/cmd", bots[0]["token"])
    me = await bot.ok("auth.whoami")
    assert (me["username"], me["user_id"]) == ("far_a", bots[0]["user_id"])
    account = await bot.ok("account.get")
    assert Decimal(account["cash"]) == Decimal(1_000_000_000)  # sim.agent_cash, not a user's initial cash
    # A buy a user's initial cash could not pay for goes through.
    placed = await bot.ok("order.place", {"sym": "ACME", "side": "buy", "price": "91.00", "qty": 20000})
    assert placed["order"]["status"] in ("new", "partially_filled", "filled")
    await bot.ok("order.cancel_all")
    # Asking again gives new sessions for the same accounts, and does not fund them twice.
    again = (await root.ok("admin.bots", {"names": ["far_a"]}))["bots"]
    assert again[0]["user_id"] == bots[0]["user_id"] and again[0]["token"] != bots[0]["token"]
    users = {u["username"]: u for u in (await root.ok("admin.users"))["users"]}
    assert users["far_a"]["is_bot"] and users["far_b"]["is_bot"]
    for wire in (root, bot):
        await wire.ws.close()


async def test_admin_bots_refuses_people_own_agents_and_non_admins(venue: ServerProcess) -> None:
    root = await login(venue.url, username="root", password="rootpw")
    assert await root.error("admin.bots", {"names": ["ann"]}) == "INVALID_FIELD"  # a person's account
    assert await root.error("admin.bots", {"names": ["bot_mm_1"]}) == "INVALID_FIELD"  # the server's own agent
    assert await root.error("admin.bots", {"names": []}) == "INVALID_FIELD"
    assert await root.error("admin.bots", {"names": ["a b"]}) == "INVALID_FIELD"
    assert await root.error("admin.bots", {"names": ["x", "x"]}) == "INVALID_FIELD"
    ann = await login(venue.url, username="ann", password="annpw")
    assert await ann.error("admin.bots", {"names": ["sneaky"]}) == "FORBIDDEN"
    users = {u["username"] for u in (await root.ok("admin.users"))["users"]}
    assert "sneaky" not in users and "a b" not in users
    for wire in (root, ann):
        await wire.ws.close()
