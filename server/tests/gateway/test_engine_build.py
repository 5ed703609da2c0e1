"""The server says which engine build it runs, and runs the pure-Python core when the compiled one cannot load."""

from __future__ import annotations

from pathlib import Path

from hftsim.testing import ServerProcess, without_compiled_engine


def test_a_server_without_its_compiled_core_says_so_once_and_trades(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env=without_compiled_engine(tmp_path / "site"))
    server.start()
    try:
        lines = [line for line in server.log().splitlines() if "engine: " in line]
        assert len(lines) == 1, server.log()
        assert "engine: running the pure-Python core: the compiled core does not import" in lines[0]
    finally:
        server.stop()


def test_a_built_server_runs_the_compiled_core(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", log_level="info")
    server.start()
    try:
        assert "engine: compiled core (mypyc)" in server.log()
    finally:
        server.stop()
