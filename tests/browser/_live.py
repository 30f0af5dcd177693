"""A live doorstep server for the browser tests: uvicorn in a thread on a free loopback port,
and a signed-in phone page on it.

``serve`` is wrapped by the ``base`` fixture (tests/browser/conftest.py; test_pages_ux.py still
has a copy of its own). The server stops cleanly when the ``with`` block ends.
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from tests.browser._checks import Watch  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app

# Courier ids of the demo data → their usernames.
COURIER_USERS = {f"courier-sf-0{i}": f"courier{i}" for i in range(1, 5)} | {
    f"courier-yto-0{i}": f"courier{i + 4}" for i in range(1, 5)
}
PHONE = {"width": 390, "height": 844}
LANGS = {"zh": "zh-CN", "en": "en-US"}
# Milliseconds: a page that sticks fails the test instead of eating the CI budget.
TIMEOUT_MS = 15_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(wired: App) -> Iterator[str]:
    """Serve the API and pages over ``wired``; yields the base URL."""
    config = uvicorn.Config(
        create_app(wired),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",  # no websockets import, so no deprecation warnings from it
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def sign_in(page: Page, base: str, username: str) -> None:
    """Sign in through the form with the demo password."""
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(f"demo-{username}")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("form[action='/logout']")).to_be_visible()


@contextmanager
def phone_as(browser: Browser, base: str, username: str, lang: str) -> Iterator[tuple[Page, Watch]]:
    """A phone (390×844, touch) in ``lang`` ("zh" or "en") signed in as ``username``, its page
    watched for the page checks; the browser context is closed when the block ends."""
    context = browser.new_context(
        viewport=PHONE, locale=LANGS[lang], has_touch=True, is_mobile=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        watch = Watch().attach(page)
        sign_in(page, base, username)
        yield page, watch
    finally:
        context.close()


def jpeg_file(tmp: Path) -> Path:
    """A small photo to upload, as a camera would give it."""
    path = tmp / "door.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (190, 60, 40)).save(buf, "JPEG")
    path.write_bytes(buf.getvalue())
    return path


def shot(page: Page, tmp: Path, name: str) -> Path:
    """A full-page screenshot into DOORSTEP_SCREENSHOTS (or the test's temp dir)."""
    folder = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or tmp)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def return_id_from(url: str) -> str:
    found = re.search(r"/portal/returns/([^/?#]+)", url)
    assert found, url
    return found.group(1)
