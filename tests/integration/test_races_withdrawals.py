"""Buyers withdrawing returns of booked own-fleet visits, raced with other buyers booking the
same windows and with re-plans of the day, on SQLite and PostgreSQL. A visit emptied by a
withdrawal gives back its window's count and its stop on the courier's route exactly once
(``pickup.release_visit``, the path a cancelled pickup takes); a visit that keeps another
return keeps both. Checked in SQL afterwards (``races.violations``: counters equal the visits
holding them, open route stops are live visits of their courier) and by the route referee.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.pickup import AppointmentStatus
from doorstep.domain.returns import ReturnStatus
from doorstep.entrypoints import jobs
from doorstep.services import pickup, returns, routing

BUYER = "buyer-001"
TOMORROW = date(2026, 11, 26)
STARTS = (time(9), time(11), time(13), time(15))
# A withdrawal loses to the other withdrawal of the same return (already cancelled) or to a
# change of its visit (stale); a booking to a full or no longer kept window; a plan to
# bookings moving the routes under it.
LOSSES = {"illegal_transition", "stale_write", "slot_full", "slot_not_offered", "route_busy"}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _choice(i: int) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", TOMORROW, STARTS[i % len(STARTS)])


def test_withdrawals_raced_with_bookings_and_plans_free_each_visit_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    points = _spread(20)
    ids = returns_at(wired, points[:14])
    alone = ids[:6]  # one return each: withdrawing it empties and cancels the visit
    for i, return_id in enumerate(alone):
        pickup.book_pickup(svc, BUYER, return_id, _choice(i))
    # Two visits carrying two returns each: withdrawing one leaves the visit on the route.
    shared = []
    for i, point in enumerate(points[14:16]):
        # Called once per return: the same door (address line and place) for both.
        [first], [second] = returns_at(wired, [point]), returns_at(wired, [point])
        visit = pickup.book_pickup(svc, BUYER, first, _choice(i))
        pickup.join_pickup(svc, BUYER, second, visit.appointment_id)
        shared.append((first, second, visit.appointment_id))
    waiting = ids[6:14]

    def withdraw(return_id: str) -> Callable[[], Any]:
        return lambda: returns.cancel_return(svc, BUYER, return_id, "changed my mind")

    calls = [withdraw(r) for r in alone] * 2  # each withdrawn twice at once: one wins
    calls += [withdraw(first) for first, _, _ in shared]
    calls += [
        lambda r=r, i=i: pickup.book_pickup(svc, BUYER, r, _choice(i))
        for i, r in enumerate(waiting)
    ]
    calls += [lambda: jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())] * 2
    assert len(calls) == RACERS
    out = race(calls)
    assert set(out.codes) <= LOSSES, out.codes

    for return_id in alone + [first for first, _, _ in shared]:
        assert returns.get_return(svc, return_id).status is ReturnStatus.CANCELLED
    for _, second, appointment_id in shared:
        visit = pickup.get_appointment(svc, appointment_id)
        assert visit.status is not AppointmentStatus.CANCELLED and visit.return_ids == [second]
    assert routing.check_routes(svc, "yto", TOMORROW) == []
    assert violations(wired, payments) == []
