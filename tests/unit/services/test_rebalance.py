"""Moving the visits a window holds beyond its capacity (services/rebalance.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    MINHANG,
    TOMORROW,
    booked,
    slot_of,
    yto,
)

from doorstep.domain.coverage import ServiceArea
from doorstep.domain.errors import NotFound
from doorstep.services import catalog, rebalance
from doorstep.services.ports import SlotLoad


def _lower(world: World, capacity: int) -> None:
    area = world.store.item("areas", MINHANG)
    assert isinstance(area, ServiceArea)
    catalog.upsert_area(world.svc, replace(area, capacity_override=capacity))


def _rebalance(world: World, hour: int) -> rebalance.Rebalanced:
    return rebalance.rebalance_window(world.svc, MINHANG, "yto", TOMORROW, yto(hour).start)


def test_the_latest_booked_move_to_the_nearest_later_windows_with_room(world: World) -> None:
    visits = [booked(world, yto(13))[1] for _ in range(4)]
    booked(world, yto(15))  # 15:00 has one place left after the lowering to 2
    _lower(world, 2)
    done = _rebalance(world, 13)
    assert [m.appointment_id for m in done.moved] == [
        visits[3].appointment_id,
        visits[2].appointment_id,
    ]
    assert [m.to.window.start.hour for m in done.moved] == [15, 17]
    assert done.left_over == 0
    assert world.store.slot(slot_of(yto(13))) == SlotLoad(2, 2)
    assert world.store.slot(slot_of(yto(15))) == SlotLoad(2, 2)
    assert world.store.slot(slot_of(yto(17))) == SlotLoad(2, 1)
    moves = world.store.events_named("appointment.rescheduled")
    assert [(e.aggregate_id, e.data["reason"]) for e in moves] == [
        (visits[3].appointment_id, "over_capacity"),
        (visits[2].appointment_id, "over_capacity"),
    ]
    # Again (a retry, a second console): nothing more moves.
    again = _rebalance(world, 13)
    assert (again.moved, again.left_over) == ((), 0)
    assert len(world.store.events_named("appointment.rescheduled")) == 2


def test_a_window_not_over_moves_nothing_and_an_unknown_window_is_not_found(
    world: World,
) -> None:
    booked(world, yto(13))
    assert _rebalance(world, 13) == rebalance.Rebalanced((), 0)
    with pytest.raises(NotFound):
        rebalance.rebalance_window(world.svc, MINHANG, "yto", TOMORROW, yto(12).start)


def test_without_room_later_the_visits_stay_and_are_counted(world: World) -> None:
    for _ in range(3):
        booked(world, yto(17))
    _lower(world, 0)  # no later window takes a visit
    done = _rebalance(world, 17)
    assert (done.moved, done.left_over) == ((), 3)
    assert world.store.slot(slot_of(yto(17))) == SlotLoad(0, 3)
