"""The buyer's wanted time over HTTP: ``GET /returns/{id}/slots?wanted=`` and the portal's
"您希望什么时候上门？ / When suits you?" choice. Bad values are refused with stable codes in
both languages (never 500); without it, and with the rule off, the offer is as before; with
the rule on, an offer asked with it sends no more statements than one without."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import SECRET  # type: ignore[import-not-found]
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.e2e.test_booking_statements import (  # type: ignore[import-not-found]
    TOMORROW,
    _open_windows,
    counting,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.entrypoints.api.app import create_app

Login = Callable[[str], dict[str, str]]
REFUND = {"lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}]}
# T0 of the tests is 2026-11-25 09:00 in Shanghai; the horizon ends with 2026-11-27.
BAD = [
    ("2026-11-26T14:10", "wanted_not_quarter_hour"),
    ("2026-11-26T14:00:30", "wanted_not_quarter_hour"),
    ("2026-11-25T08:45", "wanted_outside_horizon"),
    ("2026-11-28T00:00", "wanted_outside_horizon"),
    ("2026-11-26T06:00:00Z", None),  # 14:00 in Shanghai: kept
]


def refused(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] and body["message"]["en"] and body["message"]["zh"], body
    return body


def _return(client: TestClient, buyer: dict[str, str]) -> str:
    r = client.post("/returns", headers=buyer, json={"order_id": "TM2026000101", **REFUND})
    assert r.status_code == 201, r.text
    return str(r.json()["return_id"])


def test_wanted_is_checked_and_changes_nothing_while_the_rule_is_off(
    client: TestClient, login: Login
) -> None:
    buyer = login("buyer1")
    rid = _return(client, buyer)
    plain = client.get(f"/returns/{rid}/slots", headers=buyer)
    assert plain.status_code == 200 and plain.json()["slots"]
    asked = client.get(
        f"/returns/{rid}/slots", headers=buyer, params={"wanted": "2026-11-26T14:00"}
    )
    assert asked.status_code == 200, asked.text
    assert asked.json() == plain.json()
    for value, code in BAD:
        r = client.get(f"/returns/{rid}/slots", headers=buyer, params={"wanted": value})
        if code is None:
            assert r.status_code == 200, r.text
            continue
        assert refused(r)["code"] == code, (value, r.text)
    # Far offsets at the calendar's edges overflowed once moved to Shanghai: a 500 before.
    for edge in ("9999-12-31T23:45:00-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:45"):
        r = client.get(f"/returns/{rid}/slots", headers=buyer, params={"wanted": edge})
        assert refused(r)["code"] == "validation_error", (edge, r.text)
    for garbage in ("tomorrow", "2026-13-01T10:00", "9999-12-31T23:45+14:00", "1" * 60):
        r = client.get(f"/returns/{rid}/slots", headers=buyer, params={"wanted": garbage})
        refused(r)


def test_the_portal_asks_when_suits_the_buyer(client: TestClient, login: Login) -> None:
    rid = _return(client, login("buyer1"))
    browser = signed_in(client, "buyer1")
    here = f"/portal/returns/{rid}/slots?day={TOMORROW.isoformat()}"
    plain = browser.get(here)
    assert plain.status_code == 200
    assert 'data-testid="wanted"' in plain.text and 'name="wanted"' in plain.text
    asked = browser.get(here + "&wanted=14:00")
    assert asked.status_code == 200, asked.text
    assert 'value="14:00"' in asked.text
    # The same windows are listed (the rule is off by default).
    assert asked.text.count('name="slot"') == plain.text.count('name="slot"')
    for bad, zh in (("14:10", "刻钟"), ("25:99", "时:分"), ("14:00&day=2026-12-25", "结束之间")):
        page = browser.get(f"/portal/returns/{rid}/slots?wanted={bad}")
        assert page.status_code == 422, (bad, page.text)
        assert zh in page.text or "quarter hour" in page.text or "HH:MM" in page.text
        assert 'name="slot"' in page.text  # the offer without it is still there
    en = browser.get(here + "&wanted=14:10", headers={"Accept-Language": "en-US"})
    assert en.status_code == 422


@pytest.mark.parametrize("wanted_saving_s", [120, 600])
def test_an_offer_asked_with_wanted_sends_no_more_statements(
    wired: App,
    client: TestClient,
    login: Login,
    database_url: str,
    clock: FixedClock,
    wanted_saving_s: int,
) -> None:
    _open_windows(wired)
    headers = login("buyer1")
    settings = Settings(
        env="test",
        database_url=database_url,
        secret_key=SECRET,
        incentive_wanted_saving_s=wanted_saving_s,
    )
    asked = build(settings, clock=clock, run_migrations=False)
    offering: Any = asked.services.offering.inner  # type: ignore[attr-defined]
    assert offering.incentives.wanted_saving_s == wanted_saving_s
    rid, page_rid = returns_at(wired, _spread(2))
    try:
        with TestClient(create_app(asked), raise_server_exceptions=False) as c:
            url = f"/returns/{rid}/slots"
            assert c.get(url, headers=headers).status_code == 200  # the route cache warmed
            counts = []
            for params in ({}, {"wanted": f"{TOMORROW.isoformat()}T{time(14)}"}):
                with counting(asked) as seen:
                    r = c.get(url, headers=headers, params=params)
                assert r.status_code == 200, r.text
                counts.append(len(seen))
            browser = signed_in(c, "buyer1")
            page = f"/portal/returns/{page_rid}/slots?day={TOMORROW.isoformat()}"
            assert browser.get(page).status_code == 200
            pages = []
            for extra in ("", "&wanted=14:00"):
                with counting(asked) as seen:
                    assert browser.get(page + extra).status_code == 200
                pages.append(len(seen))
    finally:
        asked.engine.dispose()
    assert counts[0] == counts[1], counts
    assert pages[0] == pages[1], pages
