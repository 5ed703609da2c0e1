"""Compile a group of modules with mypyc into extension modules beside their sources.

`make setup` runs it twice: `order` (the engine core and the gateway's order
path, one group: `MODULES` in hftsim/compiled.py) and `sim` (the agents'
simulation core, `SIM` there). The server uses a group's compiled modules
when they are present and built from the sources as they are (the build
lists each source's SHA-256 beside the library), and the same sources as
plain Python otherwise, so a machine without a C compiler still runs. The two groups are
compiled apart: the agents call the engine as Python objects, so either may
run from source while the other runs compiled. Generated C and object files
go to server/build/GROUP/.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

from mypyc.build import mypycify
from setuptools import setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
BUILD = HERE / "build"
GROUPS = ("order", "sim")
"""The groups of hftsim/compiled.py's `GROUPS`."""


def listing() -> ModuleType:
    """hftsim/compiled.py loaded alone: importing hftsim would load the very files this replaces."""
    spec = importlib.util.spec_from_file_location("hftsim_compiled_modules", SRC / "hftsim" / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is made
    spec.loader.exec_module(module)
    return module


def group_paths(group: str) -> tuple[str, list[str]]:
    """The group's library name and its modules' source paths relative to src/, from hftsim/compiled.py."""
    if group not in GROUPS:
        raise SystemExit(f"unknown group {group!r}: {' or '.join(GROUPS)}")
    found = listing().GROUPS[group]
    return found.library, [str(Path(*name.split(".")).with_suffix(".py")) for name in found.modules]


def main(group: str) -> None:
    started = time.monotonic()
    os.chdir(SRC)  # mypyc names modules by their path from here
    name, paths = group_paths(group)
    compiled = listing()
    texts = {path: compiled.digest(Path(path)) for path in paths}  # before mypyc reads them: an edit meanwhile shows
    modules = mypycify(paths, opt_level="3", group_name=name, target_dir=str(BUILD / group / "mypyc"))
    setup(
        name=f"hftsim-{group}-compiled",
        ext_modules=modules,
        script_args=[
            "build_ext",
            "--inplace",
            "--build-temp",
            str(BUILD / group / "temp"),
            "--build-lib",
            str(BUILD / group / "lib"),
        ],
    )
    compiled.sources(name).write_text("".join(f"{hexdigest}  {path}\n" for path, hexdigest in texts.items()))
    print(f"{group}: compiled {len(paths)} modules with mypyc in {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: build_compiled.py {'|'.join(GROUPS)}")
    main(sys.argv[1])
