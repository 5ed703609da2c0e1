"""A newcomer's first `make run`, from a fresh clone: lean, talkative, and ready with a banner.

Clones the repository's HEAD into a temporary folder, runs `make run` there
on a free port, and checks what the README promises: each install step is
announced, the banner names the URL, `/healthz` answers 200, the website
is served, and the environment holds the runtime only (no pytest, no
playwright, no hypothesis, no ruff; mypy is there: its mypyc compiles the
engine, the order path and the agents). Prints the time to the banner; `make smoke` runs it. Not part
of `make test`: it installs a whole environment and takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
STEPS = ("[1/3] Python environment", "[2/3] runtime packages", "[3/3] website", "starting the exchange")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def check(condition: bool, what: str, output: str) -> None:
    if not condition:
        sys.exit(f"smoke: {what}\n--- make run said ---\n{output[-4000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the banner")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hftsim-smoke-"))
    clone = root / "hftsim"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", head.strip()], cwd=clone, check=True)
    port = free_port()
    out = root / "make-run.out"
    started = time.monotonic()
    with out.open("wb") as log:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"], cwd=clone, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while "is ready: open" not in out.read_text(errors="replace"):
            check(make.poll() is None, f"make run exited with {make.returncode} before the banner", out.read_text())
            check(time.monotonic() - started < args.timeout, "no banner in time", out.read_text())
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        text = out.read_text(errors="replace")
        for step in STEPS:
            check(step in text, f"make run did not announce {step!r}", text)
        check(f"open http://127.0.0.1:{port}" in text, "the banner does not name the URL", text)
        check(httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, "/healthz is not 200", text)
        check("<script" in httpx.get(f"http://127.0.0.1:{port}/").text, "the website is not served", text)
        site = clone / ".venv" / "lib"
        extras = [
            p.name
            for p in site.glob("python3*/site-packages/*")
            if re.match(r"(pytest|playwright|hypothesis|ruff)", p.name)
        ]
        check(not extras, f"make run installed test tools: {extras}", text)
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(30)
    shutil.rmtree(root, ignore_errors=True)
    print(f"smoke: a fresh clone's make run showed the banner after {elapsed:.0f} s; /healthz 200; runtime only")


if __name__ == "__main__":
    main()
