"""A naive client, as many are written by hand: the yardstick each FakeVenue fault must break.

It applies every MD event as it arrives (no sequence check), keeps what
came before a snapshot out, counts trade volume as it comes, and when a
request times out or its socket drops, it opens a new socket and sends the
request again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from decimal import Decimal
from typing import Any

import httpx
import orjson
import websockets


class NaiveClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.ws_url = url.replace("http://", "ws://")
        self.token = ""
        self.bids: dict[str, dict[Decimal, int]] = {}
        self.asks: dict[str, dict[Decimal, int]] = {}
        self.volume: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._cmd: Any = None

    async def connect(self, username: str, password: str) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{self.url}/auth/handshake", json={"username": username, "password": password})
        self.token = answer.json()["token"]
        await self._open_cmd()
        md = await self._open("/ws/md")
        self._tasks.append(asyncio.create_task(self._read(md)))
        await md.send(orjson.dumps({"type": "request", "ver": 1, "msg_id": "md-1", "ts": 0, "op": "md.subscribe",
                                    "payload": {"syms": "*"}}).decode())  # fmt: skip

    async def _open(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        return await websockets.connect(self.ws_url + path, additional_headers=headers)

    async def _open_cmd(self) -> None:
        self._cmd = await self._open("/ws/cmd")
        self._tasks.append(asyncio.create_task(self._read(self._cmd)))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in ws:
                message = orjson.loads(frame)
                if message["type"] == "response" and message["corr_id"] in self._answers:
                    self._answers.pop(message["corr_id"]).set_result(message)
                elif message["type"] == "event":
                    self._event(message["op"], message["payload"])

    def _event(self, op: str, payload: dict[str, Any]) -> None:
        sym: str = payload.get("sym", "")
        if op == "md.snapshot":
            self.bids[sym] = {Decimal(p): q for p, q in payload["bids"]}
            self.asks[sym] = {Decimal(p): q for p, q in payload["asks"]}
        elif op == "md.delta" and sym in self.bids:
            for side, levels in ((self.bids[sym], payload["bids"]), (self.asks[sym], payload["asks"])):
                for price, qty in levels:
                    if qty:
                        side[Decimal(price)] = qty
                    else:
                        side.pop(Decimal(price), None)
        elif op == "md.trade":
            self.volume[sym] = self.volume.get(sym, 0) + payload["qty"]

    async def request(self, op: str, payload: dict[str, Any], timeout: float = 0.5) -> dict[str, Any]:
        """Send; on a timeout or a dropped socket, open a new one and send again (once)."""
        for attempt in range(2):
            msg_id = f"n-{next(self._ids)}"
            answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._answers[msg_id] = answer
            try:
                await self._cmd.send(orjson.dumps({"type": "request", "ver": 1, "msg_id": msg_id, "ts": 0, "op": op,
                                                   "payload": payload}).decode())  # fmt: skip
                return await asyncio.wait_for(answer, timeout)
            except (TimeoutError, websockets.ConnectionClosed):
                if attempt == 0 and self._cmd.state is not websockets.State.OPEN:
                    await self._open_cmd()
        raise TimeoutError(op)

    def book(self, sym: str) -> tuple[list[list[Any]], list[list[Any]]]:
        bids = [[str(p), q] for p, q in sorted(self.bids.get(sym, {}).items(), reverse=True)]
        asks = [[str(p), q] for p, q in sorted(self.asks.get(sym, {}).items())]
        return bids, asks

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
