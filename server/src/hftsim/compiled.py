"""The order path's gateway modules, compiled with mypyc, or their sources when the build is missing or stale.

`make setup` compiles the modules of `GATEWAY` (`server/build_compiled.py
gateway`) into extension modules beside their sources, one shared library
for the group (`hftsim_gateway__mypyc`): frame to engine queue and engine
result to answer, where the interpreter spent three quarters of an order's
CPU. Compiled code calls the group's other modules directly, not through
their Python modules, so the group runs compiled or from source as a whole:
`select()` (run once, when `hftsim` is imported) takes the compiled group
when every module has a compiled file at least as new as its source and the
group's library imports; otherwise it makes every module of the group load
from its source, so the server runs the same code more slowly, and `NOTE`
says which build runs and why, for the server to log at start.

This module imports nothing of hftsim: the build script loads it on its own
for the list of modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from pathlib import Path
from types import ModuleType

SRC = Path(__file__).resolve().parent.parent
"""The directory that holds the `hftsim` package (module paths are relative to it)."""
GATEWAY = (
    "hftsim.store.codec",
    "hftsim.protocol.envelope",
    "hftsim.protocol.payloads",
    "hftsim.protocol.render",
    "hftsim.protocol.events",
    "hftsim.gateway.ratelimit",
    "hftsim.gateway.traffic",
    "hftsim.gateway.fairqueue",
    "hftsim.gateway.replies",
    "hftsim.gateway.sessions",
    "hftsim.gateway.outbox",
    "hftsim.gateway.sequencer",
    "hftsim.gateway.order_limits",
    "hftsim.gateway.hub",
    "hftsim.gateway.dispatch",
    "hftsim.gateway.sockets",
)
"""The compiled gateway's modules: the order's way from frame to engine and back."""
GATEWAY_GROUP = "hftsim_gateway"
"""The group's name: its shared library is `hftsim_gateway__mypyc` beside the `hftsim` package."""

COMPILED = False
"""True once `select()` found the compiled gateway current and importable."""
NOTE = "gateway build not selected yet"


def source(module: str) -> Path:
    """The source file of a dotted module name."""
    return SRC.joinpath(*module.split(".")).with_suffix(".py")


def stale(sources: Iterable[tuple[str, Path]], what: str) -> str | None:
    """None when every source (named, path) has a compiled file beside it at least as new, else what is wrong."""
    for name, path in sources:
        built = [path.with_suffix(suffix) for suffix in EXTENSION_SUFFIXES]
        present = [p for p in built if p.exists()]
        if not present:
            return f"the compiled {what} is not built"
        if present[0].stat().st_mtime < path.stat().st_mtime:
            return f"the compiled {what} is older than {name}"
    return None


class FromSource(importlib.abc.MetaPathFinder):
    """Loads the named modules from their .py files, never from the compiled files beside them."""

    def __init__(self, modules: Iterable[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname in self.modules:
            return importlib.util.spec_from_file_location(fullname, source(fullname))
        return None


def select() -> None:
    """Run the compiled gateway when it is current and its library imports, else every module's source."""
    global COMPILED, NOTE
    problem = stale(((m.replace(".", "/") + ".py", source(m)) for m in GATEWAY), "gateway")
    if problem is None:
        try:
            importlib.import_module(f"{GATEWAY_GROUP}__mypyc")
        except ImportError as exc:
            problem = f"the compiled gateway does not import ({exc})"
        else:
            COMPILED = True
            NOTE = "gateway: compiled order path (mypyc)"
            return
    sys.meta_path.insert(0, FromSource(GATEWAY))
    NOTE = f"gateway: running the order path as plain Python: {problem}; `make setup` builds the compiled one"
