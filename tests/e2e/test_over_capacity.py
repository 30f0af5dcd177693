"""Windows left over capacity by an edit: listed for ops (API and console), soonest first,
by an indexed read; windows under way are left out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]
from tests.e2e.query_plans import query_plan  # type: ignore[import-not-found]
from tests.integration.test_races import (  # type: ignore[import-not-found]
    BUYER,
    DAY_AFTER,
    _approved,
)

from doorstep.adapters.db.repositories import over_capacity_query
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.services import catalog, over_capacity, pickup

Login = Callable[[str], dict[str, str]]


def _lowered_below_bookings(app: App) -> None:
    """Three visits at 09:00, two at 11:00, one at 13:00 on the day after tomorrow, then the
    area's capacity lowered to one: 09:00 is over by two, 11:00 by one, 13:00 is full."""
    svc = app.services
    for hour, rid in zip((9, 9, 9, 11, 11, 13), _approved(app, 6), strict=True):
        pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(hour)))
    area = next(a for a in catalog.list_areas(svc) if a.adcode == "310104")
    saved = catalog.upsert_area(svc, replace(area, capacity_override=1))
    assert {(m.slot.window.start.hour, m.over) for m in saved.over} == {(9, 2), (11, 1)}


def test_windows_over_capacity_listed_soonest_first_with_the_total(
    client: TestClient, login: Login, wired: App, clock: FixedClock
) -> None:
    ops = login("ops1")
    empty = client.get("/ops/windows/over-capacity", headers=ops)
    assert (empty.json(), empty.headers["X-Total-Count"]) == ([], "0")
    _lowered_below_bookings(wired)
    listed = client.get("/ops/windows/over-capacity", headers=ops)
    assert listed.status_code == 200, listed.text
    assert listed.headers["X-Total-Count"] == "2"
    assert [(w["start"], w["capacity"], w["booked"], w["over"]) for w in listed.json()] == [
        ("09:00", 1, 3, 2),
        ("11:00", 1, 2, 1),
    ]
    assert {(w["adcode"], w["carrier_id"], w["day"]) for w in listed.json()} == {
        ("310104", "yto", DAY_AFTER.isoformat())
    }
    first = client.get("/ops/windows/over-capacity", params={"limit": 1}, headers=ops)
    assert [w["start"] for w in first.json()] == ["09:00"]
    assert first.headers["X-Total-Count"] == "2"
    for bad in (0, 501, "x"):
        r = client.get("/ops/windows/over-capacity", params={"limit": bad}, headers=ops)
        assert r.status_code == 422, (bad, r.text)
    assert client.get("/ops/windows/over-capacity", headers=login("buyer1")).status_code == 403

    page = TestClient(client.app, follow_redirects=False)
    page.get("/login")
    signed_in = page.post(
        "/login",
        data={"username": "ops1", "password": "demo-ops1", CSRF_FIELD: page.cookies[CSRF_COOKIE]},
    )
    assert signed_in.status_code == 303
    for lang, title in (("en", "Windows over capacity"), ("zh_CN", "超出容量的时段")):
        html = page.get("/console/areas/over-capacity", params={"lang": lang}).text
        assert title in html and 'data-testid="over-count">2<' in html, html
        assert html.index(">09:00<") < html.index(">11:00<")

    # 09:00 has started: it is no longer listed (its visits are being made).
    clock.at = datetime.combine(DAY_AFTER, time(9, 5), SHANGHAI)
    later = client.get("/ops/windows/over-capacity", headers=ops)
    assert [w["start"] for w in later.json()] == ["11:00"]
    assert later.headers["X-Total-Count"] == "1"


def test_the_list_reads_the_partial_index(wired: App) -> None:
    """The windows over capacity are read from ``ix_slot_capacity_over`` (booked > capacity),
    not by scanning every counter."""
    plan = query_plan(wired.engine, over_capacity_query((DAY_AFTER, time(8)), 100))
    assert any("ix_slot_capacity_over" in line for line in plan), plan
    assert over_capacity.over_capacity(wired.services, 5).total == 0


def test_moving_the_extra_visits_from_the_api_and_the_console(
    client: TestClient, login: Login, wired: App
) -> None:
    """The API moves 11:00's extra visit to 15:00 (13:00 is full); the console's button moves
    one of 09:00's two to 17:00, the last later window with room in the horizon, and says
    one is still over; each move is a reschedule the buyer hears of; a second press moves
    nothing."""
    _lowered_below_bookings(wired)
    ops = login("ops1")
    day = DAY_AFTER.isoformat()
    moved = client.post(f"/ops/windows/310104/yto/{day}/11:00/rebalance", headers=ops)
    assert moved.status_code == 200, moved.text
    assert moved.json()["left_over"] == 0
    [one] = moved.json()["moved"]
    assert one["slot"].startswith(f"310104/yto/{day}/15:00")  # 13:00 is full
    forbidden = client.post(
        f"/ops/windows/310104/yto/{day}/09:00/rebalance", headers=login("buyer1")
    )
    assert forbidden.status_code == 403

    page = signed_in(client, "ops1")
    html = page.get("/console/areas/over-capacity", params={"lang": "en"}).text
    assert html.count('data-testid="rebalance"') == 1 and "Move the extra visits" in html
    form = {"adcode": "310104", "carrier_id": "yto", "day": day, "start": "09:00"}
    pressed = page.post(
        "/console/areas/over-capacity/rebalance",
        data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]},
    )
    assert pressed.status_code == 303, pressed.text
    assert pressed.headers["location"].endswith("?moved=1&left=1")
    for lang, notice in (
        ("en", "Visits moved: 1; still over: 1."),
        ("zh_CN", "已移走预约：1；仍超出：1"),
    ):
        shown = page.get(f"{pressed.headers['location']}&lang={lang}").text
        assert notice in shown and 'data-testid="over-count">1<' in shown, shown
    for far in ("9999-12-31", "0001-01-01"):
        outside = page.post(
            "/console/areas/over-capacity/rebalance",
            data={**form, "day": far, CSRF_FIELD: page.cookies[CSRF_COOKIE]},
        )
        assert outside.status_code == 422 and "validation_error" in outside.text, outside.text
    again = page.post(
        "/console/areas/over-capacity/rebalance",
        data={**form, CSRF_FIELD: page.cookies[CSRF_COOKIE]},
    )
    assert again.headers["location"].endswith("?moved=0&left=1")
    with wired.engine.connect() as conn:
        reasons = conn.execute(
            text("SELECT data FROM events WHERE name = 'appointment.rescheduled' ORDER BY seq")
        ).scalars()
        assert [(r if isinstance(r, dict) else json.loads(r))["reason"] for r in reasons] == [
            "over_capacity"
        ] * 2
        assert (
            conn.execute(
                text("SELECT COUNT(*) FROM slot_capacity WHERE booked > capacity")
            ).scalar_one()
            == 1
        )
