"""A courier company moving its own order, over the fakes: the visit and the counters follow,
a full window is counted past capacity with an over-commit event, an echo changes nothing."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, B3_HOME  # type: ignore[import-not-found]

from doorstep.domain.carrier_order import CarrierStatus
from doorstep.domain.coverage import Window
from doorstep.domain.errors import InvalidInput
from doorstep.domain.pickup import Appointment, AppointmentStatus, SlotRef
from doorstep.services.pickup_company import follow_company_move


def _slot(day: date, hour: int) -> SlotRef:
    return SlotRef(B3_HOME.adcode, "yto", day, Window(time(hour), time(hour + 2)))


def _visit(world: World, slot: SlotRef) -> str:
    now = world.clock.now()
    with world.uow() as uow:
        assert uow.slots.take(slot, 10)
        appt = Appointment.book("A-co-1", B3, B3_HOME, slot, ["R-x"], now)
        appt.served_by_company = True
        uow.appointments.add(appt)
        uow.commit()
    return appt.appointment_id


def _move(world: World, appointment_id: str, to: SlotRef, status: CarrierStatus) -> bool:
    with world.uow() as uow:
        appt = uow.appointments.get(appointment_id)
        assert appt is not None
        window = (to.day, to.window.start, to.window.end)
        moved = follow_company_move(world.svc, uow, appt, status, window, world.clock.now())
        uow.commit()
    return moved


def _booked(world: World, slot: SlotRef) -> tuple[int, int]:
    with world.uow() as uow:
        load = uow.slots.loads([slot], 0)[slot]
    return load.booked, load.capacity


def test_the_visit_and_its_counters_follow_the_company(world: World) -> None:
    day = world.clock.now().date() + timedelta(days=1)
    nine, eleven = _slot(day, 9), _slot(day, 11)
    aid = _visit(world, nine)
    assert _move(world, aid, eleven, CarrierStatus.COURIER_ASSIGNED)
    assert _booked(world, nine)[0] == 0 and _booked(world, eleven)[0] == 1
    appt = world.store.item("appointments", aid)
    assert appt.slot == eleven and appt.status is AppointmentStatus.ASSIGNED
    assert appt.courier_id == "ext:yto"  # the company's courier keeps the visit
    assert world.store.events_named("slot.overcommitted") == []
    assert not _move(world, aid, eleven, CarrierStatus.COURIER_ASSIGNED)  # the same window


def test_a_full_window_is_counted_past_capacity_and_recorded(world: World) -> None:
    day = world.clock.now().date() + timedelta(days=1)
    nine, eleven = _slot(day, 9), _slot(day, 11)
    aid = _visit(world, nine)
    with world.uow() as uow:
        uow.slots.set_capacity(eleven, 0)
        uow.commit()
    assert _move(world, aid, eleven, CarrierStatus.ACCEPTED)
    assert _booked(world, eleven) == (1, 0) and _booked(world, nine)[0] == 0
    [over] = world.store.events_named("slot.overcommitted")
    assert over.aggregate_id == eleven.key
    assert (over.data["capacity"], over.data["booked"], over.data["appointment_id"]) == (0, 1, aid)


def test_a_move_outside_the_horizon_is_refused_and_changes_nothing(world: World) -> None:
    today = world.clock.now().date()
    nine = _slot(today + timedelta(days=1), 9)
    aid = _visit(world, nine)
    for far in (date(2099, 12, 31), today - timedelta(days=2), today + timedelta(days=46)):
        with pytest.raises(InvalidInput, match="days ahead"):
            _move(world, aid, _slot(far, 11), CarrierStatus.ACCEPTED)
    assert world.store.item("appointments", aid).slot == nine
    assert _booked(world, nine)[0] == 1
    assert _move(world, aid, _slot(today + timedelta(days=45), 11), CarrierStatus.ACCEPTED)
