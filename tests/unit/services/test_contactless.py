"""Contactless pickup: photos and weight are the inspection, no code at the door, the buyer
confirms or disputes within the limit, silence confirms, ops decide disputes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    ALL_PASS,
    approved,
    at_the_door,
    photo,
    yto,
)

from doorstep.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from doorstep.domain.pickup import DisputeOutcome, Handover, ReviewStatus
from doorstep.domain.returns import ReturnStatus
from doorstep.services import contactless, courier, pickup, returns


def _left_at_door(world: World) -> tuple[str, str, str]:
    """Booked contactless, collected by the courier: (return, visit, buyer)."""
    request = approved(world)
    choice = pickup.SlotChoice(
        "yto", yto(13).day, yto(13).start, Handover.LOCKER, "丰巢 3号柜 取件码 8812"
    )
    appt = pickup.book_pickup(world.svc, request.buyer_id, request.return_id, choice)
    assert appt.handover is Handover.LOCKER and appt.handover_note.startswith("丰巢")
    cid = at_the_door(world, appt)
    done = courier.inspect(
        world.svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(request.return_id, {}, (photo(world, cid),), 1_480),
    )
    assert done.contactless and done.result.value == "passed" and not done.weight_off
    courier.pick_up(world.svc, cid, appt.appointment_id, None)  # nobody there to give a code
    return request.return_id, appt.appointment_id, request.buyer_id


def test_a_contactless_pickup_needs_no_code_and_waits_for_the_buyer(world: World) -> None:
    rid, aid, _ = _left_at_door(world)
    assert returns.get_return(world.svc, rid).status is ReturnStatus.PICKED_UP
    appt = world.store.item("appointments", aid)
    assert appt.review.status is ReviewStatus.PENDING
    assert appt.review.due_at == world.clock.now() + timedelta(hours=24)
    assert world.store.events_named("appointment.contactless_review_opened")


def test_a_contactless_inspection_is_photos_and_weight_only(world: World) -> None:
    request = approved(world)
    choice = pickup.SlotChoice("yto", yto(13).day, yto(13).start, Handover.DOOR)
    appt = pickup.book_pickup(world.svc, request.buyer_id, request.return_id, choice)
    cid = at_the_door(world, appt)
    for data in (
        courier.InspectionInput(request.return_id, dict(ALL_PASS), (photo(world, cid),), 1_500),
        courier.InspectionInput(request.return_id, {}, (photo(world, cid),), None),
    ):
        with pytest.raises(InvalidInput) as err:
            courier.inspect(world.svc, cid, appt.appointment_id, data)
        assert err.value.code == "contactless_inspection"


def test_the_buyer_confirms_within_the_limit(world: World) -> None:
    _, aid, buyer = _left_at_door(world)
    world.clock.advance(hours=23)
    appt = contactless.confirm_contactless(world.svc, buyer, aid)
    assert appt.review.status is ReviewStatus.CONFIRMED and appt.review.decided_by == buyer
    with pytest.raises(IllegalTransition):
        contactless.dispute_contactless(world.svc, buyer, aid, "too late to change", ())


def test_silence_confirms_after_the_limit_and_closes_the_dispute(world: World) -> None:
    _, aid, buyer = _left_at_door(world)
    assert contactless.confirm_silent_contactless(world.svc, world.clock.now()) == 0
    world.clock.advance(hours=24, seconds=1)
    with pytest.raises(Conflict) as err:
        contactless.dispute_contactless(world.svc, buyer, aid, "wrong item", ())
    assert err.value.code == "review_closed"
    assert contactless.confirm_silent_contactless(world.svc, world.clock.now()) == 1
    assert contactless.confirm_silent_contactless(world.svc, world.clock.now()) == 0
    review = world.store.item("appointments", aid).review
    assert review.status is ReviewStatus.CONFIRMED and review.decided_by == "silence"


def test_a_dispute_reaches_ops_with_both_sides_and_is_decided(world: World) -> None:
    rid, aid, buyer = _left_at_door(world)
    mine = photo(world, buyer)
    with pytest.raises(NotFound):  # only the buyer's own photos are evidence
        contactless.dispute_contactless(world.svc, buyer, aid, "x", (photo(world, "someone"),))
    contactless.dispute_contactless(world.svc, buyer, aid, "I left two pillows, not one", (mine,))
    [queued] = contactless.disputed_pickups(world.svc)
    assert queued.appointment.review.dispute_photo_ids == (mine,)
    [request] = queued.returns
    assert request.return_id == rid and request.inspection.photo_ids
    world.clock.advance(hours=48)  # the limit binds the buyer, not ops
    done = contactless.resolve_contactless(
        world.svc, "ops-001", aid, DisputeOutcome.BUYER_UPHELD, "scale photo unreadable"
    )
    assert done.review.status is ReviewStatus.RESOLVED
    assert done.review.outcome is DisputeOutcome.BUYER_UPHELD
    assert contactless.disputed_pickups(world.svc) == []
    assert contactless.confirm_silent_contactless(world.svc, world.clock.now()) == 0


def test_an_in_person_visit_still_needs_the_code(world: World) -> None:
    request = approved(world)
    appt = pickup.book_pickup(world.svc, request.buyer_id, request.return_id, yto(13))
    cid = at_the_door(world, appt)
    courier.inspect(
        world.svc,
        cid,
        appt.appointment_id,
        courier.InspectionInput(request.return_id, dict(ALL_PASS), (photo(world, cid),), 1_500),
    )
    with pytest.raises(InvalidInput) as err:
        courier.pick_up(world.svc, cid, appt.appointment_id, None)
    assert err.value.code == "pickup_code_required"
    assert world.store.item("appointments", appt.appointment_id).review is None
