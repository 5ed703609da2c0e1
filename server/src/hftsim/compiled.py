"""The compiled builds: the engine core with the gateway's order path, and the agents' simulation core.

`make setup` compiles the modules of `MODULES` (`server/build_compiled.py
order`) into extension modules beside their sources, with one shared library
for all of them (`hftsim_compiled__mypyc`): the engine core, and the
gateway's way from frame to engine queue and from engine result to answer.
In one group, compiled code calls the other modules' functions as C
functions and reads their classes' attributes as struct fields: the gateway
reads the engine's results, orders and events directly, where two groups
read them through generic attribute lookups. So the group runs compiled or
from source as a whole: `select()` (run once, when `hftsim` is imported)
takes the compiled build when every module has a compiled file, its source
is the very text the build compiled (the build lists each source's SHA-256
beside the library, in the form `sha256sum -c` reads: `sources`) and the
library imports; otherwise it makes every module
of the group load from its source, so the server runs the same code more
slowly, and the group's `note` says which build runs and why, for the
server to log at start.

The agents' simulation core (`SIM`, `server/build_compiled.py sim`) is a
group of its own, selected the same way and independently: the agents read
the engine through its Python methods either way, and an agent's change
leaves the engine and the gateway compiled while it waits for a rebuild.
Its classes that a snapshot pickles are marked `serializable` (mypyc
otherwise rebuilds an object by calling `__init__` without arguments) and
`allow_interpreted_subclasses` (without it mypyc's constructor of a
serializable class skips `__init__`).

This module imports nothing of hftsim: the build script loads it on its own
for the list of modules.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from pathlib import Path
from types import ModuleType

SRC = Path(__file__).resolve().parent.parent
"""The directory that holds the `hftsim` package (module paths are relative to it)."""
CORE = tuple(
    f"hftsim.engine.core.{name}"
    for name in ("events", "accounts", "orders", "book", "checks", "settlement", "matching", "auction", "engine")
)
"""The engine core's modules, in dependency order (core/__init__.py stays plain)."""
COMMANDS = "hftsim.engine.commands"
"""The engine's commands, compiled with the core that reads their fields (see the module)."""
GATEWAY = (
    "hftsim.gateway.clock",
    "hftsim.protocol.jsontext",
    "hftsim.store.codec",
    "hftsim.store.framing",
    "hftsim.store.segments",
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
    "hftsim.gateway.latency",
    "hftsim.gateway.order_limits",
    "hftsim.gateway.hub",
    "hftsim.store.history",
    "hftsim.gateway.readmodels",
    "hftsim.gateway.dispatch",
    "hftsim.gateway.sockets",
)
"""The gateway's order path: the order's way from frame to engine and back."""
MODULES = (COMMANDS, *CORE, *GATEWAY)
"""The engine's commands and core and the gateway's order path, compiled as one group."""


def source(module: str) -> Path:
    """The source file of a dotted module name."""
    return SRC.joinpath(*module.split(".")).with_suffix(".py")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sources(library: str) -> Path:
    """The list of what the group's build compiled: a source's SHA-256 and its path from `SRC`, one a line.

    Times would not do: a checkout or a rebase makes an unchanged source newer than its build, and an edit made
    while a build runs is older than the files the build writes at its end."""
    return SRC / f"{library}__mypyc.sources"


def read_sources(path: Path) -> dict[str, str]:
    """Path from `SRC` -> SHA-256, as the build listed them (empty when there is no list)."""
    if not path.is_file():
        return {}
    return {name: hexdigest for hexdigest, name in (line.split(None, 1) for line in path.read_text().splitlines())}


def stale(sources: Iterable[tuple[str, Path]], what: str, built: Mapping[str, str]) -> str | None:
    """None when every source (its path from `SRC`, its file) has a compiled file beside it and is the text the
    build compiled (`built`: path -> SHA-256), else what is wrong."""
    for name, path in sources:
        if not any(path.with_suffix(suffix).exists() for suffix in EXTENSION_SUFFIXES) or name not in built:
            return f"the compiled {what} is not built"
        if built[name] != digest(path):
            return f"the compiled {what} was built from another {name}"
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


SIM = tuple(
    f"hftsim.sim.{name}"
    for name in (
        "schedule",
        "day",
        "fairvalue",
        "market",
        "anticipation",
        "symbol",
        "agents.base",
        "agents.market_maker",
        "agents.liquidity",
        "agents.noise",
        "agents.momentum",
        "agents.mean_reversion",
        "agents.informed",
        "agents.institutional",
        "simulation",
    )
)
"""The agents' simulation core: every wake-up of every agent runs through it (its settings, the runner and the
remote mode stay plain Python)."""


@dataclass
class Group:
    """Modules compiled into one shared library, run compiled or from source together."""

    library: str
    """Its shared library is `<library>__mypyc` beside the `hftsim` package."""
    modules: tuple[str, ...]
    name: str
    """Short, for what is wrong with it: "the compiled <name> is not built"."""
    part: str
    """What it holds, for the server's log line."""
    compiled: bool = False
    """True once `select()` found the build current and importable."""
    note: str = "build not selected yet"
    """Which build runs and why, for the server to log at start."""

    def problem(self) -> str | None:
        """None when the compiled files are current and the library imports, else what is wrong."""
        found = stale(
            ((m.replace(".", "/") + ".py", source(m)) for m in self.modules),
            self.name,
            read_sources(sources(self.library)),
        )
        if found is None:
            try:
                importlib.import_module(f"{self.library}__mypyc")
            except ImportError as exc:
                return f"the compiled {self.name} does not import ({exc})"
        return found


ORDER_PATH = Group("hftsim_compiled", MODULES, "order path", "the engine core and the gateway's order path")
SIMULATION = Group("hftsim_sim", SIM, "simulation", "the agents' simulation")
GROUPS = {"order": ORDER_PATH, "sim": SIMULATION}
"""Each group by the name `server/build_compiled.py` takes."""


def select() -> None:
    """Run each group compiled when it is current and its library imports, else every module of it from source."""
    for group in GROUPS.values():
        wrong = group.problem()
        group.compiled = wrong is None
        if group.compiled:
            group.note = f"compiled with mypyc: {group.part}"
        else:
            sys.meta_path.insert(0, FromSource(group.modules))
            group.note = f"running {group.part} as plain Python: {wrong}; `make setup` compiles it"
