"""Recording a live run and replaying it: the same decisions and fills, every time."""

from __future__ import annotations

import asyncio
import gzip
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson

from market_client import MarketClient, Strategy, read_recording, run_live, run_replay
from market_client.testing import FakeVenue

LIFTER = '''
from decimal import Decimal

from market_client import Strategy


class Lifter(Strategy):
    """Takes the best ask, once per new ask price, three times at most."""

    symbols = ("ACME",)
    PRICE_SHIFT = "0"

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[str] = []
        self.filled: list[str] = []

    async def on_book(self, sym: str) -> None:
        ask = self.best_bid_ask(sym)["ask"]
        if ask is not None and ask not in self.taken and len(self.taken) < 3:
            self.taken.append(ask)
            price = self.round_price(sym, Decimal(ask) + Decimal(self.PRICE_SHIFT))
            await self.buy(sym, 1, price, tif="IOC")

    async def on_fill(self, order, fill) -> None:
        self.filled.append(fill["price"])
'''


def lifter(tmp_path: Path, shift: str = "0") -> tuple[Path, Strategy]:
    path = tmp_path / f"lifter{shift}.py"
    path.write_text(textwrap.dedent(LIFTER).replace('PRICE_SHIFT = "0"', f'PRICE_SHIFT = "{shift}"'))
    from market_client._cli import load_strategy

    return path, load_strategy(path)


async def record_a_session(tmp_path: Path) -> tuple[Path, list[int]]:
    """Run the lifter live on a FakeVenue while the house offers three prices; returns (recording, fill ids)."""
    recording = tmp_path / "session.jsonl.gz"
    _, strategy = lifter(tmp_path)
    async with FakeVenue() as venue:
        venue.add_user("ann", "annpw")
        stop = asyncio.Event()
        run = asyncio.create_task(
            run_live(strategy, venue.url, username="ann", password="annpw", stop=stop, record=recording)
        )
        await venue.until(lambda: venue.requests.count("account.get") >= 1, timeout=60)
        for n, price in enumerate(("101.00", "101.50", "102.00"), start=1):
            venue.house_order("ACME", "sell", price, 1)
            # the strategy saw its fill: the next ask is news to it, and stopping now loses no event
            await venue.until(lambda n=n: len(strategy.filled) >= n, timeout=60)  # type: ignore[attr-defined,misc]
        stop.set()
        summary = await run
    assert summary.errors == 0 and len(summary.fills) == 3
    return recording, [int(f["fill_id"]) for f in summary.fills]


async def test_a_replay_makes_the_live_decisions_and_fills_every_time(tmp_path: Path) -> None:
    recording, live_fills = await record_a_session(tmp_path)
    header, frames = read_recording(recording)
    assert header["recording"] == 1 and {f["sock"] for f in frames} == {"cmd", "md"}
    sent = [f["frame"]["op"] for f in frames if f["dir"] == "out"]
    assert sent.count("order.place") == 3 and "md.subscribe" in sent
    assert all(isinstance(f["t"], float) for f in frames)

    first = await run_replay(lifter(tmp_path)[1], recording)
    second = await run_replay(lifter(tmp_path)[1], recording)
    assert first.divergences == []
    assert [d.split()[4] for d in first.decisions[:3]] == ["101.00", "101.50", "102.00"]
    assert first.decisions[3:] == ["order.cancel_all None"]  # the clean shutdown, as recorded
    assert [int(f["fill_id"]) for f in first.fills] == live_fills
    assert (first.decisions, first.fills, first.events) == (second.decisions, second.fills, second.events)

    # Another strategy (a tick higher) is told where it leaves the recording.
    other = await run_replay(lifter(tmp_path, "0.01")[1], recording)
    assert other.fills == [] and len(other.divergences) == 3 and other.errors == 3  # each refused NOT_IN_RECORDING
    assert other.divergences[0] == "order.place ACME buy limit 101.01 1: the recording has ACME buy limit 101.00 1"

    # The command line says the same.
    path, _ = lifter(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "market_client", "replay", str(recording), "--strategy", str(path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0
    assert b"4 decisions (0 not as recorded), 3 fills (3 traded)" in out


async def test_a_client_records_both_sockets_until_closed(tmp_path: Path) -> None:
    async with FakeVenue() as venue, MarketClient(venue.url) as client:
        with client.record(tmp_path / "r.gz") as recording:
            await client.place_order("ACME", "buy", "99.00", 1)
            venue.house_order("ACME", "sell", "101.00", 1)
            # the tap records a frame before the client applies it: a book showing the ask means its delta is written
            await venue.until(lambda: client.best_bid_ask("ACME", allow_stale=True)["ask"] == "101.00", timeout=60)
        frames_then = recording.frames
        await client.place_order("ACME", "buy", "98.00", 1)
    _, frames = read_recording(tmp_path / "r.gz")
    assert len(frames) == frames_then
    ops = [(f["sock"], f["dir"], f["frame"]["op"]) for f in frames]
    # one frame acknowledges the order: its response, which the recording holds as it came
    assert ("cmd", "out", "order.place") in ops and ("cmd", "in", "order.place") in ops
    assert ("md", "in", "md.delta") in ops


class Clocked(Strategy):
    """Notes the clock and the book's seq at each timer."""

    symbols = ("ACME",)
    timer_s = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.timers: list[tuple[int, int]] = []

    async def on_timer(self) -> None:
        self.timers.append((self.now_ms(), self.book("ACME")["seq"]))


def write_recording(path: Path, frames: list[tuple[int, dict[str, Any]]]) -> None:
    """A recording in the documented format: a header line, then one line per frame received on MD."""
    with gzip.open(path, "wb") as file:
        file.write(orjson.dumps({"recording": 1, "started": 0, "base_url": "http://recorded"}) + b"\n")
        for t, frame in frames:
            file.write(orjson.dumps({"t": t, "sock": "md", "dir": "in", "frame": frame}) + b"\n")


async def test_replayed_timers_fire_at_their_due_times_between_the_recorded_frames(tmp_path: Path) -> None:
    def md(op: str, **payload: Any) -> dict[str, Any]:
        return {"type": "event", "ver": 1, "msg_id": "s", "ts": 0, "op": op, "payload": {"sym": "ACME", **payload}}

    recording = tmp_path / "timed.jsonl.gz"
    write_recording(
        recording,
        [
            (1000, md("md.snapshot", seq=1, status="trading", bids=[["99.00", 1]], asks=[])),
            (1100, md("md.delta", seq=2, bids=[["99.00", 2]], asks=[])),
            (1900, md("md.delta", seq=3, bids=[["99.00", 3]], asks=[])),
            (2600, md("md.delta", seq=4, bids=[["99.00", 4]], asks=[])),
        ],
    )
    runs = []
    for _ in range(2):
        strategy = Clocked()
        await run_replay(strategy, recording)
        runs.append(strategy.timers)
    # armed at the first frame (1000): due at 1500, 2000 and 2500, each seeing only the frames before it
    assert runs[0] == [(1500, 2), (2000, 3), (2500, 3)] == runs[1]
