"""Re-planning a day while it is driven: a courier on the way to their next visit rings
there when the leg ends, so the visits after it stay on their route (Jinshan: one YTO
courier, whose 11:00 window runs to 13:00)."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import Conflict
from doorstep.domain.pickup import Appointment, AppointmentStatus, FailureReason
from doorstep.services import courier, pickup, routing

from .test_routing import JINSHAN, TOMORROW, returns_at, ring

COURIER = "courier-yto-03"


def _book_day(wired: App) -> tuple[Appointment, list[Appointment]]:
    """A 9:00 visit 14 km north, then the 11:00 window filled as far as the offering lets
    it, on a 1 km ring around the town: leaving the far door, the courier drives most of an
    hour before ringing at 11:00."""
    svc = wired.services
    far = (JINSHAN[0] + 14 / 111, JINSHAN[1])
    early, *later = returns_at(wired, [far, *ring(12, 1.0)])
    nine = pickup.book_pickup(svc, "buyer-001", early, pickup.SlotChoice("yto", TOMORROW, time(9)))
    eleven = []
    for return_id in later:
        try:
            choice = pickup.SlotChoice("yto", TOMORROW, time(11))
            eleven.append(pickup.book_pickup(svc, "buyer-001", return_id, choice))
        except Conflict:
            break  # the window is full
    return nine, eleven


@pytest.mark.parametrize("at", [time(10, 50), time(11, 0), time(11, 10)])
def test_a_courier_on_the_way_keeps_the_visits_after_the_next(wired: App, at: time) -> None:
    """Before: placed back at the far door at each re-plan, a whole leg behind, the courier
    lost 2 (10:50), 3 (11:00) and 4 (11:10) of the 11:00 visits to ``time_window_unreachable``
    (off the route, still theirs: rung last, hours late)."""
    svc = wired.services
    nine, eleven = _book_day(wired)
    assert len(eleven) >= 8
    night = routing.plan_day(svc, "yto", TOMORROW)
    assert night.unserved == ()
    svc.clock.at = datetime.combine(TOMORROW, time(9, 0), tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    courier.arrive(svc, COURIER, nine.appointment_id)
    svc.clock.at = datetime.combine(TOMORROW, time(9, 5), tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    courier.fail_attempt(
        svc, COURIER, nine.appointment_id, FailureReason.BUYER_UNREACHABLE, "not in"
    )
    # Not at the first 11:00 door yet (nothing marked there), and no way to tell where.
    svc.clock.at = datetime.combine(TOMORROW, at, tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    report = routing.plan_day(svc, "yto", TOMORROW)
    assert report.unserved == ()
    (route,) = report.routes
    assert {a for a, _ in route[1]} == {a.appointment_id for a in eleven}
    for appt in eleven:
        after = pickup.get_appointment(svc, appt.appointment_id)
        assert after.status is AppointmentStatus.ASSIGNED and after.courier_id == COURIER
        assert after.unserved_reason is None


def _on_the_way_at_10_55(wired: App) -> list[Appointment]:
    """The day planned the night before, the 9:00 door failed at 9:05, and nothing marked
    since: at 10:55 the courier left the far door when they had to for the first 11:00 door.
    Returns the 11:00 visits."""
    svc = wired.services
    nine, eleven = _book_day(wired)
    assert routing.plan_day(svc, "yto", TOMORROW).unserved == ()
    svc.clock.at = datetime.combine(TOMORROW, time(9, 0), tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    courier.arrive(svc, COURIER, nine.appointment_id)
    svc.clock.at = datetime.combine(TOMORROW, time(9, 5), tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    courier.fail_attempt(
        svc, COURIER, nine.appointment_id, FailureReason.BUYER_UNREACHABLE, "not in"
    )
    svc.clock.at = datetime.combine(TOMORROW, time(10, 55), tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    return eleven


def test_a_courier_on_the_way_can_still_be_booked_after_their_next_visits(wired: App) -> None:
    """Before: the booking check drove the leg again from the far door at 10:55, the
    route looked late at every 11:00 door, and a 13:00 visit in town was refused
    (``slot_not_offered``)."""
    _on_the_way_at_10_55(wired)
    svc = wired.services
    (return_id,) = returns_at(wired, [JINSHAN])
    choice = pickup.SlotChoice("yto", TOMORROW, time(13))
    booked = pickup.book_pickup(svc, "buyer-001", return_id, choice)
    assert booked.courier_id == COURIER
    report = routing.plan_day(svc, "yto", TOMORROW)
    assert report.unserved == ()
    (route,) = report.routes
    assert booked.appointment_id in {a for a, _ in route[1]}


def test_the_etas_written_at_10_55_are_not_a_leg_late(wired: App) -> None:
    """Before: the first 11:00 buyer was told 11:36, the leg from the far door driven
    again from 10:55, and every later buyer as late or later."""
    eleven = _on_the_way_at_10_55(wired)
    svc = wired.services
    report = routing.plan_day(svc, "yto", TOMORROW)
    assert report.unserved == ()
    (route,) = report.routes
    first_id, first_eta = route[1][0]
    at_eleven = datetime.combine(TOMORROW, time(11, 0), tzinfo=SHANGHAI)
    assert first_id in {a.appointment_id for a in eleven}
    assert first_eta == at_eleven
    assert pickup.get_appointment(svc, first_id).eta == at_eleven
