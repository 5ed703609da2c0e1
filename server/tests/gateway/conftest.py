"""Fixtures: a real server on a loopback port and a bare protocol client.

The client here is deliberately minimal (raw websockets + httpx) so these
tests check the wire protocol itself, independent of market_client.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import websockets

from hftsim.testing import ServerProcess, server_process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_process(tmp_path_factory.mktemp("gw")) as srv:
        yield srv


def handshake(url: str, **body: Any) -> dict[str, Any]:
    r = httpx.post(f"{url}/auth/handshake", json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


_wires = itertools.count(1)


class Wire:
    """One raw socket: send requests, collect events, await responses by corr_id."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._prefix = f"t{next(_wires)}-"  # msg_ids are answered once per session, across all its sockets

    async def request(self, op: str, payload: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        msg_id = f"{self._prefix}{next(self._ids)}"
        await self.ws.send(
            orjson.dumps(
                {"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": op, "payload": payload or {}, **extra}
            ).decode()
        )
        return await self.response(msg_id)

    async def response(self, msg_id: str | None) -> dict[str, Any]:
        for i, msg in enumerate(self.events):  # read past while awaiting another response
            if msg["type"] == "response" and msg["corr_id"] == msg_id:
                return self.events.pop(i)
        while True:
            msg = orjson.loads(await self.ws.recv())
            if msg["type"] == "response" and msg["corr_id"] == msg_id:
                return dict(msg)
            self.events.append(msg)

    async def next_event(self, op: str) -> dict[str, Any]:
        for i, ev in enumerate(self.events):
            if ev["type"] == "event" and ev["op"] == op:
                return self.events.pop(i)
        while True:
            msg = orjson.loads(await self.ws.recv())
            if msg["type"] == "event" and msg["op"] == op:
                return dict(msg)
            self.events.append(msg)

    async def ok(self, op: str, payload: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        msg = await self.request(op, payload, **extra)
        assert msg["ok"], msg
        return dict(msg["payload"])

    async def error(self, op: str, payload: dict[str, Any] | None = None, **extra: Any) -> str:
        msg = await self.request(op, payload, **extra)
        assert not msg["ok"], msg
        assert msg["error"]["message"]
        return str(msg["error"]["code"])


async def close_code(wire: Wire, within: float = 5.0) -> int:
    """Read until the server closes the socket (heartbeats and events may come first); its close code."""
    with pytest.raises(websockets.ConnectionClosed) as info:
        async with asyncio.timeout(within):
            while True:
                await wire.ws.recv()
    assert info.value.rcvd is not None
    return info.value.rcvd.code


def ws_url(url: str, path: str) -> str:
    return url.replace("http://", "ws://") + path


async def open_wire(url: str, path: str, token: str) -> Wire:
    ws = await websockets.connect(ws_url(url, path), additional_headers={"Authorization": f"Bearer {token}"})
    return Wire(ws)


async def login(url: str, **credentials: object) -> Wire:
    """A command socket logged in with `credentials` (none: a fresh anonymous account; guest=True: a guest)."""
    wire = await open_wire(url, "/ws/cmd", handshake(url)["token"])
    await wire.ok("auth.login", credentials)
    return wire


@pytest.fixture
async def trader(server: ServerProcess) -> AsyncIterator[Wire]:
    wire = await login(server.url, guest=True)
    yield wire
    await wire.ws.close()


@pytest.fixture
async def other_trader(server: ServerProcess) -> AsyncIterator[Wire]:
    wire = await login(server.url)
    yield wire
    await wire.ws.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path
