"""`python -m bench.sdk_instructions`: the SDK's own instructions per order, without a network, by callgrind.

CPU time on a shared machine swings with its load; instructions do not.
Each client of `bench/sdk_loopback.py` (`MarketClient.place_order`, and the
lean client) runs alone in a process under callgrind, once with `--orders`
orders after a fixed warm-up and once with the warm-up only; the
difference of the two totals divided by the orders is that client's
instructions per order (hot: a loop keeps the caches warm). Both talk to
the same in-process connection, which answers each order with the
gateway's ack frame, so the SDK's figure less the lean client's is what
the SDK adds per order. With `--socket` both talk to an in-process
picows server over a local socket instead, so their sockets (picows'
framing, the listeners' Python) are counted too; the kernel's work is
not (callgrind counts user space only). Python's hash seed is fixed, so two runs of one
code differ by a few hundred instructions per order at most; compare
codes run by run, alternated.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CLIENTS = ("sdk", "lean")


def total(out: Path, client: str, orders: int, warmup: int, socket: bool) -> int:
    """The instructions of one process running `warmup` and then `orders` orders of `client`."""
    dump = out / f"callgrind.{client}.{orders}"
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}",
         sys.executable, "-m", "bench.sdk_loopback", "--only", client, "--orders", str(orders),
         "--warmup", str(warmup), *(["--socket"] if socket else [])],
        check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    found = re.search(r"^(?:totals|summary): (\d+)", dump.read_text(errors="replace"), re.M)
    if found is None:
        raise RuntimeError(f"callgrind wrote no total in {dump}")
    return int(found.group(1))


def per_order(out: Path, client: str, orders: int, warmup: int, socket: bool) -> float:
    return (total(out, client, orders, warmup, socket) - total(out, client, 0, warmup, socket)) / orders


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000, metavar="N", help="orders counted")
    parser.add_argument("--warmup", type=int, default=300, metavar="N", help="orders before, in both runs")
    parser.add_argument(
        "--socket", action="store_true", help="over a local socket to an in-process server: the clients' sockets too"
    )
    parser.add_argument("--sdk-only", action="store_true", help="count the SDK alone (the lean client's is stable)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="keep the callgrind dumps here (callgrind_annotate)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("skipped: valgrind is not installed (apt-get install valgrind)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        clients = CLIENTS[:1] if args.sdk_only else CLIENTS
        where = out.resolve()
        figures = {client: per_order(where, client, args.orders, args.warmup, args.socket) for client in clients}
    if args.sdk_only:
        print(f"instructions per order, no network: SDK {figures['sdk'] / 1000:.1f}k")
        return
    print(f"instructions per order, no network: SDK {figures['sdk'] / 1000:.1f}k, lean client "
          f"{figures['lean'] / 1000:.1f}k, the SDK's own {(figures['sdk'] - figures['lean']) / 1000:.1f}k")  # fmt: skip


if __name__ == "__main__":
    main()
