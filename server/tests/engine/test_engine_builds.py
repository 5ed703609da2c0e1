"""The engine's two builds: the compiled core runs when built, and the pure one takes over, saying so, when not."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import hftsim.engine as engine_package
from hftsim import compiled
from hftsim.engine import build
from hftsim.engine.core import engine as core_engine
from hftsim.testing import without_compiled_code


def test_the_compiled_core_runs() -> None:
    """`make setup` built it, so the tests (and the server) run compiled code; the twin runs the source."""
    assert compiled.ORDER_PATH.compiled, compiled.ORDER_PATH.note
    assert core_engine.__file__ is not None and core_engine.__file__.endswith(tuple(EXTENSION_SUFFIXES))
    pure = build.pure()
    assert pure.__file__ is not None and pure.__file__.endswith("engine.py")
    assert pure.Engine is not engine_package.Engine


def test_every_core_module_is_compiled() -> None:
    sources = {p.stem for p in build.CORE_DIR.glob("*.py")} - {"__init__"}
    assert {f"{build.CORE}.{name}" for name in sources} == set(compiled.CORE)


def test_a_compiled_core_that_does_not_import_falls_back_to_the_source(tmp_path: Path) -> None:
    script = (
        "import hftsim.engine as e\n"
        "from hftsim import compiled\n"
        "from hftsim.engine.core import engine\n"
        "from hftsim.gateway import sockets\n"
        "print(compiled.ORDER_PATH.compiled, engine.__file__.endswith('.py'), sockets.__file__.endswith('.py'))\n"
        "print(compiled.ORDER_PATH.note)\n"
        "from decimal import Decimal\n"
        "x = e.Engine([e.Instrument('A', Decimal('0.01'), 1, 1, 100, Decimal(10))], e.Limits(10, 10), 1000)\n"
        "print(x.apply(e.PlaceOrder(1, 'A', e.Side.BUY, 1, 100), 1).order.status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **without_compiled_code(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    flags, note, status = done.stdout.splitlines()
    assert flags == "False True True"
    assert note.startswith(
        "running the engine core and the gateway's order path as plain Python: the compiled order path does not import"
    )
    assert note.endswith("`make setup` compiles it")
    assert status == "new"
