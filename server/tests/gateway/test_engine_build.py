"""The server says which build it runs (the engine core and the gateway's order path, compiled as one), and runs
their sources when the compiled build cannot load."""

from __future__ import annotations

import os
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import hftsim.gateway.sockets as sockets
from hftsim import compiled
from hftsim.testing import ServerProcess, without_compiled_code

FALLBACK = (
    "running the engine core and the gateway's order path as plain Python: the compiled order path does not import"
)


def test_a_server_without_its_compiled_code_says_so_once_and_trades(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env=without_compiled_code(tmp_path / "site"))
    server.start()
    try:
        log = server.log()
        lines = [line for line in log.splitlines() if "gateway's order path as plain Python" in line]
        assert len(lines) == 1, log
        assert FALLBACK in lines[0]
    finally:
        server.stop()


def test_a_built_server_runs_the_compiled_build(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", log_level="info")
    server.start()
    try:
        assert "compiled with mypyc: the engine core and the gateway's order path" in server.log()
    finally:
        server.stop()


def test_the_tests_run_the_compiled_gateway() -> None:
    """`make setup` built it, so the tests exercise the code the server runs."""
    assert compiled.ORDER_PATH.compiled, compiled.ORDER_PATH.note
    assert sockets.__file__ is not None and sockets.__file__.endswith(tuple(EXTENSION_SUFFIXES))


def test_a_missing_or_stale_build_is_noticed(tmp_path: Path) -> None:
    names = ("hftsim/engine/core/checks.py", "hftsim/gateway/dispatch.py", "hftsim/protocol/envelope.py")
    sources = [(name, tmp_path / name) for name in names]
    for _, path in sources:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {path.stem}\n")
    listed = tmp_path / "group__mypyc.sources"
    listed.write_text("".join(f"{compiled.digest(path)}  {name}\n" for name, path in sources))
    built = compiled.read_sources(listed)
    assert compiled.stale(sources, "order path", built) == "the compiled order path is not built"
    for _, path in sources:
        path.with_suffix(EXTENSION_SUFFIXES[0]).write_text("")
    assert compiled.stale(sources, "order path", built) is None
    assert compiled.stale(sources, "order path", {}) == "the compiled order path is not built"
    for _, path in sources:  # a checkout or a rebase: newer files, the same text
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    assert compiled.stale(sources, "order path", built) is None
    for name, path in sources[0], sources[2]:  # an edit, even one older than the build's files
        text = path.read_text()
        path.write_text(text + "x = 1\n")
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 3600))
        assert compiled.stale(sources, "order path", built) == f"the compiled order path was built from another {name}"
        path.write_text(text)
    assert compiled.stale(sources, "order path", built) is None
