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
