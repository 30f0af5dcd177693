"""The buyer's timeline and the receipt left at the door."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    ALL_PASS,
    B3,
    approved,
    booked,
    picked_up,
    trusted,
)

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.returns import Grade
from doorstep.services import pickup, returns, timeline, warehouse


def test_timeline_of_a_whole_journey(world: World) -> None:
    request, appt = picked_up(world, **trusted(world))
    world.clock.advance(days=1)
    warehouse.receive(world.svc, "wh-sh-bonded", request.return_id)
    warehouse.grade(world.svc, "wh-sh-bonded", request.return_id, Grade.A, "")
    events = timeline.timeline(world.svc, request.return_id, buyer_id=request.buyer_id)
    names = [e.name for e in events]
    for expected in (
        "return.submitted",
        "return.approved",
        "appointment.booked",
        "return.pickup_scheduled",
        "appointment.courier_arrived",
        "return.inspected_at_door",
        "return.picked_up",
        "appointment.completed",
        "refund.requested",
        "refund.succeeded",
        "return.received",
        "return.quality_checked",
        "return.refunded",
    ):
        assert expected in names
    assert names.index("return.submitted") < names.index("return.picked_up")
    assert names.index("return.received") < names.index("return.refunded")
    assert all(e.occurred_at.tzinfo == SHANGHAI for e in events)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert {e.aggregate_id for e in events} >= {request.return_id, appt.appointment_id}


def test_timeline_shows_only_this_returns_joins(world: World) -> None:
    first, appt = booked(world)
    second = approved(world)
    pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    returns.cancel_return(world.svc, B3, second.return_id, "")
    mine = [e.name for e in timeline.timeline(world.svc, first.return_id)]
    theirs = [e.name for e in timeline.timeline(world.svc, second.return_id)]
    assert "appointment.return_joined" not in mine and "appointment.return_left" not in mine
    assert "appointment.return_joined" in theirs and "appointment.return_left" in theirs
    assert "appointment.booked" in theirs  # the visit it joined is part of its story


def test_timeline_follows_every_visit_of_the_return(world: World) -> None:
    request, first = booked(world)
    pickup.cancel_pickup(world.svc, B3, first.appointment_id)
    from tests.unit.services.helpers import yto  # type: ignore[import-not-found]

    second = pickup.book_pickup(world.svc, B3, request.return_id, yto(15))
    ids = {e.aggregate_id for e in timeline.timeline(world.svc, request.return_id)}
    assert {first.appointment_id, second.appointment_id} <= ids


def test_timeline_of_someone_elses_return_is_not_found(world: World) -> None:
    request = approved(world)
    with pytest.raises(NotFound):
        timeline.timeline(world.svc, request.return_id, buyer_id="buyer-001")


def test_receipt_after_pickup(world: World) -> None:
    request, appt = picked_up(world)
    receipt = timeline.receipt(world.svc, request.return_id, buyer_id=B3)
    waybill = request.waybill_no or ""
    assert receipt.waybill_no == waybill and receipt.carrier_id == "yto"
    assert receipt.receipt_code == f"{waybill[-6:]}-{request.return_id[-6:]}".upper()
    assert receipt.courier_id == appt.courier_id and receipt.inspection_result == "passed"
    assert receipt.items == (("CN-LATEX-PILLOW", 1),) and receipt.checklist == ALL_PASS
    assert receipt.verified_weight_g == 1_500 and len(receipt.photo_ids) == 1
    assert receipt.picked_up_at == world.clock.now() and receipt.picked_up_at.tzinfo == SHANGHAI


def test_no_receipt_before_pickup(world: World) -> None:
    request, _ = booked(world)
    with pytest.raises(Conflict, match="no_receipt_yet"):
        timeline.receipt(world.svc, request.return_id)
    with pytest.raises(NotFound):
        timeline.receipt(world.svc, request.return_id, buyer_id="buyer-001")
