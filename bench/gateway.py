"""Helpers for the benchmarks that drive a real server: processes, logins, admin ops.

The server under test is `hftsim.testing.server_process` (a real `hftsim
serve` subprocess on a free loopback port). Benchmarks pass the config they
need (e.g. risk limits no benchmark order reaches) and nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parent.parent
ADMIN = ("bench_admin", "bench-admin-password")

WIDE_LIMITS = {"limits": {"max_order_qty": 100_000, "max_position": 10**12}, "accounts": {"initial_cash": 10**12}}
"""No benchmark order should ever meet a position limit, or run out of cash (a full run buys ~10M of ACME)."""


def handshake(url: str, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{url}/auth/handshake", json=body, timeout=10).json()
    return answer


class Admin:
    """Admin ops over `POST /api/request` as the bench's admin user."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = handshake(url, username=ADMIN[0], password=ADMIN[1])["token"]
        self._ids = itertools.count(1)

    def request(self, op: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"type": "request", "ver": 1, "msg_id": f"a{next(self._ids)}", "ts": 0, "op": op,
                "payload": payload or {}}  # fmt: skip
        answer = httpx.post(f"{self.url}/api/request", json=body, headers={"Authorization": f"Bearer {self.token}"},
                            timeout=10).json()  # fmt: skip
        if not answer.get("ok"):
            raise RuntimeError(f"{op} refused: {answer.get('error')}")
        payload_out: dict[str, Any] = answer["payload"]
        return payload_out

    def set_intensity(self, intensity: float) -> None:
        self.request("admin.sim", {"intensity": intensity})

    def md_seqs(self, syms: list[str]) -> dict[str, int]:
        return {sym: int(self.request("book.get", {"sym": sym, "depth": 1})["seq"]) for sym in syms}


def emit(answer: dict[str, Any]) -> None:
    """The child's side of `Child`: one JSON line per answer on standard output."""
    sys.stdout.write(orjson.dumps(answer).decode() + "\n")
    sys.stdout.flush()


class Child:
    """A bench subprocess speaking one JSON line per command (see md_worker.py)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, module: str, *args: str | int, timeout: float = 120) -> tuple[Child, dict[str, Any]]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *map(str, args),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, limit=1 << 26,
        )  # fmt: skip
        child = cls(proc)
        try:
            first = await child.read(timeout)
        except BaseException:
            await child.kill()
            raise
        return child, first

    async def read(self, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"bench child exited with {await self.proc.wait()}")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def ask(self, command: str, timeout: float = 60) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.read(timeout)

    async def quit(self) -> None:
        if self.proc.returncode is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write(b"quit\n")
                await self.proc.stdin.drain()
                await asyncio.wait_for(self.proc.wait(), 10)
            except (TimeoutError, ConnectionError):
                pass
        await self.kill()

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
