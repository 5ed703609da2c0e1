"""Handshake, tokens, login, roles, origins and bad input — against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from hftsim.testing import ServerProcess, server_process

from .conftest import Wire, handshake, login, open_wire, ws_url


def test_handshake_issues_and_renews_tokens(server: ServerProcess) -> None:
    first = handshake(server.url)
    assert first["status"] == "ok" and first["user_id"] is None and first["roles"] == []
    renewed = handshake(server.url, token=first["token"])
    assert renewed["token"] != first["token"] and renewed["expires_at"] >= first["expires_at"]


def test_handshake_refuses_unknown_token_and_bad_body(server: ServerProcess) -> None:
    r = httpx.post(f"{server.url}/auth/handshake", json={"token": "nope"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"
    r = httpx.post(f"{server.url}/auth/handshake", content=b"[1,2")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BAD_ENVELOPE"


def test_handshake_can_log_in_directly(server: ServerProcess) -> None:
    server.add_user("hsuser", "s3cret-pw")
    data = handshake(server.url, username="hsuser", password="s3cret-pw")
    assert data["username"] == "hsuser" and data["roles"] == ["trader", "viewer"]
    r = httpx.post(f"{server.url}/auth/handshake", json={"username": "hsuser", "password": "wrong"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_CREDENTIALS"


async def test_token_via_header_subprotocol_and_query(server: ServerProcess) -> None:
    token = handshake(server.url)["token"]
    msg = {"type": "request", "ver": 1, "msg_id": "1", "ts": 0, "op": "ping", "payload": {}}
    async with websockets.connect(
        ws_url(server.url, "/ws/cmd"), subprotocols=[Subprotocol("hftsim.v1"), Subprotocol(f"bearer.{token}")]
    ) as ws:
        assert ws.subprotocol == "hftsim.v1"
        await ws.send(orjson.dumps(msg).decode())
        assert orjson.loads(await ws.recv())["ok"]
    async with websockets.connect(ws_url(server.url, f"/ws/cmd?token={token}")) as ws:
        await ws.send(orjson.dumps({**msg, "msg_id": "2"}).decode())
        assert orjson.loads(await ws.recv())["ok"]


async def test_socket_without_valid_token_is_closed_with_4002(server: ServerProcess) -> None:
    async with websockets.connect(ws_url(server.url, "/ws/cmd?token=bogus")) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 4002


async def test_foreign_origin_is_refused_before_upgrade(server: ServerProcess) -> None:
    token = handshake(server.url)["token"]
    with pytest.raises(websockets.InvalidStatus) as info:
        await websockets.connect(ws_url(server.url, f"/ws/md?token={token}"), origin=Origin("http://evil.example"))
    assert info.value.response.status_code == 403
    own = Origin(f"http://127.0.0.1:{server.port}")
    async with websockets.connect(ws_url(server.url, f"/ws/md?token={token}"), origin=own) as ws:
        assert ws.state is websockets.State.OPEN


async def test_login_user_added_while_running_and_roles(server: ServerProcess) -> None:
    server.add_user("viewer1", "pw-viewer", role="viewer")
    server.add_user("admin1", "pw-admin", role="admin")
    wire = await open_wire(server.url, "/ws/cmd", handshake(server.url)["token"])
    assert await wire.error("symbols.list") == "UNAUTHENTICATED"
    assert await wire.error("auth.login", {"username": "viewer1", "password": "bad"}) == "INVALID_CREDENTIALS"
    me = await wire.ok("auth.login", {"username": "viewer1", "password": "pw-viewer"})
    assert me["roles"] == ["viewer"]
    assert (await wire.ok("symbols.list"))["symbols"]
    assert await wire.error("order.place", {"sym": "ACME", "side": "buy", "price": "1", "qty": 1}) == "FORBIDDEN"
    assert await wire.error("account.get", None, **{"as": "trader"}) == "ROLE_NOT_HELD"

    me = await wire.ok("auth.login", {"username": "admin1", "password": "pw-admin"})
    assert me["is_admin"] and me["roles"] == ["admin", "trader", "viewer"]
    users = (await wire.ok("admin.users"))["users"]
    assert {"viewer1", "admin1"} <= {u["username"] for u in users}
    assert await wire.error("admin.users", None, **{"as": "trader"}) == "FORBIDDEN"
    await wire.ws.close()


async def test_bad_input_gets_errors_and_the_connection_lives(trader: Wire) -> None:
    ws = trader.ws
    for bad in [
        "not json",
        "[]",
        "42",
        '"text"',
        "null",
        '{"type":"request"}',
        '{"type":"response","msg_id":"x","op":"ping"}',
    ]:
        await ws.send(bad)
        msg = orjson.loads(await ws.recv())
        assert msg["ok"] is False and msg["error"]["code"] == "BAD_ENVELOPE"
    assert await trader.error("no.such.op") == "UNKNOWN_OP"
    assert await trader.error("ping", ver=2) == "UNSUPPORTED_VERSION"
    assert (
        await trader.error("order.place", {"sym": "ACME", "side": "buy", "price": 100.5, "qty": 1}) == "INVALID_FIELD"
    )
    assert await trader.error("order.place", {"sym": "ACME", "side": "up", "price": "100", "qty": 1}) == "INVALID_FIELD"
    assert (
        await trader.error("order.place", {"sym": "ACME", "side": "buy", "price": "100", "qty": "1"}) == "INVALID_FIELD"
    )
    assert (
        await trader.error("order.place", {"sym": "NOPE", "side": "buy", "price": "100", "qty": 1}) == "UNKNOWN_SYMBOL"
    )
    big = {"sym": "ACME", "pad": "x" * 70_000}
    assert await trader.error("book.get", big) == "MESSAGE_TOO_LARGE"
    assert (await trader.ok("ping"))["ts"] > 0


async def test_short_lived_token_closes_socket_with_4001_unless_renewed(tmp_path: Path) -> None:
    with server_process(tmp_path, config={"session": {"token_ttl_s": 2.0}}) as srv:
        stale = await open_wire(srv.url, "/ws/md", handshake(srv.url)["token"])
        kept = await login(srv.url)
        tokens: list[str] = []

        async def renew_often() -> None:  # well inside the lifetime, however loaded the machine
            while True:
                tokens.append((await kept.ok("auth.renew"))["token"])
                await asyncio.sleep(0.25)

        renewing = asyncio.create_task(renew_often())
        with pytest.raises(websockets.ConnectionClosed) as info:
            async with asyncio.timeout(30):
                while True:  # heartbeats may arrive before the close
                    await stale.ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4001
        renewing.cancel()
        assert tokens and (await kept.ok("ping"))["ts"] > 0
        async with httpx.AsyncClient() as http:
            r = await http.post(
                f"{srv.url}/api/request",
                headers={"Authorization": "Bearer " + tokens[-1]},
                json={"type": "request", "ver": 1, "msg_id": "h1", "op": "account.get", "payload": {}},
            )
        assert r.json()["ok"], r.text


def test_rate_limit_on_handshake(tmp_path: Path) -> None:
    config = {"session": {"handshake_per_ip": {"burst": 3, "per_second": 0.01}}}
    with server_process(tmp_path, config=config) as srv:
        codes = [httpx.post(f"{srv.url}/auth/handshake", json={}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        assert httpx.post(f"{srv.url}/auth/handshake", json={}).json()["error"]["code"] == "RATE_LIMITED"


def test_guests_can_be_turned_off(tmp_path: Path) -> None:
    with server_process(tmp_path, config={"session": {"allow_guests": False}}) as srv:
        r = httpx.post(f"{srv.url}/auth/handshake", json={"guest": True})
        assert r.status_code == 403 and r.json()["error"]["code"] == "GUEST_DISABLED"


def test_http_request_endpoint(server: ServerProcess) -> None:
    token = handshake(server.url, guest=True)["token"]
    body = {"type": "request", "ver": 1, "msg_id": "h1", "op": "book.get", "payload": {"sym": "BOLT", "depth": 5}}
    r = httpx.post(f"{server.url}/api/request", json=body, headers={"Authorization": f"Bearer {token}"})
    msg = r.json()
    assert r.status_code == 200 and msg["ok"] and msg["corr_id"] == "h1" and msg["payload"]["sym"] == "BOLT"
    r = httpx.post(f"{server.url}/api/request", json=body)
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"


async def test_tokens_never_reach_the_log(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, log_level="debug")  # a socket's open and close lines are debug lines
    server.start()
    try:
        token = handshake(server.url)["token"]
        async with websockets.connect(ws_url(server.url, f"/ws/md?token={token}")) as ws:
            await ws.send(orjson.dumps({"type": "request", "msg_id": "1", "op": "ping"}).decode())
            await ws.recv()
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(
                ws_url(server.url, f"/ws/cmd?token={token}&x=1"), origin=Origin("http://evil.example")
            )
        await asyncio.sleep(0.2)
    finally:
        server.stop()
    log = server.log()
    assert "/ws/md?token=[redacted]" in log and "/ws/cmd?token=[redacted]&x=1" in log
    assert token not in log
