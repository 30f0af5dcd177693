"""What every page must be, checked in the browser: no console errors, no axe-core violation
(WCAG 2.1 A/AA), at most 16 KB of HTML, no web fonts, tap targets of 44 px or more, and a
screenshot kept in test-output/ (not committed) for people to look at."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
MAX_HTML = 16 * 1024
MIN_TAP = 44
_AXE = Axe()
# Interactive things a finger presses. Links inside running text are exempt (WCAG 2.5.5).
_TAPPABLE = (
    "button:not([hidden]), a.button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    " select, summary, nav a, label.check, label.time, .langs a"
)


def shots_dir() -> Path:
    """Screenshots go to DOORSTEP_SCREENSHOTS, else test-output/screenshots (git-ignored)."""
    folder = Path(os.environ.get("DOORSTEP_SCREENSHOTS") or ROOT / "test-output" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Watch:
    """Console errors and uncaught exceptions of one page, as they happen."""

    errors: list[str] = field(default_factory=list)
    expected_status: set[str] = field(default_factory=set)  # URLs answered 4xx on purpose

    def attach(self, page: Page) -> Watch:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        return self

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # A form answered 422/409 on purpose makes Chromium log the status; that is the test's
        # subject, not a fault of the page.
        where = (message.location or {}).get("url", "")
        if "Failed to load resource" in message.text and where in self.expected_status:
            return
        self.errors.append(f"{message.text} ({where})")


def check_page(page: Page, watch: Watch, name: str, *, max_html: int = MAX_HTML) -> None:
    """Run every check on the page as it is now, and save its screenshot under ``name``."""
    page.wait_for_load_state("load")
    page.screenshot(path=str(shots_dir() / f"{name}.png"), full_page=True)
    assert not watch.errors, f"{name}: console errors {watch.errors}"

    html = page.evaluate("document.documentElement.outerHTML")
    size = len(html.encode())
    assert size <= max_html, f"{name}: {size} bytes of HTML (at most {max_html})"

    assert page.evaluate("document.fonts.size") == 0, f"{name}: web fonts are loaded"
    assert not re.search(r"@font-face|fonts\.googleapis|//cdn\.", html), f"{name}: web font"

    small = page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
          .filter(el => el.offsetParent !== null)
          .map(el => [el, el.getBoundingClientRect()])
          .filter(([el, r]) => r.width > 0 && (r.height < min - 0.5))
          .map(([el, r]) => `${el.tagName.toLowerCase()}.${el.className} "${(el.innerText || el.value || el.name || '').slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        [_TAPPABLE, MIN_TAP],
    )
    assert not small, f"{name}: tap targets under {MIN_TAP} px: {small}"

    results = _AXE.run(
        page,
        options={
            "resultTypes": ["violations"],
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        },
    )
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
