"""Which of today's carrier-days the worker re-plans (``routing.carrier_days_to_plan``), on
SQLite and PostgreSQL: today's routes before its couriers' day begins, then only a day with a
visit off every route (a courier who left, a visit a plan dropped); later days always.
Jinshan, two YTO couriers at one depot; the YTO fleet's earliest shift starts at 08:00."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.statements import counting_statements  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.pickup import Appointment, AppointmentStatus
from doorstep.entrypoints.worker import sweep
from doorstep.services import catalog, identity, pickup, routing
from doorstep.services.route import take_off_route
from doorstep.services.routing import TodayReplan

from .test_routing import TOMORROW, returns_at, ring

DAY = TOMORROW  # the day that is driven once the clock moves onto it
FIRST, SECOND = "courier-yto-03", "courier-yto-03b"
ACCOUNTS = {FIRST: "courier7", SECOND: "courier7b"}
STARTS = (time(11), time(13), time(15))


def _at(wired: App, moment: time) -> None:
    wired.services.clock.at = datetime.combine(DAY, moment, tzinfo=SHANGHAI)  # type: ignore[attr-defined]


def _planned_day(wired: App) -> list[Appointment]:
    """A second courier at the Jinshan depot (with an account), six visits of ``DAY`` in the
    11:00, 13:00 and 15:00 windows on a 1 km ring, planned the day before."""
    svc = wired.services
    with svc.uow() as uow:
        first = uow.couriers.get(FIRST)
    assert first is not None
    catalog.upsert_fleet(svc, [], [replace(first, courier_id=SECOND, phone="13800000077")])
    identity.add_user(svc, "U-courier7b", ACCOUNTS[SECOND], "courier-pass-7b", "courier", SECOND)
    booked = [
        pickup.book_pickup(
            svc, "buyer-001", return_id, pickup.SlotChoice("yto", DAY, STARTS[i % len(STARTS)])
        )
        for i, return_id in enumerate(returns_at(wired, ring(6, 1.0)))
    ]
    assert routing.plan_day(svc, "yto", DAY).unserved == ()
    return booked


def _later_visit(wired: App) -> Appointment:
    """One visit the day after ``DAY``, booked now."""
    (return_id,) = returns_at(wired, ring(1, 2.0))
    choice = pickup.SlotChoice("yto", DAY + timedelta(days=1), time(11))
    return pickup.book_pickup(wired.services, "buyer-001", return_id, choice)


def _stored(wired: App) -> tuple[list[Any], list[Any]]:
    """Every route row and every appointment row of ``DAY`` as stored: what a re-plan
    rewrites (stops, legs, versions; courier, position, ETA)."""
    with wired.engine.connect() as conn:
        routes = conn.execute(
            select(t.routes.c.route_id, t.routes.c.version, t.routes.c.doc)
            .where(t.routes.c.day == DAY)
            .order_by(t.routes.c.route_id)
        ).all()
        appts = conn.execute(
            select(t.appointments.c.appointment_id, t.appointments.c.version, t.appointments.c.doc)
            .where(t.appointments.c.day == DAY)
            .order_by(t.appointments.c.appointment_id)
        ).all()
    return [tuple(r) for r in routes], [tuple(a) for a in appts]


def _on_route(wired: App, appt_id: str) -> Appointment:
    """The visit as stored, checked to be on its courier's route with an ETA in its window."""
    svc = wired.services
    appt = pickup.get_appointment(svc, appt_id)
    assert appt.status is AppointmentStatus.ASSIGNED and appt.courier_id in (FIRST, SECOND)
    assert appt.unserved_reason is None and appt.eta is not None
    assert appt.slot.starts_at <= appt.eta <= appt.slot.ends_at
    with svc.uow() as uow:
        route = uow.routes.get(appt.courier_id, DAY)
    assert route is not None and route.index_of(appt_id) is not None
    return appt


@pytest.mark.parametrize(("moment", "planned"), [(time(7, 59), True), (time(8, 0), False)])
def test_today_is_planned_until_the_fleets_first_shift_starts(
    wired: App, moment: time, planned: bool
) -> None:
    """Every visit on a route: planned before 08:00 (courier-yto-02's shift start, the
    earliest of the fleet), left alone from then on."""
    _planned_day(wired)
    _at(wired, moment)
    assert (("yto", DAY) in routing.carrier_days_to_plan(wired.services)) is planned
    assert ("yto", DAY) in routing.carrier_days_to_plan(wired.services, TodayReplan.ALWAYS)
    assert routing.carrier_days_to_plan(wired.services, TodayReplan.NEVER) == []


def test_a_driven_day_with_every_visit_on_a_route_is_left_alone(wired: App) -> None:
    """After the shifts began the worker's sweep re-plans the day after (always) and leaves
    today's routes and ETAs as they were stored, row for row."""
    _planned_day(wired)
    _at(wired, time(10))
    later = _later_visit(wired)
    before = _stored(wired)
    days = routing.carrier_days_to_plan(wired.services)
    assert days == [("yto", DAY + timedelta(days=1))]
    assert sweep(wired)["plans"] == 1
    assert _stored(wired) == before
    assert pickup.get_appointment(wired.services, later.appointment_id).eta is not None


def test_a_courier_who_leaves_puts_the_day_back_in_the_sweep(wired: App) -> None:
    """The visits of a courier whose account is deleted at 10:00 go back to the pool (no
    courier, off the route): the day is re-planned and they land on the other courier's
    route; then it is left alone again."""
    booked = _planned_day(wired)
    _at(wired, time(10))
    mine = {a.appointment_id: _on_route(wired, a.appointment_id).courier_id for a in booked}
    leaving = max((FIRST, SECOND), key=lambda c: list(mine.values()).count(c))
    staying = SECOND if leaving == FIRST else FIRST
    identity.delete_user(wired.services, ACCOUNTS[leaving])
    pooled = [a for a, c in mine.items() if c == leaving]
    assert pooled
    assert all(pickup.get_appointment(wired.services, a).courier_id is None for a in pooled)
    assert routing.carrier_days_to_plan(wired.services) == [("yto", DAY)]
    assert sweep(wired)["plans"] == 1
    for appt_id in mine:
        assert _on_route(wired, appt_id).courier_id == staying
    assert routing.carrier_days_to_plan(wired.services) == []


def test_a_visit_a_plan_dropped_brings_the_day_back(wired: App) -> None:
    """A visit off its route and marked unserved (as a re-plan that cannot keep it leaves
    it) makes the day re-planned, which puts it back on a route."""
    booked = _planned_day(wired)
    _at(wired, time(10))
    svc = wired.services
    dropped = booked[-1].appointment_id
    with svc.uow() as uow:
        appt = uow.appointments.get(dropped)
        assert appt is not None
        take_off_route(uow, svc.travel, uow.couriers.list(), appt, svc.clock.now())
        appt.mark_unserved("time_window_unreachable", svc.clock.now())
        uow.appointments.save(appt)
        uow.commit()
    assert routing.carrier_days_to_plan(svc) == [("yto", DAY)]
    assert sweep(wired)["plans"] == 1
    _on_route(wired, dropped)
    assert routing.carrier_days_to_plan(svc) == []


def test_the_fan_out_reads_two_statements_whatever_the_number_of_days(wired: App) -> None:
    """The carrier-days and the fleet (read because today may be left alone): the same two
    statements for one busy carrier-day as for three."""
    _planned_day(wired)
    _at(wired, time(10))
    routing.carrier_days_to_plan(wired.services)  # the pool's first connection
    with counting_statements(wired.engine) as one:
        assert routing.carrier_days_to_plan(wired.services) == []
    _later_visit(wired)
    (return_id,) = returns_at(wired, ring(1, 3.0))
    pickup.book_pickup(
        wired.services,
        "buyer-001",
        return_id,
        pickup.SlotChoice("yto", DAY + timedelta(days=2), time(13)),
    )
    with counting_statements(wired.engine) as three:
        assert len(routing.carrier_days_to_plan(wired.services)) == 2
    queries = [s for s in three if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) == 2
    assert len(one) == len(three)


def test_a_visit_the_company_serves_is_not_off_a_route(wired: App) -> None:
    """A visit the courier company serves with its own courier has no route and, until the
    company names one, no courier: it is not in the pool, and the driven day is left alone
    (the flag read from the stored document on both databases)."""
    booked = _planned_day(wired)
    _at(wired, time(10))
    svc = wired.services
    with svc.uow() as uow:
        appt = uow.appointments.get(booked[0].appointment_id)
        assert appt is not None
        take_off_route(uow, svc.travel, uow.couriers.list(), appt, svc.clock.now())
        # Made by hand: the company's pickup order path needs its HTTP sandbox (carrier_world).
        appt.served_by_company, appt.courier_id = True, None
        appt.status = AppointmentStatus.BOOKED
        uow.appointments.save(appt)
        uow.commit()
    assert routing.carrier_days_to_plan(svc) == []
    with svc.uow() as uow:
        assert uow.appointments.astray_carrier_days([DAY]) == {("yto", DAY): False}


def test_a_dropped_visit_whose_window_closed_no_longer_brings_the_day_back(wired: App) -> None:
    """A visit a plan could not keep brings its day back only while its window is open: once
    it has closed no plan can keep it, and re-planning the routes being driven every minute
    for it would only risk the others' windows (it waits for ops, who re-book it)."""
    booked = _planned_day(wired)
    _at(wired, time(10))
    svc = wired.services
    dropped = booked[0]  # the 11:00 window
    with svc.uow() as uow:
        appt = uow.appointments.get(dropped.appointment_id)
        assert appt is not None
        take_off_route(uow, svc.travel, uow.couriers.list(), appt, svc.clock.now())
        appt.mark_unserved("time_window_unreachable", svc.clock.now())
        uow.appointments.save(appt)
        uow.commit()
    closes = dropped.slot.ends_at
    svc.clock.at = closes - timedelta(minutes=1)  # type: ignore[attr-defined]
    assert routing.carrier_days_to_plan(svc) == [("yto", DAY)]
    svc.clock.at = closes  # type: ignore[attr-defined]
    assert routing.carrier_days_to_plan(svc) == []
    with svc.uow() as uow:
        assert uow.appointments.astray_carrier_days([DAY]) == {("yto", DAY): True}
        assert uow.appointments.astray_carrier_days([DAY], closes) == {("yto", DAY): False}
