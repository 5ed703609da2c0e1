"""Bounds on sockets: a deadline to log in or subscribe (4004), limits per token and per user (4005),
and a deadline for each HTTP request to arrive in full (408)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hftsim.testing import server_process

from .conftest import close_code, handshake, login, open_wire


async def test_idle_sockets_are_closed_after_the_login_deadline(tmp_path: Path) -> None:
    with server_process(tmp_path, config={"server": {"login_deadline_s": 1.0}}) as srv:
        used_cmd = await login(srv.url, guest=True)
        used_md = await open_wire(srv.url, "/ws/md", handshake(srv.url)["token"])
        await used_md.ok("md.subscribe", {"syms": ["ACME"]})
        logged_in_at_handshake = await open_wire(srv.url, "/ws/cmd", handshake(srv.url, guest=True)["token"])
        idle_cmd = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        idle_md = await open_wire(srv.url, "/ws/md", handshake(srv.url)["token"])
        assert await close_code(idle_cmd) == 4004
        assert await close_code(idle_md) == 4004
        for wire in (used_cmd, used_md, logged_in_at_handshake):  # opened earlier, still served
            assert (await wire.ok("ping"))["ts"] > 0
            await wire.ws.close()


async def test_sockets_per_token_and_per_user_are_limited(tmp_path: Path) -> None:
    config = {"server": {"sockets_per_token": 2, "sockets_per_user": 3}}
    with server_process(tmp_path, config=config) as srv:
        first = handshake(srv.url, guest=True)["token"]
        second = handshake(srv.url, token=first)["token"]  # the same session, so the same user
        other = await open_wire(srv.url, "/ws/cmd", handshake(srv.url)["token"])
        limits = (await other.ok("auth.login", {"guest": True}))["limits"]
        assert limits["sockets_per_token"] == 2 and limits["sockets_per_user"] == 3

        held = [await open_wire(srv.url, "/ws/md", first), await open_wire(srv.url, "/ws/md", first)]
        assert await close_code(await open_wire(srv.url, "/ws/md", first)) == 4005
        held.append(await open_wire(srv.url, "/ws/md", second))
        assert await close_code(await open_wire(srv.url, "/ws/md", second)) == 4005
        for wire in [*held, other]:
            assert (await wire.ok("ping"))["ts"] > 0


async def read_all(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(5):
        return await reader.read()


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /api/request HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
        b"POST /api/request HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b'content-length: 100\r\n\r\n{"type":',
        b"",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    ],
    ids=["headers", "body", "nothing", "after-a-request"],
)
async def test_half_sent_http_requests_are_cut_at_the_deadline(tmp_path: Path, partial: bytes) -> None:
    with server_process(tmp_path, config={"server": {"request_deadline_s": 1.0}}) as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(partial)
        await writer.drain()
        answer = await read_all(reader)
        assert answer.count(b"HTTP/1.1 408 ") == 1 and answer.endswith(b"request not received in time"), answer
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        assert (await read_all(reader)).startswith(b"HTTP/1.1 200 ")
        writer.close()
