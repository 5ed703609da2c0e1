"""The Host and Origin allowlist against DNS rebinding: 421 for a foreign Host, 403 for a foreign Origin."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import websockets
from websockets.typing import Origin

from hftsim.testing import server_process

from .conftest import handshake


async def upgrade_status(port: int, host: str, token: str, origin: str | None = None) -> int:
    """The HTTP status of a WebSocket upgrade sent to this server with `host` as its Host header."""
    uri = f"ws://{host}:{port}/ws/md?token={token}"
    try:
        async with websockets.connect(uri, host="127.0.0.1", port=port, origin=Origin(origin) if origin else None):
            return 101
    except websockets.InvalidStatus as exc:
        return exc.response.status_code


async def test_foreign_hosts_and_origins_are_refused(tmp_path: Path) -> None:
    with server_process(tmp_path, config={"server": {"allowed_hosts": ["sim.example"]}}) as srv:
        async with httpx.AsyncClient() as http:
            token = handshake(srv.url)["token"]
            for host in ("evil.example", "127.0.0.1.evil.example"):
                r = await http.get(f"{srv.url}/healthz", headers={"Host": f"{host}:{srv.port}"})
                assert r.status_code == 421, r.text
                r = await http.post(f"{srv.url}/auth/handshake", json={}, headers={"Host": host})
                assert r.status_code == 421
                # a rebound page: for the browser Origin == Host, both the attacker's name
                assert await upgrade_status(srv.port, host, token, origin=f"http://{host}:{srv.port}") == 421
            for host in ("localhost", "127.0.0.1", "sim.example", "SIM.example"):
                assert (await http.get(f"{srv.url}/healthz", headers={"Host": f"{host}:{srv.port}"})).status_code == 200
                assert await upgrade_status(srv.port, host, token, origin=f"http://{host}:{srv.port}") == 101
            assert await upgrade_status(srv.port, "sim.example", token) == 101  # not a browser: no Origin
            assert await upgrade_status(srv.port, "sim.example", token, origin="http://evil.example") == 403
            r = await http.post(f"{srv.url}/auth/handshake", json={}, headers={"Origin": "https://evil.example"})
            assert r.status_code == 403


@pytest.mark.parametrize("host", ["", "[bad"])
def test_missing_or_malformed_host_is_refused(tmp_path: Path, host: str) -> None:
    with server_process(tmp_path) as srv:
        assert httpx.get(f"{srv.url}/healthz", headers={"Host": host}).status_code in (400, 421)
