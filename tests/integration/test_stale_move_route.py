"""A move that read its visit before another move of it committed finds the visit already on
the route it locked: it starts over (``Contention``, retried with the visit read again)
instead of answering ``already_on_route``. Found as a 1-in-14 failure of
``test_races.py::test_rescheduling_in_crossfire_keeps_counts`` on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import TOMORROW, returns_at  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.services import pickup
from doorstep.services.route import Contention, put_on_route

BUYER = "buyer-001"


def test_a_move_that_lost_to_another_move_of_its_visit_starts_over(wired: App) -> None:
    svc = wired.services
    [return_id] = returns_at(wired, _spread(1))
    visit = pickup.book_pickup(svc, BUYER, return_id, pickup.SlotChoice("yto", TOMORROW, time(13)))
    now = svc.clock.now()
    with svc.uow() as uow:  # the slower move reads the visit and the routes now
        area = uow.areas.get(visit.slot.adcode)
        assert area is not None
        later = SlotRef(visit.slot.adcode, "yto", TOMORROW, Window(time(17), time(19)))
        seat = pickup._seat(svc, uow, area, replace(visit, slot=later), now)
    assert seat.option is not None and seat.stop is not None
    # The faster move commits first: the visit is on the same courier's route, at 15:00.
    pickup.reschedule_pickup(
        svc, BUYER, visit.appointment_id, pickup.SlotChoice("yto", TOMORROW, time(15))
    )
    with svc.uow() as uow, pytest.raises(Contention):
        put_on_route(uow, svc.travel, svc.route_cache, seat.option, seat.stop, now)
