"""Forged tokens and password guessing, against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import websockets

from hftsim.testing import ServerProcess, server_process

from .conftest import handshake, open_wire, ws_url


def tampered(token: str) -> str:
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


async def test_a_tampered_token_is_refused_everywhere_and_the_real_one_works(server: ServerProcess) -> None:
    token = handshake(server.url, guest=True)["token"]
    forged = tampered(token)
    ping = {"type": "request", "ver": 1, "msg_id": "p", "op": "ping", "payload": {}}
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{server.url}/auth/handshake", json={"token": forged})
        assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"
        r = await http.post(f"{server.url}/api/request", json=ping, headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"
    for path in ("/ws/cmd", "/ws/md"):
        async with websockets.connect(
            ws_url(server.url, path), additional_headers={"Authorization": f"Bearer {forged}"}
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as info:
                await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4002
    wire = await open_wire(server.url, "/ws/cmd", token)
    assert (await wire.ok("auth.whoami"))["user_id"] is not None
    await wire.ws.close()


async def test_password_guessing_is_cut_off_and_the_venue_carries_on(tmp_path: Path) -> None:
    config = {"session": {"login_per_user": {"burst": 3, "per_second": 0.001}}}
    with server_process(tmp_path, config=config) as srv:
        srv.add_user("victim", "the-real-pw")
        guesser = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        codes = [await guesser.error("auth.login", {"username": "victim", "password": f"guess{i}"}) for i in range(3)]
        assert codes == ["INVALID_CREDENTIALS"] * 3
        assert await guesser.error("auth.login", {"username": "victim", "password": "guess3"}) == "RATE_LIMITED"
        assert await guesser.error("auth.login", {"username": "victim", "password": "the-real-pw"}) == "RATE_LIMITED"
        async with httpx.AsyncClient() as http:
            r = await http.post(f"{srv.url}/auth/handshake", json={"username": "victim", "password": "the-real-pw"})
        assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"
        assert (await guesser.ok("ping"))["ts"] > 0
        guest = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        assert (await guest.ok("order.place", {"sym": "ACME", "side": "buy", "qty": 1, "price": "99.00"}))["order"]
