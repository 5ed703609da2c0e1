"""A process flooding one CMD socket as fast as the socket takes it (for bench/fairness.py).

    python -m bench.flood_worker URL KIND

KIND is `ping` or `order` (a resting sell of 1 ACME per message). It logs in
as a fresh guest on one /ws/cmd socket (bench/wsraw.py) and prints
`{"ready": true}`. Then, one line per command on stdin:

- `start`: send requests without waiting for their answers, as long as the
  socket's write buffer in this process stays under HIGH_WATER (past that
  the server is not reading us, and more would only pile up here), and count
  the answers as they come; print `{"started": true}`;
- `stop`: stop sending; print what was sent and answered (`Flooder.report`);
- `quit` (or end of input): drop the connection at once and exit.

It runs in its own process so that its sending and reading do not share an
event loop (or a GIL) with the user whose latency is measured.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import uvloop

from .gateway import emit
from .wsraw import RawSocket

OPS = {
    "ping": ("ping", "{}"),
    "order": ("order.place", '{"sym":"ACME","side":"sell","type":"limit","qty":1,"price":"110.00"}'),
}
HIGH_WATER = 64 * 1024
BATCH = 50


class Flooder:
    def __init__(self, kind: str) -> None:
        self.op, self.payload = OPS[kind]
        self.sock: RawSocket | None = None
        self.logged_in = asyncio.get_running_loop().create_future()
        self.sent = 0
        self.answers: Counter[str] = Counter()
        self._t0 = 0.0
        self._task: asyncio.Task[None] | None = None

    def on_text(self, data: bytes, now: float) -> None:
        msg = orjson.loads(data)
        if msg["type"] != "response":
            return
        if msg["corr_id"] == "login":
            self.logged_in.set_result(msg)
        else:
            self.answers["ok" if msg["ok"] else msg["error"]["code"]] += 1

    async def connect(self, url: str) -> None:
        async with httpx.AsyncClient() as http:
            token = (await http.post(f"{url}/auth/handshake", json={})).json()["token"]
        parts = urlsplit(url)
        self.sock = await RawSocket.connect(parts.hostname or "127.0.0.1", parts.port or 80, "/ws/cmd", token,
                                            self.on_text)  # fmt: skip
        self.sock.send_text(b'{"type":"request","ver":1,"msg_id":"login","ts":0,"op":"auth.login",'
                            b'"payload":{"guest":true}}')  # fmt: skip
        answer = await asyncio.wait_for(self.logged_in, 10)
        if not answer["ok"]:
            raise RuntimeError(f"login refused: {answer}")

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._task = asyncio.create_task(self._flood())

    async def _flood(self) -> None:
        sock = self.sock
        assert sock is not None and sock.transport is not None
        transport = sock.transport
        head = f'{{"type":"request","ver":1,"ts":0,"op":"{self.op}","payload":{self.payload},"msg_id":"f'
        while True:
            if transport.get_write_buffer_size() > HIGH_WATER:
                await asyncio.sleep(0.001)
                continue
            for _ in range(BATCH):
                self.sent += 1
                sock.send_text(f'{head}{self.sent}"}}'.encode())
            await asyncio.sleep(0)

    async def stop(self) -> dict[str, Any]:
        """Stop sending (a cancel: the flood never waits on the server) and say what happened so far."""
        elapsed = time.monotonic() - self._t0
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        answered = sum(self.answers.values())
        return {
            "seconds": elapsed,
            "sent": self.sent,
            "offered_per_s": self.sent / elapsed,
            "ok": self.answers["ok"],
            "rate_limited": self.answers["RATE_LIMITED"],
            "other_errors": answered - self.answers["ok"] - self.answers["RATE_LIMITED"],
            "unanswered": self.sent - answered,
        }

    def drop(self) -> None:
        """Close without flushing: what the server has not read yet is never answered."""
        if self.sock is not None and self.sock.transport is not None:
            self.sock.transport.abort()


async def main(url: str, kind: str) -> None:
    flooder = Flooder(kind)
    await flooder.connect(url)
    emit({"ready": True})
    while True:
        command = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if command == "start":
            flooder.start()
            emit({"started": True})
        elif command == "stop":
            emit(await flooder.stop())
        else:  # quit, or the parent went away
            flooder.drop()
            await asyncio.sleep(0.1)
            return


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], sys.argv[2]))
