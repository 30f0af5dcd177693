"""Coupons of green windows (issue 9 §9): recorded at booking when the offer really carries
one, issued once the pickup happens, never on a failed or cancelled visit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tests.unit.services.fakes import World, make_world  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    approved,
    at_the_door,
    inspect,
    yto,
)

from doorstep.domain.address import Address
from doorstep.domain.calendar import HolidayCalendar
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.pickup import BookingRules, FailureReason
from doorstep.services import courier, pickup
from doorstep.services.offering import FixedCapacityOffering, OfferedSlot
from doorstep.services.ports import UnitOfWork

GREEN = yto(13)


class GreenAt:
    """The fixed offering with a 3-yuan coupon on the 13:00 yto window of tomorrow."""

    route_aware = False

    def __init__(self) -> None:
        self.inner = FixedCapacityOffering()

    def offer(
        self,
        uow: UnitOfWork,
        calendar: HolidayCalendar,
        area: ServiceArea,
        address: Address,
        now: datetime,
        rules: BookingRules,
    ) -> list[OfferedSlot]:
        out = self.inner.offer(uow, calendar, area, address, now, rules)
        return [
            replace(o, incentive_fen=300)
            if (o.slot.carrier_id, o.slot.day, o.slot.window.start)
            == (GREEN.carrier_id, GREEN.day, GREEN.start)
            else o
            for o in out
        ]


def _world() -> World:
    world = make_world()
    world.svc = replace(world.svc, offering=GreenAt())
    return world


def _events(world: World, appointment_id: str) -> list[str]:
    return [n for n in world.store.event_names(appointment_id) if "coupon" in n]


def test_a_green_window_coupon_is_recorded_and_issued_once_at_pickup() -> None:
    world = _world()
    request = approved(world)
    appt = pickup.book_pickup(
        world.svc, request.buyer_id, request.return_id, replace(GREEN, coupon_fen=300)
    )
    assert appt.coupon_fen == 300 and appt.coupon_issued_at is None
    courier_id = at_the_door(world, appt)
    inspect(world, appt, request.return_id, courier_id)
    done = courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    assert done.coupon_issued_at == world.clock.now()
    assert _events(world, appt.appointment_id) == [
        "appointment.coupon_promised",
        "appointment.coupon_issued",
    ]


def test_a_coupon_the_offer_does_not_carry_is_not_recorded() -> None:
    world = _world()
    request = approved(world)
    appt = pickup.book_pickup(
        world.svc, request.buyer_id, request.return_id, replace(yto(9), coupon_fen=300)
    )
    assert appt.coupon_fen == 0 and _events(world, appt.appointment_id) == []


def test_a_cancelled_visit_issues_no_coupon() -> None:
    world = _world()
    request = approved(world)
    appt = pickup.book_pickup(
        world.svc, request.buyer_id, request.return_id, replace(GREEN, coupon_fen=300)
    )
    pickup.cancel_pickup(world.svc, request.buyer_id, appt.appointment_id)
    assert _events(world, appt.appointment_id) == [
        "appointment.coupon_promised",
        "appointment.coupon_dropped",
    ]


def test_a_failed_visit_moved_elsewhere_issues_no_coupon() -> None:
    world = _world()
    request = approved(world)
    appt = pickup.book_pickup(
        world.svc, request.buyer_id, request.return_id, replace(GREEN, coupon_fen=300)
    )
    courier_id = at_the_door(world, appt)
    courier.fail_attempt(
        world.svc, courier_id, appt.appointment_id, FailureReason.BUYER_UNREACHABLE, ""
    )
    moved = pickup.reschedule_pickup(world.svc, request.buyer_id, appt.appointment_id, yto(15))
    assert moved.coupon_fen == 0 and moved.coupon_issued_at is None
    assert "appointment.coupon_issued" not in _events(world, appt.appointment_id)
