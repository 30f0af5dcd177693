"""Typhoons and holidays change capacity; visits that no longer fit move and the buyer is told."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select
from tests.integration.test_booking_race import _approved_returns  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.domain.calendar import DayInfo, DayKind, estimate_day
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.disruption import Disruption, DisruptionKind
from doorstep.services import disruptions, pickup, returns, timeline
from doorstep.services.offering import FixedCapacityOffering
from doorstep.services.ports import UnitOfWork

TOMORROW = date(2026, 11, 26)


def _capacity(app: App, start: str) -> tuple[int, int]:
    with app.engine.connect() as conn:
        row = conn.execute(
            select(t.slot_capacity.c.capacity, t.slot_capacity.c.booked).where(
                t.slot_capacity.c.adcode == "310104",
                t.slot_capacity.c.carrier_id == "yto",
                t.slot_capacity.c.day == TOMORROW,
                t.slot_capacity.c.start == start,
            )
        ).one()
    return row.capacity, row.booked


def test_typhoon_moves_visits_to_nearest_windows_and_tells_buyers(wired: App) -> None:
    svc = wired.services
    ids = _approved_returns(wired, 3)
    booked = [
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(13, 0)))
        for rid in ids
    ]
    report = disruptions.declare_disruption(
        svc,
        "ops-001",
        DisruptionKind.TYPHOON,
        ["310104"],
        datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI),
        0,
        "Typhoon warning",
        "台风预警",
    )
    assert len(report.moved) == 3 and report.stranded == ()
    # 13–15 is closed; the nearest windows are 11–13 and 15–17 (12–13 overlaps: closed too).
    assert _capacity(wired, "13:00") == (0, 0)
    for appt_id, old, new in report.moved:
        assert old.endswith("13:00-15:00") and not new.endswith("13:00-15:00")
        appt = pickup.get_appointment(svc, appt_id)
        assert appt.sla_exempt and not report.disruption.affects(appt.slot)
        assert appt.courier_id is not None
    for rid, appt in zip(ids, booked, strict=True):
        events = timeline.timeline(svc, rid)
        moved = [e for e in events if e.name == "appointment.rescheduled"]
        assert moved and moved[-1].data["reason"] == f"disruption:{report.disruption.disruption_id}"
        assert returns.get_return(svc, rid).appointment_id == appt.appointment_id
    # Offers no longer include the closed window.
    opts = pickup.pickup_options(
        svc, FixedCapacityOffering(), "buyer-001", _approved_returns(wired, 1)[0]
    )
    assert all(not report.disruption.affects(o.slot) for o in opts.slots)
    lifted = disruptions.lift_disruption(svc, "ops-001", report.disruption.disruption_id)
    assert lifted.lifted_at is not None
    assert _capacity(wired, "13:00")[0] == 10


def test_reduced_capacity_keeps_earliest_bookings(wired: App, clock: FixedClock) -> None:
    svc = wired.services
    ids = _approved_returns(wired, 6)
    appts = []
    for rid in ids:
        clock.advance(minutes=1)  # distinct booking times: the earliest keep their place
        appts.append(
            pickup.book_pickup(
                svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(9, 0))
            )
        )
    report = disruptions.declare_disruption(
        svc,
        "ops-001",
        DisruptionKind.ROAD_CLOSURE,
        ["310104"],
        datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 26, 11, 0, tzinfo=SHANGHAI),
        50,
        "Road works on Caoxi Road",
        "漕溪路施工",
    )
    assert _capacity(wired, "09:00") == (5, 5)
    assert [m[0] for m in report.moved] == [appts[-1].appointment_id]


class _HolidayTomorrow:
    def day(self, day: date) -> DayInfo:
        if day == TOMORROW:
            return DayInfo(day, DayKind.HOLIDAY, "test holiday")
        return estimate_day(day)


def test_holidays_reduce_template_capacity(database_url: str) -> None:
    from tests.conftest import SECRET, T0  # type: ignore[import-not-found]

    app = build(
        Settings(env="test", database_url=database_url, secret_key=SECRET),
        clock=FixedClock(T0),
        calendar=_HolidayTomorrow(),
        run_migrations=False,
    )
    try:
        rid = _approved_returns(app, 1)[0]
        opts = pickup.pickup_options(app.services, FixedCapacityOffering(), "buyer-001", rid)
        tomorrow = {
            o.capacity for o in opts.slots if o.slot.day == TOMORROW and o.slot.carrier_id == "yto"
        }
        other = {
            o.capacity for o in opts.slots if o.slot.day != TOMORROW and o.slot.carrier_id == "yto"
        }
        assert tomorrow == {5} and other == {10}  # generic template: 10, holidays at 50 %
    finally:
        app.engine.dispose()


def test_disruption_api_validates(wired: App) -> None:
    from fastapi.testclient import TestClient

    from doorstep.entrypoints.api.app import create_app

    with TestClient(create_app(wired)) as client:
        token = client.post(
            "/auth/token", data={"username": "ops1", "password": "demo-ops1"}
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        bad = client.post(
            "/ops/disruptions",
            headers=h,
            json={
                "kind": "typhoon",
                "adcodes": ["310104"],
                "starts_at": "2026-11-26T15:00:00+08:00",
                "ends_at": "2026-11-26T12:00:00+08:00",
                "reason_en": "x",
                "reason_zh": "x",
            },
        )
        assert bad.status_code == 422 and bad.json()["code"] == "disruption_range"
        naive = client.post(
            "/ops/disruptions",
            headers=h,
            json={
                "kind": "typhoon",
                "adcodes": ["310104"],
                "starts_at": "2026-11-26T12:00:00",
                "ends_at": "2026-11-26T15:00:00",
                "reason_en": "x",
                "reason_zh": "x",
            },
        )
        assert naive.status_code == 422
        ok = client.post(
            "/ops/disruptions",
            headers=h,
            json={
                "kind": "typhoon",
                "adcodes": ["310104", "310105"],
                "starts_at": "2026-11-27T09:00:00+08:00",
                "ends_at": "2026-11-27T19:00:00+08:00",
                "reason_en": "Typhoon Haikui",
                "reason_zh": "台风海葵",
            },
        )
        assert ok.status_code == 201, ok.text
        listed = client.get("/ops/disruptions", headers=h).json()
        assert listed[0]["reason_zh"] == "台风海葵"


def test_a_visit_come_into_a_cut_window_since_the_returns_were_locked_makes_it_start_over(
    wired: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit to move whose return the declaration did not lock (booked or joined between its
    read of the windows' visits and its locks) makes it roll back and start over, under the
    same id, recorded once; simulated by leaving one return out of the first attempt's locks."""
    svc = wired.services
    ids = _approved_returns(wired, 3)
    for rid in ids:
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(13, 0)))
    real = disruptions._lock_covered_returns
    attempts: list[str] = []

    def first_misses_one(uow: UnitOfWork, disruption: Disruption) -> set[str]:
        locked = real(uow, disruption)
        attempts.append(disruption.disruption_id)
        return locked - {ids[-1]} if len(attempts) == 1 else locked

    monkeypatch.setattr(disruptions, "_lock_covered_returns", first_misses_one)
    report = disruptions.declare_disruption(
        svc,
        "ops-001",
        DisruptionKind.ROAD_CLOSURE,
        ["310104"],
        datetime(2026, 11, 26, 12, 0, tzinfo=SHANGHAI),
        datetime(2026, 11, 26, 15, 0, tzinfo=SHANGHAI),
        0,
        "Road works",
        "道路施工",
    )
    disruption_id = report.disruption.disruption_id
    assert attempts == [disruption_id, disruption_id]
    assert len(report.moved) == 3 and report.stranded == ()
    assert _capacity(wired, "13:00") == (0, 0)
    with wired.engine.connect() as conn:
        declared = conn.execute(
            select(t.events.c.seq).where(
                t.events.c.aggregate_id == disruption_id, t.events.c.name == "disruption.declared"
            )
        ).all()
        rows = conn.execute(
            select(t.disruptions.c.disruption_id).where(
                t.disruptions.c.disruption_id == disruption_id
            )
        ).all()
    assert len(declared) == 1 and len(rows) == 1
    for appt_id, _old, _new in report.moved:
        moved = [
            e
            for e in timeline.timeline(svc, pickup.get_appointment(svc, appt_id).return_ids[0])
            if e.name == "appointment.rescheduled"
        ]
        assert len(moved) == 1  # the first attempt's moves were rolled back
