"""Typhoons and closures: capacity shrinks, visits move to the nearest window or are stranded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    DAY_AFTER,
    MINHANG,
    TODAY,
    TOMORROW,
    at,
    at_the_door,
    booked,
    slot_of,
    with_area,
    yto,
)

from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.errors import InvalidInput, NotFound
from doorstep.domain.returns import ReturnStatus
from doorstep.services import disruptions
from doorstep.services.ports import SlotLoad


def _declare(
    world: World,
    start: datetime,
    end: datetime,
    pct: int = 0,
    adcodes: tuple[str, ...] = (MINHANG,),
) -> disruptions.DisruptionReport:
    return disruptions.declare_disruption(
        world.svc, "ops-001", DisruptionKind.TYPHOON, adcodes, start, end, pct, "Typhoon", "台风"
    )


def test_typhoon_moves_a_visit_to_the_nearest_open_window(world: World) -> None:
    request, appt = booked(world, yto(13))
    report = _declare(world, at(TOMORROW, 12), at(TOMORROW, 15))
    did = report.disruption.disruption_id
    # 11–13 overlaps the typhoon too; 15–17 is the nearest window left
    assert report.moved == ((appt.appointment_id, slot_of(yto(13)).key, slot_of(yto(15)).key),)
    assert report.stranded == ()
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(0, 0)
    assert world.store.slot(slot_of(yto(11))).capacity == 0
    assert world.store.slot(slot_of(yto(15))).booked == 1
    stored = world.store.item("appointments", appt.appointment_id)
    assert stored.slot == slot_of(yto(15)) and stored.sla_exempt and stored.courier_id
    assert world.store.event_names(request.return_id)[-1] == "return.pickup_moved"
    moved = world.store.events_named("appointment.rescheduled")
    assert [e.data["reason"] for e in moved] == [f"disruption:{did}"]
    assert world.store.event_names(did) == ["disruption.declared"]


def test_typhoon_moves_several_visits_of_one_courier(world: World) -> None:
    visits = [booked(world, yto(13)) for _ in range(3)]
    report = _declare(world, at(TOMORROW, 12), at(TOMORROW, 15))
    assert report.stranded == () and len(report.moved) == 3
    assert {new for _, _, new in report.moved} == {slot_of(yto(15)).key}
    assert world.store.slot(slot_of(yto(15))).booked == 3
    for _, appt in visits:
        stored = world.store.item("appointments", appt.appointment_id)
        assert stored.slot == slot_of(yto(15)) and stored.sla_exempt


def test_reduced_capacity_keeps_the_earliest_bookings(world: World) -> None:
    with_area(world, MINHANG, capacity_override=4)
    visits = []
    for _ in range(3):
        visits.append(booked(world, yto(13))[1])
        world.clock.advance(minutes=1)
    report = _declare(world, at(TOMORROW, 13), at(TOMORROW, 15), pct=50)  # 4 → 2
    assert [m[0] for m in report.moved] == [visits[2].appointment_id]
    assert world.store.slot(slot_of(yto(13))).capacity == 2
    assert world.store.slot(slot_of(yto(13))).booked == 2
    kept = world.store.item("appointments", visits[0].appointment_id)
    assert kept.slot == slot_of(yto(13)) and not kept.sla_exempt


def test_no_window_left_strands_the_visit(world: World) -> None:
    request, appt = booked(world, yto(13))
    report = _declare(world, at(TODAY, 0), at(DAY_AFTER + timedelta(days=1), 0))
    assert report.moved == () and report.stranded == (appt.appointment_id,)
    stored = world.store.item("appointments", appt.appointment_id)
    assert stored.status.value == "cancelled"
    back = world.store.item("returns", request.return_id)
    assert back.status is ReturnStatus.APPROVED and back.appointment_id is None
    released = world.store.events_named("return.pickup_released")[-1]
    assert released.data["reason"] == f"disruption:{report.disruption.disruption_id}"
    assert world.store.slot(slot_of(yto(13))).booked == 0


def test_lift_restores_capacity(world: World) -> None:
    booked(world, yto(13))
    report = _declare(world, at(TOMORROW, 13), at(TOMORROW, 15))
    did = report.disruption.disruption_id
    world.clock.advance(hours=1)
    lifted = disruptions.lift_disruption(world.svc, "ops-002", did)
    assert lifted.lifted_at == world.clock.now() and not lifted.active
    assert world.store.slot(slot_of(yto(13))).capacity == 10
    assert world.store.event_names(did) == ["disruption.declared", "disruption.lifted"]
    assert [d.disruption_id for d in disruptions.recent_disruptions(world.svc)] == [did]


def test_lift_keeps_other_disruptions_in_force(world: World) -> None:
    first = _declare(world, at(TOMORROW, 13), at(TOMORROW, 15), pct=50)
    _declare(world, at(TOMORROW, 9), at(TOMORROW, 19), pct=20)
    disruptions.lift_disruption(world.svc, "ops", first.disruption.disruption_id)
    assert world.store.slot(slot_of(yto(13))).capacity == 2  # 10 × 20 %


def test_unknown_area_or_disruption_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="service_area_not_found"):
        _declare(world, at(TOMORROW, 13), at(TOMORROW, 15), adcodes=(MINHANG, "110101"))
    assert world.store.items("disruptions") == [] and world.store.slots == {}
    with pytest.raises(NotFound):
        disruptions.lift_disruption(world.svc, "ops", "D-nope")


def test_inverted_range_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="disruption_range"):
        _declare(world, at(TOMORROW, 15), at(TOMORROW, 13))


def test_booking_into_a_disrupted_window_is_full(world: World) -> None:
    from tests.unit.services.helpers import approved  # type: ignore[import-not-found]

    from doorstep.domain.errors import Conflict
    from doorstep.services import pickup

    _declare(world, at(TOMORROW, 13), at(TOMORROW, 15))
    request = approved(world)
    with pytest.raises(Conflict, match="slot_full"):
        pickup.book_pickup(world.svc, B3, request.return_id, yto(13))


def test_a_visit_under_way_does_not_block_the_declaration(world: World) -> None:
    _, appt = booked(world, yto(13))
    at_the_door(world, appt)
    report = _declare(world, at(TOMORROW, 12), at(TOMORROW, 15))
    assert appt.appointment_id not in [m[0] for m in report.moved]
    assert world.store.item("appointments", appt.appointment_id).status.value == "arrived"
