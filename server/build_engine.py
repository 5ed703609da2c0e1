"""Compile the engine core (src/hftsim/engine/core/*.py) with mypyc into extension modules beside the sources.

`make setup` runs this. The server uses the compiled core when it is present
and current, and the same source as plain Python otherwise (see
hftsim/engine/build.py), so a machine without a C compiler still runs.
Generated C and object files go to server/build/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mypyc.build import mypycify
from setuptools import setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
CORE = Path("hftsim/engine/core")
BUILD = HERE / "build"


def main() -> None:
    os.chdir(SRC)  # mypyc names modules by their path from here
    paths = sorted(str(p) for p in CORE.glob("*.py") if p.name != "__init__.py")
    modules = mypycify(paths, opt_level="3", group_name="hftsim_engine_core", target_dir=str(BUILD / "mypyc"))
    setup(
        name="hftsim-engine-core",
        ext_modules=modules,
        script_args=["build_ext", "--inplace", "--build-temp", str(BUILD / "temp"), "--build-lib", str(BUILD / "lib")],
    )
    for built in [*CORE.glob("*.so"), *Path().glob("hftsim_engine_core__mypyc*")]:
        built.touch()  # the per-module shims are copied with their old times when unchanged; the build is new
    print(f"engine: compiled {len(paths)} core modules with mypyc", file=sys.stderr)


if __name__ == "__main__":
    main()
