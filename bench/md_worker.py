"""A process holding many MD subscribers (picows clients), driven over stdin/stdout.

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
`ts` (server clock, ms) to the arrival of its frame, kept as a histogram of
0.1 ms buckets so workers can be merged exactly. A report also gives the
worker's own CPU share over the phase, so a reader can tell whether the
load generator or the server was the limit.

The sockets are picows clients (Cython framing): the least Python per
frame a subscriber can do is one callback that looks the frame up.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from .gateway import emit

SEQUENCED = frozenset({"md.delta", "md.trade", "md.status"})
BUCKETS_PER_MS = 10


Decoded = tuple[str, str, int, int] | None
"""What a subscriber needs of a frame: (op, sym, seq, ts) of a sequenced event or a snapshot, else None."""
DECODED_MAX = 50_000
"""Frames remembered decoded; the cache starts over past this."""
TEXT = WSMsgType.TEXT


def decode(data: bytes) -> Decoded:
    if not data.startswith(b'{"type":"event"'):
        return None
    msg = orjson.loads(data)
    op = msg["op"]
    if op not in SEQUENCED and op != "md.snapshot":
        return None
    payload = msg["payload"]
    return op, payload["sym"], payload["seq"], msg["ts"]


class Subscriber(WSListener):
    """One socket's view: its last seq per symbol (gaps) and its share of the latency histogram.

    The server encodes each event once for all its subscribers, so the
    worker's subscribers get the same bytes: a frame is decoded once per
    worker (`decoded`, shared) and each subscriber looks it up, so the load
    generator spends its CPU on sockets, not on parsing one event 250 times.
    """

    def __init__(self, hist: Counter[int], decoded: dict[bytes, Decoded]) -> None:
        super().__init__()
        self.last: dict[str, int] = {}
        self.events = 0
        self.gaps = 0
        self.recording = False
        self.hist = hist
        self.decoded = decoded
        self.socket: WSTransport | None = None
        self.close_code: int | None = None
        self.disconnected = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.socket = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != TEXT:
            if frame.msg_type == WSMsgType.CLOSE:
                self.close_code = frame.get_close_code().value
            return
        now = time.time()
        data = frame.get_payload_as_bytes()
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


def listener(sub: Subscriber) -> Callable[[], Subscriber]:
    """picows wants a factory; each socket's listener is its subscriber, made beforehand."""
    return lambda: sub


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
        self._cpu0 = 0.0
        self._seq0: dict[str, int] = {}

    async def connect(self) -> None:
        async with httpx.AsyncClient() as http:  # a token each: the server caps the sockets of one token
            tokens = [(await http.post(f"{self.url}/auth/handshake", json={})).json()["token"] for _ in self.subs]
        ws_url = f"ws://{self.host}:{self.port}/ws/md"
        for chunk in range(0, self.count, 50):  # connect everyone first, then subscribe everyone
            batch = self.subs[chunk : chunk + 50]
            await asyncio.gather(
                *(
                    ws_connect(
                        listener(sub), ws_url, extra_headers={"Authorization": f"Bearer {token}"}, max_frame_size=2**26
                    )
                    for sub, token in zip(batch, tokens[chunk : chunk + 50], strict=True)
                )
            )
        for i, sub in enumerate(self.subs):  # msg_ids are answered once per session, so each socket gets its own
            assert sub.socket is not None
            sub.socket.send(TEXT, orjson.dumps({"type": "request", "ver": 1, "msg_id": f"sub-{i}", "ts": 0,
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
        self._cpu0 = time.process_time()
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
        cpu = time.process_time() - self._cpu0
        closed = [s.close_code for s in self.subs if s.disconnected]
        front = self.front()
        return {
            "elapsed": elapsed,
            "cpu_share": cpu / elapsed,
            "market_events": sum(seq - self._seq0.get(sym, seq) for sym, seq in front.items()),
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
                sub.socket.disconnect()


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
