"""At the door: arrive, inspect, check the code, pick up (and pay trusted buyers at once)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    ALL_PASS,
    B1,
    B3,
    TODAY,
    approved,
    at_the_door,
    booked,
    inspect,
    photo,
    picked_up,
    sf,
    trusted,
    yto,
)

from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.pickup import FailureReason
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import InspectionResult, ReturnStatus
from doorstep.entrypoints.api import views
from doorstep.services import courier, pickup, returns
from doorstep.services.context import RefundRules

YTO2 = "courier-yto-02"


def _input(world: World, return_id: str, **changes: object) -> courier.InspectionInput:
    base = courier.InspectionInput(return_id, dict(ALL_PASS), (photo(world, YTO2),), 1_500)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_todays_tasks_in_window_order(world: World) -> None:
    _, late = booked(world, yto(11, TODAY))
    _, early = booked(world, yto(9, TODAY))
    booked(world, yto(13))  # tomorrow: not today's
    tasks = courier.todays_tasks(world.svc, YTO2)
    assert [t.appointment_id for t in tasks] == [early.appointment_id, late.appointment_id]
    assert courier.todays_tasks(world.svc, "courier-sf-01") == []


def test_arrive_marks_the_visit(world: World) -> None:
    _, appt = booked(world)
    arrived = courier.arrive(world.svc, YTO2, appt.appointment_id)
    assert arrived.status.value == "arrived" and arrived.arrived_at == world.clock.now()
    event = world.store.events_named("appointment.courier_arrived")[0]
    assert event.data == {"courier_id": YTO2, "late": False}


def test_arrive_at_someone_elses_visit_is_not_found(world: World) -> None:
    _, appt = booked(world)
    with pytest.raises(NotFound):
        courier.arrive(world.svc, "courier-yto-01", appt.appointment_id)
    assert world.store.item("appointments", appt.appointment_id).status.value == "assigned"


def test_inspect_records_a_passed_inspection(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    result = courier.inspect(world.svc, YTO2, appt.appointment_id, _input(world, r.return_id))
    assert result.result is InspectionResult.PASSED and result.courier_id == YTO2
    stored = world.store.item("returns", r.return_id)
    assert stored.inspection == result and stored.status is ReturnStatus.AWAITING_PICKUP
    event = world.store.events_named("return.inspected_at_door")[0]
    assert event.data == {"result": "passed", "refusal_reason": None, "photos": 1}


@pytest.mark.parametrize(
    ("checklist", "missing", "unknown"),
    [
        ({k: True for k in list(courier.CHECKLIST)[1:]}, ["outer_packaging"], []),
        ({**ALL_PASS, "smell": True}, [], ["smell"]),
        ({}, sorted(courier.CHECKLIST), []),
    ],
    ids=["missing", "unknown", "empty"],
)
def test_inspect_with_an_incomplete_checklist(
    world: World, checklist: dict[str, bool], missing: list[str], unknown: list[str]
) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    before = len(world.store.events)
    with pytest.raises(InvalidInput) as err:
        courier.inspect(
            world.svc, YTO2, appt.appointment_id, _input(world, r.return_id, checklist=checklist)
        )
    assert err.value.code == "checklist_incomplete"
    assert err.value.details is not None
    assert err.value.details["missing"] == missing and err.value.details["unknown"] == unknown
    assert world.store.item("returns", r.return_id).inspection is None
    assert len(world.store.events) == before


def test_inspect_needs_a_photo_arrival_and_own_photos(world: World) -> None:
    r, appt = booked(world)
    aid = appt.appointment_id
    with pytest.raises(InvalidInput, match="inspection_photo_required"):
        courier.inspect(world.svc, YTO2, aid, _input(world, r.return_id, photo_ids=()))
    with pytest.raises(Conflict, match="not_arrived"):
        courier.inspect(world.svc, YTO2, aid, _input(world, r.return_id))
    at_the_door(world, appt)
    foreign = photo(world, B3)
    with pytest.raises(NotFound, match="photo_not_found"):
        courier.inspect(world.svc, YTO2, aid, _input(world, r.return_id, photo_ids=(foreign,)))
    other = approved(world)
    with pytest.raises(NotFound, match="return_request_not_found"):
        courier.inspect(world.svc, YTO2, aid, _input(world, other.return_id))
    assert world.store.item("returns", r.return_id).inspection is None


def test_refused_inspection_blocks_the_pickup(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    checklist = {**ALL_PASS, "unused": False, "plastic_wrap_intact": False}
    result = courier.inspect(
        world.svc, YTO2, appt.appointment_id, _input(world, r.return_id, checklist=checklist)
    )
    assert result.result is InspectionResult.REFUSED
    assert result.refusal_reason == "plastic_wrap_intact,unused"
    with pytest.raises(Conflict, match="nothing_to_pick_up"):
        courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    assert world.store.item("appointments", appt.appointment_id).status.value == "arrived"
    failed = courier.fail_attempt(
        world.svc, YTO2, appt.appointment_id, FailureReason.INSPECTION_REFUSED, "used"
    )
    assert failed.status.value == "failed" and failed.attempts[-1].note == "used"
    assert world.store.item("returns", r.return_id).status is ReturnStatus.AWAITING_PICKUP


def test_wrong_pickup_code_changes_nothing(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    inspect(world, appt, r.return_id, YTO2)
    wrong = "000000" if appt.pickup_code != "000000" else "111111"
    before = len(world.store.events)
    with pytest.raises(Conflict, match="pickup_code_mismatch"):
        courier.pick_up(world.svc, YTO2, appt.appointment_id, wrong)
    assert world.store.item("returns", r.return_id).status is ReturnStatus.AWAITING_PICKUP
    assert len(world.store.events) == before


def test_pick_up_before_arrival_conflicts(world: World) -> None:
    _, appt = booked(world)
    with pytest.raises(Conflict, match="not_arrived"):
        courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)


def test_pick_up_issues_a_waybill_and_completes_the_visit(world: World) -> None:
    request, appt = picked_up(world)
    assert request.status is ReturnStatus.PICKED_UP and request.carrier_id == "yto"
    assert re.fullmatch(r"YT261125\d{8}", request.waybill_no or "")
    assert appt.status.value == "completed" and appt.attempts[-1].outcome == "picked_up"
    event = world.store.events_named("return.picked_up")[0]
    assert event.data["waybill_no"] == request.waybill_no
    assert world.store.event_names(appt.appointment_id)[-1] == "appointment.completed"
    # buyer-003 has trust 600: no express refund, the money waits for QC
    assert world.store.items("refunds") == [] and world.payments.calls == []


def test_pick_up_pays_a_trusted_buyer_at_once(world: World) -> None:
    request, appt = booked(world, sf(10), **trusted(world))
    cid = at_the_door(world, appt)
    assert cid == "courier-sf-01"
    inspect(world, appt, request.return_id, cid)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    [refund] = world.store.items("refunds")
    assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
    assert refund.idempotency_key == f"refund:{request.return_id}"
    assert [c.idempotency_key for c in world.payments.calls] == [refund.idempotency_key]
    assert world.payments.total_paid_fen == 39_900
    stored = world.store.item("returns", request.return_id)
    assert stored.status is ReturnStatus.PICKED_UP and stored.refund_id == refund.refund_id
    assert world.store.event_names(refund.refund_id) == ["refund.requested", "refund.succeeded"]


@pytest.mark.parametrize(
    "rules", [RefundRules(express_min_trust=900), RefundRules(express_max_fen=1)]
)
def test_no_express_refund_below_trust_or_above_the_cap(world: World, rules: RefundRules) -> None:
    world.svc = replace(world.svc, refunds=rules)
    picked_up(world, **trusted(world))
    assert world.store.items("refunds") == [] and world.payments.calls == []


def test_pick_up_someone_elses_visit_is_not_found(world: World) -> None:
    _, appt = booked(world)
    at_the_door(world, appt)
    with pytest.raises(NotFound):
        courier.pick_up(world.svc, "courier-sf-01", appt.appointment_id, appt.pickup_code)


def test_fail_attempt_records_the_reason(world: World) -> None:
    _, appt = booked(world)
    failed = courier.fail_attempt(
        world.svc, YTO2, appt.appointment_id, FailureReason.NO_ACCESS, "gate locked"
    )
    assert failed.status.value == "failed"
    event = world.store.events_named("appointment.attempt_failed")[0]
    assert event.data == {"courier_id": YTO2, "reason": "no_access", "attempt": 1}
    with pytest.raises(NotFound):
        courier.fail_attempt(
            world.svc, "courier-yto-01", appt.appointment_id, FailureReason.WEATHER, ""
        )


def test_a_return_refused_on_a_mixed_visit_can_be_booked_again(world: World) -> None:
    good, appt = booked(world)
    bad = approved(world)
    pickup.join_pickup(world.svc, B3, bad.return_id, appt.appointment_id)
    at_the_door(world, appt)
    inspect(world, appt, good.return_id, YTO2)
    inspect(world, appt, bad.return_id, YTO2, {**ALL_PASS, "unused": False})
    courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    assert returns.get_return(world.svc, good.return_id).status is ReturnStatus.PICKED_UP
    pickup.book_pickup(world.svc, B3, bad.return_id, yto(15))


def test_pick_up_needs_an_inspection_on_this_visit(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    inspect(world, appt, r.return_id, YTO2)
    courier.fail_attempt(world.svc, YTO2, appt.appointment_id, FailureReason.BAD_PHONE, "")
    moved = pickup.reschedule_pickup(world.svc, B3, appt.appointment_id, yto(15))
    cid = at_the_door(world, moved)
    with pytest.raises(Conflict):
        courier.pick_up(world.svc, cid, moved.appointment_id, moved.pickup_code)


def test_buyer_one_is_trusted_enough_for_express_refunds(world: World) -> None:
    assert world.data.buyer(B1).trust_score >= RefundRules().express_min_trust


def test_the_page_promises_an_express_refund_only_when_pickup_would_pay_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The buyer's page forecasts from the same trust as the pickup: a history of clawbacks
    takes a buyer with a high starting score below the threshold on both."""
    from tests.unit.services.fakes_money import (  # type: ignore[import-not-found]
        FakeHistoryRepository,
    )

    from doorstep.domain.trust import BuyerHistory
    from doorstep.entrypoints.web.queries import money_facts

    request, _ = booked(world, **trusted(world))
    assert money_facts(world.svc, request, set()).express_likely
    monkeypatch.setattr(
        FakeHistoryRepository, "of_buyer", lambda self, buyer_id: BuyerHistory(clawbacks=3)
    )
    assert not money_facts(world.svc, request, set()).express_likely
    done, _ = picked_up(world, **trusted(world))
    assert done.refund_id is None and world.payments.calls == []


# --- a step sent again after its answer was lost ---------------------------------------------


def test_the_same_pickup_sent_again_is_answered_as_the_first(world: World) -> None:
    """The courier's phone lost the pickup's answer and sends it again: the same receipt,
    nothing recorded twice (it answered 409 not_arrived)."""
    request, appt = booked(world, sf(10), **trusted(world))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    first = courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    before = len(world.store.events)
    again = courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    assert views.appointment_out(again, show_code=False) == views.appointment_out(
        first, show_code=False
    )
    assert len(world.store.events) == before
    assert len(world.store.items("refunds")) == 1 and len(world.payments.calls) == 1


def test_a_repeat_starts_the_express_refund_the_first_left_undone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    request, appt = booked(world, sf(10), **trusted(world))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)

    def dies(*_: object) -> None:
        raise RuntimeError("the process died after the pickup's commit")

    with monkeypatch.context() as m:
        m.setattr(courier, "start_express_refund", dies)
        with pytest.raises(RuntimeError):
            courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    assert world.store.items("refunds") == []
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.SUCCEEDED and len(world.payments.calls) == 1
    assert returns.get_return(world.svc, request.return_id).express_owed_since is None


def test_another_pickup_of_a_visit_done_is_refused_with_its_own_code(world: World) -> None:
    _, appt = picked_up(world)
    wrong = "000000" if appt.pickup_code != "000000" else "111111"
    before = len(world.store.events)
    with pytest.raises(Conflict) as refused:
        courier.pick_up(world.svc, YTO2, appt.appointment_id, wrong)
    assert refused.value.code == "visit_already_picked_up"
    assert refused.value.message_zh and refused.value.message_en
    with pytest.raises(Conflict, match="visit_already_picked_up"):
        courier.pick_up(world.svc, YTO2, appt.appointment_id, None)
    assert len(world.store.events) == before


def test_the_same_inspection_sent_again_is_answered_as_the_first(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    data = _input(world, r.return_id)
    first = courier.inspect(world.svc, YTO2, appt.appointment_id, data)
    world.clock.advance(minutes=1)
    # Sent again before the pickup: the same inspection, recorded once.
    assert courier.inspect(world.svc, YTO2, appt.appointment_id, data) == first
    assert len(world.store.events_named("return.inspected_at_door")) == 1
    courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    # And after the pickup that followed it (it answered 409 not_arrived).
    assert courier.inspect(world.svc, YTO2, appt.appointment_id, data) == first
    # A different inspection of a visit already picked up is refused.
    other = _input(world, r.return_id, note="scratched")
    with pytest.raises(Conflict, match="visit_already_picked_up"):
        courier.inspect(world.svc, YTO2, appt.appointment_id, other)
    assert len(world.store.events_named("return.inspected_at_door")) == 1


def test_a_changed_inspection_before_the_pickup_is_a_new_one(world: World) -> None:
    r, appt = booked(world)
    at_the_door(world, appt)
    courier.inspect(world.svc, YTO2, appt.appointment_id, _input(world, r.return_id))
    refused = {**ALL_PASS, "unused": False}
    again = courier.inspect(
        world.svc, YTO2, appt.appointment_id, _input(world, r.return_id, checklist=refused)
    )
    assert again.result is InspectionResult.REFUSED
    assert len(world.store.events_named("return.inspected_at_door")) == 2
