"""The real `hftsim serve`, as a newcomer starts it: the banner, /healthz, quiet sockets, one-line refusals."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import websockets

from hftsim.testing import free_port

HFTSIM = str(Path(sys.executable).with_name("hftsim"))


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], out: Path, err: Path, url: str) -> None:
        self.proc, self._out, self._err, self.url = proc, out, err, url

    @property
    def out(self) -> str:
        return self._out.read_text()

    @property
    def err(self) -> str:
        return self._err.read_text()


@contextmanager
def serve(tmp_path: Path, *args: str) -> Iterator[Served]:
    """`hftsim serve` in a process of its own; yields once /healthz answers 200."""
    port = free_port()
    out, err = tmp_path / f"{port}.out", tmp_path / f"{port}.err"
    cmd = [HFTSIM, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--no-bots", *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr)
    served = Served(proc, out, err, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"hftsim serve exited {proc.returncode}:\n{served.err}"
            assert time.monotonic() < deadline, served.err
            try:
                if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield served
    finally:
        proc.terminate()
        proc.wait(20)


async def open_and_close_a_socket(url: str) -> None:
    """A socket the server accepts, then closes (4002: no session token)."""
    async with websockets.connect(url.replace("http", "ws") + "/ws/md") as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.recv()


def test_serve_prints_the_banner_and_answers_healthz(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        assert httpx.get(f"{served.url}/healthz").json() == {"status": "ok"}
        asyncio.run(open_and_close_a_socket(served.url))
        taken = subprocess.run(
            [HFTSIM, "serve", "--port", served.url.rsplit(":", 1)[1], "--data-dir", str(tmp_path / "other")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        banner = served.out
    assert taken.returncode == 1
    assert taken.stderr.strip().splitlines() == [taken.stderr.strip()], "one line"
    assert taken.stderr.startswith("hftsim: port ") and "--port N" in taken.stderr and "Traceback" not in taken.stderr
    assert banner.startswith("HFT Simulator ")
    assert f"is ready: open {served.url}" in banner.splitlines()[0]
    for needed in ("ACME (tick 0.01)", "agents    off", "market    new", "guests    allowed", "--role admin", "docs"):
        assert needed in banner, banner
    assert "WebSocket" not in served.err, "socket lines are debug lines"
    assert "Uvicorn running on" in served.err


def test_json_logs_a_confirmed_reset_and_debug_socket_lines(tmp_path: Path) -> None:
    with serve(tmp_path, "--reset", "--log-format", "json", "--log-level", "debug") as served:
        asyncio.run(open_and_close_a_socket(served.url))
        deadline = time.monotonic() + 30
        while '"WebSocket /ws/md\\" closed' not in served.err:  # the close is logged as the server sees it
            assert time.monotonic() < deadline, served.err
            time.sleep(0.05)
    lines = [json.loads(line) for line in served.err.splitlines()]
    assert {line["logger"] for line in lines} >= {"hftsim.gateway.venue", "uvicorn.error"}
    assert any(line["msg"].startswith("--reset: opened a new market") for line in lines)
    sockets = [line for line in lines if "WebSocket /ws/md" in line["msg"]]
    assert [line["level"] for line in sockets] == ["DEBUG", "DEBUG"], sockets


def test_a_misspelt_setting_stops_the_start_in_plain_words(tmp_path: Path) -> None:
    config = tmp_path / "class.toml"
    config.write_text("[session]\nalow_guests = false\n")
    run = subprocess.run(
        [HFTSIM, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path), "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr == (
        "hftsim: invalid configuration:\n  session.alow_guests: unknown setting; did you mean session.allow_guests?\n"
    )


def test_a_data_dir_in_use_is_refused_in_one_line(tmp_path: Path) -> None:
    with serve(tmp_path):
        run = subprocess.run(
            [HFTSIM, "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"), "--no-bots"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("hftsim: ") and "Traceback" not in run.stderr
    assert "stop it" in run.stderr, run.stderr


def test_a_bad_port_or_data_dir_is_one_line_before_anything_opens(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    port = str(free_port())
    bad_port = subprocess.run([HFTSIM, "serve", "--port", "99999"], capture_output=True, text=True, timeout=60)
    bad_dir = subprocess.run(
        [HFTSIM, "serve", "--port", port, "--data-dir", str(not_a_dir)], capture_output=True, text=True, timeout=60
    )
    assert bad_port.returncode == 2 and "Traceback" not in bad_port.stderr
    assert "argument --port: '99999' is not a port: use a number from 1 to 65535" in bad_port.stderr
    assert bad_dir.returncode == 1
    assert bad_dir.stderr == f"hftsim: {not_a_dir} is a file, not a data directory; check --data-dir\n"


def test_serve_needs_no_cluster_extra(tmp_path: Path) -> None:
    """`make run` installs the runtime only: the in-process server must start without NATS installed."""
    script = (
        "import sys; sys.modules['nats'] = None\n"  # as if the cluster extra were not installed
        "from pathlib import Path\n"
        "from hftsim.config import load\n"
        "from hftsim.gateway.app import create_app\n"
        f"app = create_app(load(), Path({str(tmp_path)!r}), bots=False)\n"
        "app.state.venue.close()\n"
        "assert not [m for m in sys.modules if m.startswith('hftsim.cluster')], 'cluster modules imported'\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
