"""What the server writes to its log: never a token, at any level and in any encoding; an audit line per
refused authorization."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
import orjson
import websockets
from websockets.typing import Subprotocol

from hftsim.testing import ServerProcess

from .conftest import handshake, open_wire, ws_url


async def test_tokens_never_reach_the_debug_log(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, log_level="debug")
    server.start()
    seen: list[str] = []
    try:
        token = handshake(server.url, guest=True)["token"]
        seen.append(token)
        encoded_value = "".join(f"%{b:02X}" for b in token.encode())
        for query in (
            f"token={token}",
            f"%74oken={token}",
            f"%74%6F%6B%65%6E={encoded_value}",
            f"x=1&token={encoded_value}",
            f"%2574oken={token}",  # decoded once by the server: not a token parameter, refused with 4002
        ):
            async with websockets.connect(ws_url(server.url, f"/ws/md?{query}")) as ws:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(orjson.dumps({"type": "request", "msg_id": query, "op": "ping"}).decode())
                    await ws.recv()
        async with websockets.connect(
            ws_url(server.url, "/ws/md"), subprotocols=[Subprotocol(f"bearer.{token}")]
        ) as ws:
            await ws.send(orjson.dumps({"type": "request", "msg_id": "sub", "op": "ping"}).decode())
            await ws.recv()
        cmd = await open_wire(server.url, "/ws/cmd", token)  # the Authorization header
        renewed = (await cmd.ok("auth.renew"))["token"]
        seen.append(renewed)
        md = await open_wire(server.url, "/ws/md", token)
        await md.ok("md.renew", {"token": renewed})
        await cmd.ws.close()
        await md.ws.close()
        async with httpx.AsyncClient() as http:
            await http.post(f"{server.url}/auth/handshake", json={"token": renewed})
            await http.post(f"{server.url}/auth/logout", headers={"Authorization": f"Bearer {renewed}"})
    finally:
        server.stop()
    log = server.log()
    assert "DEBUG" in log and "[redacted]" in log, log[-2000:]
    for secret in seen:
        assert secret not in log
        assert secret[8:24] not in log and secret[-10:] not in log  # not even a piece of one


async def test_refused_authorizations_are_audited(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path)
    server.start()
    try:
        trader = await open_wire(server.url, "/ws/cmd", handshake(server.url)["token"])
        name = (await trader.ok("auth.login", {"guest": True}))["username"]
        assert await trader.error("admin.halt", {"sym": "ACME"}) == "FORBIDDEN"
        assert await trader.error("account.get", {}, **{"as": "admin"}) == "ROLE_NOT_HELD"
        await trader.ws.close()
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if "audit: refused" in line]
    assert len(lines) == 2, server.log()
    fields = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in lines]
    assert fields[0] == {
        "user": name,
        "user_id": fields[0]["user_id"],
        "op": "admin.halt",
        "role_asked": "-",
        "role_required": "admin",
        "role_held": "trader",
        "peer": "127.0.0.1",
    }
    assert fields[1]["op"] == "account.get" and fields[1]["role_asked"] == "admin"
    assert fields[1]["role_held"] == "trader"
