"""`python -m bench.instructions`: the server's instructions per order, counted by callgrind.

CPU time on a shared machine swings with its load; the instructions an
order costs do not, so a change to the order path is measured here. The
server runs under callgrind (`valgrind --tool=callgrind
--instr-atstart=no`, its timers slowed by `bench/_callgrind_server.py`),
one lean client (`bench/lean.py`) sends warm-up orders uncounted, the
resting ones are canceled, counting is switched on (`callgrind_control -i
on`), then the client sends orders pipelined (`transport.WINDOW` in flight)
and then one at a time, alternating buy and sell at one price as
`bench/transport.py`'s pipelined run does (with `--client-order-ids`, each
order names itself by its msg_id, as `MarketClient.place_order`'s do). One
user's buy and sell at one price never trade (the engine cancels the resting
one: no self-trade), so with `--fills` two users send them, one selling and
one buying, each with `WINDOW` in flight (one at a time, in turn), and every
order after the first fills: the fills, their events and the accounts'
updates are counted. Each phase ends with a dump
(`callgrind_control -d`, which also zeroes the counters), and a dump's
total divided by its orders is the figure. Compare builds run by run
(alternated, medians of several runs), not against a figure from another
day: the counts shift by a few percent between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import uvloop
from hftsim.testing import ServerProcess

from .gateway import handshake
from .lean import LeanWs
from .transport import CONFIG, WINDOW, Side, cancel_all, order

PHASES = ("pipelined", "lone")
START_TIMEOUT_S = 300.0
"""Under valgrind the server starts far slower than the 30 s `ServerProcess.start` waits by default."""


def crossing(msg_id: str, i: int) -> bytes:
    """Buy and sell in turn at one price, so half the orders fill and the book stays shallow."""
    return order(msg_id, "buy" if i % 2 else "sell", "100.00")


def crossing_named(msg_id: str, i: int) -> bytes:
    """`crossing`'s orders, each with its msg_id as its client_order_id (the SDK's way)."""
    return order(msg_id, "buy" if i % 2 else "sell", "100.00", client_order_id=msg_id)


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def one_side(side: str, named: bool) -> Callable[[str, int], bytes]:
    """Orders of one side at `crossing`'s price (named by their msg_ids with `named`)."""

    def make(msg_id: str, i: int) -> bytes:
        return order(msg_id, side, "100.00", client_order_id=msg_id if named else None)

    return make


async def connect(server: ServerProcess) -> LeanWs:
    """A lean client logged in as a guest of its own."""
    url = server.url.replace("http://", "ws://") + "/ws/cmd"
    return await LeanWs.open(url, handshake(server.url, guest=True)["token"])


async def one_at_a_time(sides: list[Side], n: int) -> None:
    """`n` orders, one in flight, the sides in turn."""
    for i in range(n):
        await sides[i % len(sides)].acks(1)


async def pipelined(sides: list[Side], n: int) -> None:
    """`n` orders shared by the sides, each side keeping `WINDOW` in flight."""
    await asyncio.gather(*(side.pipelined(n // len(sides)) for side in sides))


async def drive(server: ServerProcess, warmup: int, n_pipelined: int, lone: int, named: bool, fills: bool) -> None:
    """The orders of one run; the counted phases each end with a dump named after the phase."""
    pid = server.pid
    leans = [await connect(server) for _ in range(2 if fills else 1)]
    if fills:
        sides = [
            Side("seller", leans[0], one_side("sell", named), pid),
            Side("buyer", leans[1], one_side("buy", named), pid),
        ]
    else:
        sides = [Side("gateway", leans[0], crossing_named if named else crossing, pid)]
    try:
        await one_at_a_time(sides, warmup)
        for lean in leans:
            await cancel_all(server.url, lean)
        control(pid, "-i", "on")
        await pipelined(sides, n_pipelined)
        control(pid, "-d", "pipelined")
        await one_at_a_time(sides, lone)
        control(pid, "-d", "lone")
        control(pid, "-i", "off")
    finally:
        for lean in leans:
            await lean.close()


def totals(out: Path, pid: int) -> dict[str, int]:
    """Each phase's instruction total, from the dump whose trigger names it."""
    found: dict[str, int] = {}
    for path in out.glob(f"callgrind.{pid}*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: (.*)$", text, re.M)
        total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
        if trigger and total:
            for phase in PHASES:
                if phase in trigger.group(1):
                    found[phase] = int(total.group(1))
    return found


def count(out: Path, warmup: int, pipelined: int, lone: int, named: bool, fills: bool) -> dict[str, float]:
    """Instructions per order of each phase, from one server run under callgrind."""
    launcher = (
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}/callgrind.%p",
        sys.executable, "-m", "bench._callgrind_server",
    )  # fmt: skip
    server = ServerProcess(out / "server", config=CONFIG, launcher=launcher)
    server.start(timeout=START_TIMEOUT_S)
    pid = server.pid
    try:
        uvloop.run(drive(server, warmup, pipelined, lone, named, fills))
    finally:
        server.stop()
    found = totals(out, pid)
    if missing := [phase for phase in PHASES if phase not in found]:
        raise RuntimeError(f"callgrind wrote no dump for {', '.join(missing)} in {out} (see {server.log_path})")
    orders = {"pipelined": pipelined - pipelined % (2 if fills else 1), "lone": lone}  # shared by the sides
    return {phase: found[phase] / orders[phase] for phase in PHASES}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--pipelined", type=int, default=2_000, metavar="N", help=f"orders, {WINDOW} in flight")
    parser.add_argument("--lone", type=int, default=500, metavar="N", help="orders one at a time")
    parser.add_argument("--warmup", type=int, default=300, metavar="N", help="orders before counting")
    parser.add_argument(
        "--client-order-ids", action="store_true", help="each order carries a client_order_id, as the SDK's do"
    )
    parser.add_argument("--fills", action="store_true", help="two users, one selling and one buying: every order fills")
    parser.add_argument("--out", type=Path, metavar="DIR", help="keep the callgrind dumps here (callgrind_annotate)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("skipped: valgrind is not installed (apt-get install valgrind)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        per_order = count(out.resolve(), args.warmup, args.pipelined, args.lone, args.client_order_ids, args.fills)
    labels = {
        "pipelined": f"pipelined ({WINDOW} in flight, {args.pipelined} orders)",
        "lone": f"one at a time ({args.lone} orders)",
    }
    for phase in PHASES:
        print(f"instructions per order, {labels[phase]}: {per_order[phase] / 1000:.1f}k")


if __name__ == "__main__":
    main()
