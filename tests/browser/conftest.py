"""Browser tests: Playwright (sync API) driving Debian's chromium.

No browser is downloaded (``playwright install`` cannot reach its CDN): the
``browser`` fixture launches the executable named by ``DOORSTEP_CHROMIUM``
(default ``/usr/bin/chromium``, from ``apt-get install chromium fonts-noto-cjk``).
When it is missing the tests are skipped locally and fail under CI.

Every test in this directory is marked ``browser`` automatically, so
``pytest -m "not browser"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from tests.browser._live import serve  # type: ignore[import-not-found]

from doorstep.bootstrap import App

_HERE = Path(__file__).resolve().parent

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Milliseconds; keeps a stuck page from eating the CI budget.
DEFAULT_TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _chromium_executable() -> str:
    path = os.environ.get("DOORSTEP_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        message = (
            f"chromium not found at {path!r} (DOORSTEP_CHROMIUM). "
            "Install Debian's browser: apt-get install -y chromium fonts-noto-cjk"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope: Playwright's sync API keeps an event loop of its own, so it is
    # shut down as soon as the browser tests of a module are done and never
    # overlaps with asyncio code in the rest of the suite.
    _chromium_executable()
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=_chromium_executable(),
        args=CHROMIUM_ARGS,
        timeout=60_000,
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def base(wired: App) -> Iterator[str]:
    """The base URL of a live server over ``wired`` (tests/browser/_live.py)."""
    with serve(wired) as url:
        yield url


@pytest.fixture
def browser_context_args() -> dict[str, Any]:
    """Keyword arguments for ``browser.new_context``; override in a test module."""
    return {}


@pytest.fixture
def context(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[BrowserContext]:
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
