"""The machine a run was made on: what the README states above the table."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("hftsim", "market-client", "websockets", "uvicorn", "uvloop", "httptools", "starlette", "fastapi",
             "orjson", "pydantic", "httpx")  # fmt: skip


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def code() -> dict[str, Any]:
    """Which server and client code was measured, and at which commit.

    `HFTSIM_BENCH_CODE_COMMIT` names the commit when the code comes from an
    export of it (e.g. `git archive` put first on PYTHONPATH); otherwise the
    repository's HEAD, flagged when the server or client has uncommitted changes.
    """
    import hftsim
    import market_client

    repo = Path(__file__).resolve().parent.parent

    def where(module: Any) -> str:
        """The package's folder within the repository, or "export" when it was imported from elsewhere."""
        folder = Path(module.__file__).resolve().parent
        return str(folder.relative_to(repo)) if folder.is_relative_to(repo) else "export"

    paths = {"hftsim": where(hftsim), "market_client": where(market_client)}
    commit = os.environ.get("HFTSIM_BENCH_CODE_COMMIT")
    if commit:
        return {**paths, "commit": commit, "uncommitted_changes": False}
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "server/src", "market-client/src"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return {**paths, "commit": None, "uncommitted_changes": None}
    return {**paths, "commit": head, "uncommitted_changes": bool(dirty)}


def info() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_bytes": memory_total(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "libraries": versions(),
        "code": code(),
    }
