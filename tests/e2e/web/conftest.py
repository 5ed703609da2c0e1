"""Fixtures for the website tests: a real `hftsim serve`, Debian's Chromium
driven by Playwright, and screenshots of every page saved as artefacts.

The site must be built first (`make web`, i.e. `cd web && npm ci && npm run
build`); if it is not, the session builds it once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hftsim.testing import ServerProcess, server_process
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from .helpers import ADMIN, ARTIFACTS, REPO, STUDENT

WEB = REPO / "web"
STATIC_INDEX = REPO / "server" / "src" / "hftsim" / "web" / "static" / "index.html"
CHROMIUM = os.environ.get("HFTSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built website; built here if `make web` has not run."""
    if not STATIC_INDEX.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the website (web/)"
        if not (WEB / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    assert STATIC_INDEX.is_file(), f"website build output missing: {STATIC_INDEX}"
    return STATIC_INDEX.parent


@pytest.fixture(scope="session")
def browser(built_site: Path) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """A quiet market: no agents, so the tests make all the liquidity."""
    with server_process(tmp_path / "data", bots=False) as srv:
        yield srv


@pytest.fixture
def bot_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """A live market with the simulated agents trading."""
    with server_process(tmp_path / "data", bots=True) as srv:
        yield srv


@pytest.fixture
def class_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """A quiet market with an instructor (helpers.ADMIN) and a student (helpers.STUDENT)."""
    with server_process(tmp_path / "data", admins=dict([ADMIN]), traders=dict([STUDENT])) as srv:
        yield srv


@pytest.fixture
def scenario_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """A live market with the shipped scenarios (scenarios/) and nobody but the instructor."""
    config = {"scenarios": {"dir": str(REPO / "scenarios")}}
    with server_process(tmp_path / "data", bots=True, config=config, admins=dict([ADMIN])) as srv:
        yield srv


@pytest.fixture
def class_bot_server(tmp_path: Path, built_site: Path) -> Iterator[ServerProcess]:
    """The same accounts in a live market, the simulated agents trading."""
    with server_process(tmp_path / "data", bots=True, admins=dict([ADMIN]), traders=dict([STUDENT])) as srv:
        yield srv


PageFactory = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """Opens pages in fresh browser contexts; screenshots each one at the end of the test."""
    opened: list[tuple[Page, list[str]]] = []

    def make(url: str, width: int = 1440, height: int = 900, init_script: str | None = None) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
        page.goto(url)
        opened.append((page, errors))
        return page

    yield make

    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    problems: list[str] = []
    for i, (page, errors) in enumerate(opened):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}-{i}.png"))
        except PlaywrightError as exc:  # a crashed page must not hide the test's own result
            problems.append(f"screenshot failed: {exc}")
        problems += errors
        page.context.close()
    if problems:
        pytest.fail("page errors:\n" + "\n".join(problems))
