"""A use case that fails half-way keeps nothing: no rows, no capacity, no events."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import CountingIds, World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    approved,
    booked,
    new_order,
    photo,
    slot_of,
    yto,
)

from doorstep.domain.errors import Conflict
from doorstep.domain.returns import Reason, ReturnStatus
from doorstep.services import pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn


class Boom(Exception):
    pass


class FailingIds(CountingIds):
    """Hands out ids until asked for one with ``prefix``, then fails (a crash mid-way)."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def new(self, prefix: str) -> str:
        if prefix == self.prefix:
            raise Boom(prefix)
        return super().new(prefix)


def _snapshot(world: World) -> tuple[object, ...]:
    s = world.store
    return (
        {
            name: {k: (r.version, r.item) for k, r in rows.items()}
            for name, rows in s.tables.items()
        },
        dict(s.slots),
        list(s.events),
        s.commits,
    )


def test_booking_a_full_slot_leaves_no_appointment_and_no_event(world: World) -> None:
    world.store.set_slot(slot_of(yto(13)), capacity=1, booked=1)
    request = approved(world)
    before = _snapshot(world)
    with pytest.raises(Conflict, match="slot_full"):
        pickup.book_pickup(world.svc, B3, request.return_id, yto(13))
    assert _snapshot(world) == before
    assert world.store.items("appointments") == []
    assert world.store.events_named("appointment.booked") == []


def test_a_crash_after_taking_capacity_gives_it_back(world: World) -> None:
    request = approved(world)
    before = _snapshot(world)
    crashing = replace(world.svc, ids=FailingIds("A"))  # after slots.take, before the visit
    with pytest.raises(Boom):
        pickup.book_pickup(crashing, B3, request.return_id, yto(13))
    assert _snapshot(world) == before
    assert world.store.slot(slot_of(yto(13))) is None


def test_a_crash_while_filing_keeps_no_return(world: World) -> None:
    order = new_order(world)
    pid = photo(world, B3)
    before = _snapshot(world)
    crashing = replace(world.svc, ids=FailingIds("E"))  # after the return is built
    with pytest.raises(Boom):
        returns.open_return(
            crashing,
            OpenReturn(
                B3,
                order.order_id,
                returns.ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.QUALITY),),
                photo_ids=(pid,),
            ),
        )
    assert _snapshot(world) == before


def test_a_failed_move_keeps_the_old_window(world: World) -> None:
    _, appt = booked(world)
    before = _snapshot(world)
    crashing = replace(world.svc, uow=lambda: _CrashAfterTake(world.svc.uow()))
    with pytest.raises(Boom):
        pickup.reschedule_pickup(crashing, B3, appt.appointment_id, yto(15))
    assert _snapshot(world) == before


def test_a_failed_cancel_keeps_the_return_and_its_visit(world: World) -> None:
    request, appt = booked(world)
    from doorstep.services import courier

    courier.arrive(world.svc, appt.courier_id, appt.appointment_id)
    before = _snapshot(world)
    with pytest.raises(Conflict):
        returns.cancel_return(world.svc, B3, request.return_id, "")
    assert _snapshot(world) == before
    assert world.store.item("returns", request.return_id).status is ReturnStatus.AWAITING_PICKUP


class _CrashAfterTake:
    """A unit of work whose capacity counter crashes right after taking (a crash mid-way)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __enter__(self) -> object:
        uow = self.inner.__enter__()  # type: ignore[attr-defined]
        take = uow.slots.take

        def take_then_boom(*a: object) -> bool:
            take(*a)
            raise Boom("after take")

        uow.slots.take = take_then_boom
        return uow

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)  # type: ignore[attr-defined]
