"""The dashboard's outlook: a coming day's windows against the same weekday of past weeks,
so ops see which will run out and raise capacity before the wave."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.clock import local
from doorstep.domain.outlook import same_weekdays
from doorstep.domain.pickup import SlotRef
from doorstep.services.offering import template_for


def _ended_with(app: App, day_counts: dict[int, int], days: list) -> list[SlotRef]:  # type: ignore[type-arg]
    """YTO's first windows in Xuhui took ``day_counts[i]`` bookings on each of ``days``
    (counted through the booking's own counter), capacity 10."""
    with app.services.uow() as uow:
        area = uow.areas.get("310104")
        assert area is not None
        template = template_for(uow, area, "yto")
        assert template is not None
        windows = template.windows
        for i, n in day_counts.items():
            for day in days:
                for _ in range(n):
                    assert uow.slots.take(SlotRef("310104", "yto", day, windows[i]), 10)
        uow.commit()
    return [SlotRef("310104", "yto", days[0], w) for w in windows]


def _rows(html: str, label: str) -> list[str]:
    return re.findall(
        rf"<tr[^>]*>\s*<td class=\"mono\">{re.escape(label)}</td>.*?</tr>", html, re.S
    )


def _row(html: str, label: str) -> str:
    [row] = _rows(html, label)
    return row


def test_windows_full_on_past_weekdays_are_flagged_for_tomorrow(
    wired: App, client: TestClient, clock: FixedClock
) -> None:
    tomorrow = local(clock.now()).date() + timedelta(days=1)
    refs = _ended_with(wired, {0: 10, 1: 2}, same_weekdays(tomorrow))
    full, quiet = (f"YTO {r.window.label}" for r in refs[:2])
    page = signed_in(client, "ops1")
    html = page.get(
        "/console/dashboard", params={"adcode": "310104", "ahead": 1, "lang": "en"}
    ).text
    assert 'data-testid="outlook"' in html
    # Only the window likely to run out is listed, with its expectation and full weeks.
    assert ">10.0<" in _row(html, full) and ">4/4<" in _row(html, full)
    assert not _rows(html, quiet)
    [district] = re.findall(r'data-testid="short-districts">(.*?)</p>', html, re.S)
    assert "adcode=310104" in district and 'href="/console/areas"' in district
    zh = page.get(
        "/console/dashboard", params={"adcode": "310104", "ahead": 1, "lang": "zh_CN"}
    ).text
    assert "可能约满的时段" in zh and ">4/4<" in _row(zh, full) and "预计" in zh

    # The day after has no history: nothing flagged there.
    later = page.get(
        "/console/dashboard", params={"adcode": "310104", "ahead": 2, "lang": "en"}
    ).text
    assert 'data-testid="short-none"' in later and 'data-testid="outlook"' not in later
