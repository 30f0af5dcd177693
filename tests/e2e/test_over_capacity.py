"""Windows left over capacity by an edit: listed for ops (API and console), soonest first,
by an indexed read; windows under way are left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time

from fastapi.testclient import TestClient
from sqlalchemy import text
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
    query = over_capacity_query((DAY_AFTER, time(8)), 100).compile(
        wired.engine, compile_kwargs={"literal_binds": True}
    )
    with wired.engine.begin() as conn:
        if wired.engine.dialect.name == "postgresql":
            # The table is tiny here: forbid the sequential scan to see what the plan can use.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = [str(r[0]) for r in conn.execute(text(f"EXPLAIN {query}"))]
        else:
            plan = [str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
    assert any("ix_slot_capacity_over" in line for line in plan), plan
    assert over_capacity.over_capacity(wired.services, 5).total == 0
