"""Connecting, the low-level steps, context managers, closing, credentials."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process

from market_client import (
    AuthenticationError,
    ClientClosed,
    MarketClient,
    MarketConnectionError,
    RequestSession,
)


async def test_connect_does_handshake_cmd_login_and_md_in_one_call(server: ServerProcess) -> None:
    states: list[str] = []
    client = await MarketClient.connect(server.url, on_state_change=states.append)
    try:
        assert str(client.state) == "connected"
        assert client.user is not None and client.user["username"].startswith("guest")
        assert client.token
        symbols = await client.get_symbols()
        for sym in (s["sym"] for s in symbols):  # every book is there, from MD, at once
            assert client.book_snapshot(sym)["seq"] == 0
    finally:
        await client.aclose()
    assert states == ["connecting", "connected", "closed"]
    assert client.state == "closed"


async def test_connect_without_md_has_no_local_books(server: ServerProcess) -> None:
    async with await MarketClient.connect(server.url, connect_md=False) as client:
        assert (await client.get_book("ACME"))["sym"] == "ACME"
        with pytest.raises(Exception, match="no market data for 'ACME'"):
            client.book_snapshot("ACME")


async def test_async_with_on_an_unconnected_client_connects_and_closes(server: ServerProcess) -> None:
    client = MarketClient(server.url)
    assert str(client.state) == "disconnected"
    async with client as entered:
        assert entered is client and client.state == "connected"
        assert (await client.send("ping"))["ts"] > 0
    assert str(client.state) == "closed"
    with pytest.raises(ClientClosed):
        await client.send("ping")


async def test_aclose_leaves_no_task_behind_and_is_idempotent(server: ServerProcess) -> None:
    client = await MarketClient.connect(server.url)
    await client.configure_candles("ACME")
    await client.aclose()
    await client.aclose()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_low_level_steps_by_hand(server: ServerProcess) -> None:
    client = MarketClient(server.url)
    try:
        answer = await client.handshake()
        assert answer["status"] == "ok" and answer["user_id"] is None and client.token == answer["token"]
        cmd = await client.open_cmd()
        assert isinstance(cmd, RequestSession)
        who = (await cmd.request("auth.whoami")).payload
        assert who["user_id"] is None
        user = await client.login()
        assert user["user_id"] is not None
        md = await client.open_md()
        assert isinstance(md, RequestSession)
        assert client.best_bid_ask("ACME") == {
            "sym": "ACME",
            "seq": 0,
            "bid": None,
            "bid_qty": None,
            "ask": None,
            "ask_qty": None,
        }
        # HTTP is there too, on the same session.
        assert (await client.api_request("auth.whoami"))["user_id"] == user["user_id"]
        symbols = await client.api_request("symbols.list")
        assert [s["sym"] for s in symbols["symbols"]] == [s["sym"] for s in await client.get_symbols()]
    finally:
        await client.aclose()


async def test_handshake_can_log_in_and_renew(server: ServerProcess) -> None:
    client = MarketClient(server.url)
    try:
        guest = await client.handshake(guest=True)
        assert guest["user_id"] is not None
        renewed = await client.handshake(token=guest["token"])
        assert renewed["token"] != guest["token"] and renewed["user_id"] == guest["user_id"]
        with pytest.raises(AuthenticationError) as info:
            await client.handshake(token="not-a-token")
        assert info.value.code == "INVALID_TOKEN"
    finally:
        await client.aclose()


async def test_username_and_password(server: ServerProcess) -> None:
    await asyncio.to_thread(server.add_user, "alice", "s3cret-pw")
    async with await MarketClient.connect(server.url, username="alice", password="s3cret-pw") as client:
        assert client.user is not None and client.user["username"] == "alice"
    with pytest.raises(AuthenticationError) as info:
        await MarketClient.connect(server.url, username="alice", password="wrong")
    assert info.value.code == "INVALID_CREDENTIALS"


async def test_unreachable_server_raises_a_connection_error() -> None:
    with pytest.raises(MarketConnectionError):
        await MarketClient.connect("http://127.0.0.1:9", connect_timeout=2)


async def test_guests_turned_off(tmp_path: Path) -> None:
    with server_process(tmp_path / "s", config={"session": {"allow_guests": False}}) as srv:
        with pytest.raises(AuthenticationError) as info:
            await MarketClient.connect(srv.url)
        assert info.value.code == "GUEST_DISABLED"


async def test_low_level_steps_then_async_with_starts_the_rest(server: ServerProcess) -> None:
    client = MarketClient(server.url)
    guest = await client.handshake(guest=True)
    cmd = await client.open_cmd()
    async with client:
        assert client.state == "connected"
        assert client.user is not None and client.user["user_id"] == guest["user_id"]  # no second login
        assert (await client.send("auth.whoami"))["user_id"] == guest["user_id"]
        assert not cmd.closed  # the socket opened by hand is the one in use
        assert client.book_snapshot("ACME")["sym"] == "ACME"
    assert cmd.closed


async def test_state_hook_and_api_request_errors(server: ServerProcess) -> None:
    from market_client import OrderRejected

    seen: list[str] = []

    async def hook(state: str) -> None:
        seen.append(state)

    client = await MarketClient.connect(server.url)
    try:
        client.set_state_hook(hook)
        with pytest.raises(OrderRejected) as info:
            await client.api_request("order.place", {"sym": "ACME", "side": "buy", "price": "1.001", "qty": 1})
        assert info.value.code == "PRICE_NOT_ON_TICK"
        with pytest.raises(MarketConnectionError, match="call handshake"):
            await MarketClient(server.url).api_request("ping")  # no token yet: refused before any request
    finally:
        await client.aclose()
    assert seen == ["closed"]


async def test_server_info_says_whether_guests_may_log_in(tmp_path: Path) -> None:
    with server_process(tmp_path / "open") as open_venue:
        async with await MarketClient.connect(open_venue.url, connect_md=False) as client:
            assert await client.server_info() == {"name": "HFT Simulator", "guests": True, "gateways": []}
    with server_process(tmp_path / "closed", config={"session": {"allow_guests": False}}) as closed:
        closed.add_user("alice", "alice-password")
        async with await MarketClient.connect(
            closed.url, connect_md=False, username="alice", password="alice-password"
        ) as client:
            assert (await client.server_info())["guests"] is False
