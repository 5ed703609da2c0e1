"""Peers: a third-party order book measured beside ours, in its own venv.

The peer is nautilus_trader (its order book is Rust behind a Cython API).
It is never installed into the project's venv: it pins uvloop==0.22.1 (the
server runs 0.23) and brings about 670 MB (numpy, pandas, pyarrow). So the
first `make bench` creates a separate venv outside the repository
(`~/.cache/hftsim-bench/peers`, or `$HFTSIM_BENCH_PEERS`), installs
`NAUTILUS` there (about 20 s on a good link), and runs
`bench/_nautilus_worker.py` in it as a subprocess. When that fails
(offline, no wheel for the platform) or with `--no-peers`, the nautilus
baselines are skipped and the report says why.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAUTILUS = "nautilus_trader==1.221.0"
WORKER = Path(__file__).with_name("_nautilus_worker.py")
INSTALL_TIMEOUT_S = 900


def peers_dir() -> Path:
    return Path(os.environ.get("HFTSIM_BENCH_PEERS", "~/.cache/hftsim-bench/peers")).expanduser()


def shown(path: Path) -> str:
    """`path` as the report may print it: under `~` rather than this machine's home."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


@dataclass(frozen=True)
class Nautilus:
    python: Path
    version: str

    def call(self, *args: str | int, timeout: float = 600) -> dict[str, Any]:
        """Run one worker command; its JSON answer."""
        proc = subprocess.run(
            [str(self.python), str(WORKER), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"nautilus worker {args[0]} failed:\n{proc.stderr[-2000:]}")
        answer: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return answer


@contextmanager
def handover(data: Any) -> Iterator[str]:
    """A pickle file holding `data` for the worker, removed afterwards."""
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        yield f.name
    finally:
        os.unlink(f.name)


class _Peers:
    def __init__(self) -> None:
        self.nautilus: Nautilus | None = None
        self.note = "peers not set up (smoke run, or --no-peers)"


PEERS = _Peers()


def setup(allow_install: bool, log: Any = print) -> None:
    """Find (or, when allowed, create) the peers venv; record why not when it cannot be had."""
    root = peers_dir()
    python = root / "bin" / "python"
    if not python.exists():
        if not allow_install:
            PEERS.note = f"nautilus_trader skipped: no peers venv at {root} and installing is off"
            return
        log(f"peers: installing {NAUTILUS} into {root} (once; about 670 MB)")
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(root)],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", NAUTILUS],
                check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
            )  # fmt: skip
        except (
            subprocess.CalledProcessError,
            subprocess.TimeoutExpired,
            OSError,
        ) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            PEERS.note = f"nautilus_trader skipped: installing it failed: {str(detail).strip()[-300:]}"
            log(f"peers: {PEERS.note}")
            return
    try:
        version = str(Nautilus(python, "?").call("version", timeout=120)["version"])
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as exc:
        PEERS.note = f"nautilus_trader skipped: the peers venv at {shown(root)} does not import it ({exc})"
        log(f"peers: {PEERS.note}")
        return
    PEERS.nautilus = Nautilus(python, version)
    PEERS.note = f"nautilus_trader {version} in a separate venv ({shown(root)})"


def nautilus() -> Nautilus | None:
    return PEERS.nautilus
