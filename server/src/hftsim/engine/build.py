"""The engine core's plain-Python twin, loaded beside the running build.

Which build of the core runs, compiled or its source, is decided with the
gateway's order path as one group (`hftsim/compiled.py`). `pure()` loads
the plain-Python twin of the core beside it (as `hftsim.engine.pure`), for
tests and benchmarks that compare the two. The twin shares the event
classes of the running build, so code that reads events (`isinstance`,
equality) reads both engines' alike.
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

CORE = "hftsim.engine.core"
PURE = "hftsim.engine.pure"
CORE_DIR = Path(__file__).with_name("core")


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


def pure() -> ModuleType:
    """The plain-Python twin's engine module (`hftsim.engine.pure.engine`), loaded on first use."""
    if not any(isinstance(f, SourceOnly) and f.name == PURE for f in sys.meta_path):
        sys.modules[f"{PURE}.events"] = importlib.import_module(f"{CORE}.events")
        sys.meta_path.insert(0, SourceOnly(PURE))
    return importlib.import_module(f"{PURE}.engine")
