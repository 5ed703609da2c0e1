"""Logout over CMD and HTTP: the session's tokens are revoked and its sockets closed with 4003."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import websockets

from hftsim.testing import server_process

from .conftest import close_code, handshake, open_wire, ws_url


async def api_ping(url: str, token: str) -> httpx.Response:
    body = {"type": "request", "ver": 1, "msg_id": "p1", "op": "ping", "payload": {}}
    async with httpx.AsyncClient() as http:
        return await http.post(f"{url}/api/request", json=body, headers={"Authorization": f"Bearer {token}"})


async def refused_socket_code(url: str, token: str) -> int:
    async with websockets.connect(ws_url(url, "/ws/md"), additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    return info.value.rcvd.code


async def test_logout_over_cmd_closes_every_socket_of_the_session(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        token = handshake(srv.url, guest=True)["token"]
        renewed = handshake(srv.url, token=token)["token"]
        cmd = await open_wire(srv.url, "/ws/cmd", token)
        md = await open_wire(srv.url, "/ws/md", renewed)
        bystander = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        assert await cmd.ok("auth.logout") == {"status": "logged_out"}
        assert await close_code(cmd) == 4003
        assert await close_code(md) == 4003
        for revoked in (token, renewed):
            r = await api_ping(srv.url, revoked)
            assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"
            assert await refused_socket_code(srv.url, revoked) == 4002
        async with httpx.AsyncClient() as http:
            assert (await http.post(f"{srv.url}/auth/handshake", json={"token": token})).status_code == 401
        assert (await bystander.ok("ping"))["ts"] > 0
        await bystander.ws.close()


async def test_logout_over_http_survives_a_restart(tmp_path: Path) -> None:
    with server_process(tmp_path) as srv:
        token = handshake(srv.url, guest=True)["token"]
        md = await open_wire(srv.url, "/ws/md", token)
        async with httpx.AsyncClient() as http:
            bearer = {"Authorization": f"Bearer {token}"}
            r = await http.post(f"{srv.url}/auth/logout", headers=bearer)
            assert r.status_code == 200 and r.json() == {"status": "logged_out"}
            assert await close_code(md) == 4003
            again = await http.post(f"{srv.url}/auth/logout", headers=bearer)
            assert again.status_code == 401 and again.json()["error"]["code"] == "INVALID_TOKEN"
            assert (await http.post(f"{srv.url}/auth/logout")).status_code == 401
        srv.restart()
        assert (await api_ping(srv.url, token)).status_code == 401
