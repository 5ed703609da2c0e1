"""`python -m bench.engine_instructions`: the engine's instructions per command of the mix, counted by callgrind.

The engine's profile rounds in bench/README.md are measured so: the mix of
`bench/mix.py`, its first `--skip` commands applied uncounted (the books
fill to their usual depth), then `--window` commands applied through `map`
inside `deque.extend`, with callgrind counting only inside that call
(`--toggle-collect=deque_extend`): the engine's work and the freeing of
each result, no Python frame per command. The child prints the engine's
`state_hash()` at the end, so two builds can be seen to have done the
same thing, and which build ran (a stale compiled build runs as plain
Python: `make setup` first). Instructions do not swing with the machine's load as CPU time
does; compare builds run against run all the same (a few tenths of a
percent apart between runs of one build).

`--out FILE` keeps the callgrind file for `callgrind_annotate --inclusive=yes FILE`.
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from itertools import repeat
from pathlib import Path

from hftsim.compiled import ORDER_PATH
from hftsim.config import load

from .engine import TS
from .mix import make_mix, new_engine


def child(skip: int, window: int) -> None:
    """Run under callgrind: the uncounted commands, then the counted window inside `deque.extend`."""
    mix = make_mix(skip + window, load().instruments())
    engine = new_engine(mix.instruments)
    apply = engine.apply
    commands = mix.commands
    gc.collect()
    gc.freeze()
    for command in commands[:skip]:
        apply(command, TS)
    deque(map(apply, commands[skip:], repeat(TS)), maxlen=0)
    print(engine.state_hash())


def count(skip: int, window: int, out: Path) -> tuple[float, str]:
    """Instructions per command of the window, and the engine's state hash at its end."""
    run = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--toggle-collect=deque_extend", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.engine_instructions", "--child", "--skip", str(skip), "--window", str(window),
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    total = re.search(r"^(?:totals|summary): (\d+)", out.read_text(errors="replace"), re.M)
    if total is None:
        raise RuntimeError(f"callgrind wrote no total to {out}: {run.stderr[-2000:]}")
    return int(total.group(1)) / window, run.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_instructions", description=__doc__.splitlines()[0])
    parser.add_argument("--skip", type=int, default=120_000, metavar="N", help="commands applied before counting")
    parser.add_argument("--window", type=int, default=20_000, metavar="N", help="commands counted")
    parser.add_argument("--out", type=Path, metavar="FILE", help="keep the callgrind file here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.skip, args.window)
        return
    if shutil.which("valgrind") is None:
        print("skipped: valgrind is not installed (apt-get install valgrind)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "callgrind.out"
        per_command, state_hash = count(args.skip, args.window, out.resolve())
    print(f"instructions per command, the mix's commands {args.skip:,}-{args.skip + args.window:,}: {per_command:,.0f}")
    print(f"state_hash {state_hash}; {ORDER_PATH.note}")


if __name__ == "__main__":
    main()
