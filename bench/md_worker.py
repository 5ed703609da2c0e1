"""A process holding many MD subscribers (bench/wsraw.py), driven over stdin/stdout.

    python -m bench.md_worker URL COUNT

It connects COUNT sockets to /ws/md, subscribes each to every symbol, waits
for their snapshots and prints `{"ready": COUNT}`. Then, one JSON line per
command on stdin:

- `start`: clear the counters and start recording;
- `stop`: stop recording; print what was recorded (see `Worker.report`),
  including the market's events in the phase (the advance of the newest seq
  any subscriber holds, per symbol);
- `seqs`: print the last seq per symbol each subscriber has applied;
- `quit`: close the sockets and exit.

Every sequenced event (delta, trade, status) is checked against the
symbol's last seq; a jump is a gap (events lost). Latency is the event's
`ts` (server clock, ms) to the arrival of the chunk that carried it, kept
as a histogram of 0.1 ms buckets so workers can be merged exactly.
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

SEQUENCED = frozenset({"md.delta", "md.trade", "md.status"})
BUCKETS_PER_MS = 10


Decoded = tuple[str, str, int, int] | None
"""What a subscriber needs of a frame: (op, sym, seq, ts) of a sequenced event or a snapshot, else None."""
DECODED_MAX = 50_000
"""Frames remembered decoded; the cache starts over past this."""


def decode(data: bytes) -> Decoded:
    if not data.startswith(b'{"type":"event"'):
        return None
    msg = orjson.loads(data)
    op = msg["op"]
    if op not in SEQUENCED and op != "md.snapshot":
        return None
    payload = msg["payload"]
    return op, payload["sym"], payload["seq"], msg["ts"]


class Subscriber:
    """One socket's view: its last seq per symbol (gaps) and its share of the latency histogram.

    The server encodes each event once for all its subscribers, so the
    worker's subscribers get the same bytes: a frame is decoded once per
    worker (`decoded`, shared) and each subscriber looks it up, so the load
    generator spends its CPU on sockets, not on parsing one event 250 times.
    """

    __slots__ = ("decoded", "events", "gaps", "hist", "last", "recording", "socket")

    def __init__(self, hist: Counter[int], decoded: dict[bytes, Decoded]) -> None:
        self.last: dict[str, int] = {}
        self.events = 0
        self.gaps = 0
        self.recording = False
        self.hist = hist
        self.decoded = decoded
        self.socket: RawSocket | None = None

    def on_text(self, data: bytes, now: float) -> None:
        decoded = self.decoded
        if data in decoded:
            known = decoded[data]
        else:
            if len(decoded) >= DECODED_MAX:
                decoded.clear()
            known = decoded[data] = decode(data)
        if known is None:
            return
        op, sym, seq, ts = known
        if op == "md.snapshot":
            self.last[sym] = seq
            return
        last = self.last.get(sym)
        if last is not None:
            if seq <= last:
                return
            if seq > last + 1:
                self.gaps += seq - last - 1
        self.last[sym] = seq
        if self.recording:
            self.events += 1
            self.hist[int((now * 1000 - ts) * BUCKETS_PER_MS)] += 1


class Worker:
    def __init__(self, url: str, count: int) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.count = count
        self.hist: Counter[int] = Counter()
        decoded: dict[bytes, Decoded] = {}
        self.subs = [Subscriber(self.hist, decoded) for _ in range(count)]
        self.syms: list[str] = []
        self._t0 = 0.0
        self._seq0: dict[str, int] = {}

    async def connect(self) -> None:
        async with httpx.AsyncClient() as http:  # a token each: the server caps the sockets of one token
            tokens = [(await http.post(f"{self.url}/auth/handshake", json={})).json()["token"] for _ in self.subs]
        for chunk in range(
            0, self.count, 50
        ):  # connect everyone first, then subscribe everyone
            batch = self.subs[chunk : chunk + 50]
            sockets = await asyncio.gather(
                *(
                    RawSocket.connect(
                        self.host, self.port, "/ws/md", token, sub.on_text, timeout=30
                    )
                    for sub, token in zip(batch, tokens[chunk : chunk + 50], strict=True)
                )
            )
            for sub, sock in zip(batch, sockets):
                sub.socket = sock
        for i, sub in enumerate(
            self.subs
        ):  # msg_ids are answered once per session, so each socket gets its own
            assert sub.socket is not None
            sub.socket.send_text(orjson.dumps({"type": "request", "ver": 1, "msg_id": f"sub-{i}", "ts": 0,
                                               "op": "md.subscribe", "payload": {"syms": "*"}}))  # fmt: skip
        async with asyncio.timeout(60):
            while not all(len(s.last) >= 1 for s in self.subs):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        self.syms = sorted(self.subs[0].last)

    def front(self) -> dict[str, int]:
        """The newest seq per symbol any subscriber has."""
        out: dict[str, int] = {}
        for sub in self.subs:
            for sym, seq in sub.last.items():
                if seq > out.get(sym, -1):
                    out[sym] = seq
        return out

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._seq0 = self.front()
        self.hist.clear()
        for sub in self.subs:
            sub.events = 0
            sub.gaps = 0
            sub.recording = True

    def report(self) -> dict[str, Any]:
        for sub in self.subs:
            sub.recording = False
        elapsed = time.monotonic() - self._t0
        closed = [
            s.socket.close_code
            for s in self.subs
            if s.socket is not None and s.socket.closed.done()
        ]
        front = self.front()
        return {
            "elapsed": elapsed,
            "market_events": sum(
                seq - self._seq0.get(sym, seq) for sym, seq in front.items()
            ),
            "subscribers": self.count,
            "events": sum(s.events for s in self.subs),
            "min_events": min(s.events for s in self.subs),
            "gaps": sum(s.gaps for s in self.subs),
            "closed": len(closed),
            "close_codes": sorted({c for c in closed if c is not None}),
            "hist": sorted(self.hist.items()),
        }

    def seqs(self) -> list[dict[str, int]]:
        return [dict(s.last) for s in self.subs]

    def close(self) -> None:
        for sub in self.subs:
            if sub.socket is not None:
                sub.socket.close()


async def main(url: str, count: int) -> None:
    worker = Worker(url, count)
    await worker.connect()
    emit({"ready": count, "syms": worker.syms})
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        command = line.strip()
        if command == "start":
            worker.start()
            emit({"started": True})
        elif command == "stop":
            emit(worker.report())
        elif command == "seqs":
            emit({"seqs": worker.seqs()})
        else:  # quit, or the parent went away
            worker.close()
            await asyncio.sleep(0.1)
            return


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], int(sys.argv[2])))
