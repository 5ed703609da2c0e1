"""Which build of the engine core runs: compiled, or the same source as plain Python.

`make setup` compiles `engine/core/` with mypyc (`server/build_compiled.py`)
into extension modules beside the sources. `select()` (run once, when
`hftsim.engine` is imported) uses them when every module has one at least
as new as its source and they import; otherwise it makes
`hftsim.engine.core` load from source, so the server still runs, and
`NOTE` says which build runs and why, for the server to log at start.

`pure()` loads the plain-Python twin beside the compiled one (as
`hftsim.engine.pure`), for tests and benchmarks that compare the two. The
twin shares the event classes of the running build, so code that reads
events (`isinstance`, equality) reads both engines' alike.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from ..compiled import stale

CORE = "hftsim.engine.core"
PURE = "hftsim.engine.pure"
CORE_DIR = Path(__file__).with_name("core")
MODULES = ("events", "accounts", "orders", "book", "checks", "settlement", "matching", "auction", "engine")
"""The compiled modules, in dependency order (core/__init__.py stays plain)."""

COMPILED = False
"""True once `select()` found the compiled core current and importable."""
NOTE = "engine core not selected yet"


class SourceOnly(importlib.abc.MetaPathFinder):
    """Loads the package `name` and its modules from core/*.py, never from the compiled files beside them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == self.name:
            return importlib.util.spec_from_file_location(
                fullname, CORE_DIR / "__init__.py", submodule_search_locations=[str(CORE_DIR)]
            )
        if fullname.startswith(self.name + "."):
            return importlib.util.spec_from_file_location(fullname, CORE_DIR / f"{fullname.rpartition('.')[2]}.py")
        return None


def compiled_files_problem() -> str | None:
    """None when every core module has a compiled file at least as new as its source, else what is wrong."""
    return stale(((f"core/{name}.py", CORE_DIR / f"{name}.py") for name in MODULES), "core")


def _forget(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]


def select() -> None:
    """Make `hftsim.engine.core` the compiled core when it is current and imports, else its source."""
    global COMPILED, NOTE
    problem = compiled_files_problem()
    if problem is None:
        try:
            importlib.import_module(f"{CORE}.engine")
        except ImportError as exc:
            problem = f"the compiled core does not import ({exc})"
            _forget(CORE)
        else:
            COMPILED = True
            NOTE = "engine: compiled core (mypyc)"
            return
    sys.meta_path.insert(0, SourceOnly(CORE))
    NOTE = f"engine: running the pure-Python core: {problem}; `make setup` builds the compiled one"


def pure() -> ModuleType:
    """The plain-Python twin's engine module (`hftsim.engine.pure.engine`), loaded on first use."""
    if not any(isinstance(f, SourceOnly) and f.name == PURE for f in sys.meta_path):
        sys.modules[f"{PURE}.events"] = importlib.import_module(f"{CORE}.events")
        sys.meta_path.insert(0, SourceOnly(PURE))
    return importlib.import_module(f"{PURE}.engine")
