"""Opening, auditing, reviewing, cancelling and self-sending returns, through the fakes."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    B3_HOME,
    approved,
    booked,
    new_order,
    open_return,
    photo,
    slot_of,
    yto,
)

from doorstep.domain.address import Address
from doorstep.domain.decision import Outcome, ReturnMethod
from doorstep.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from doorstep.domain.order import Channel
from doorstep.domain.pickup import FailureReason
from doorstep.domain.policy import RuleConfig
from doorstep.domain.returns import Reason, ReturnKind, ReturnStatus
from doorstep.services import courier, pickup, policies, returns
from doorstep.services.returns import LineRequest, OpenReturn


def _open(world: World, buyer: str, order_id: str, *lines: LineRequest, **kw: object):  # type: ignore[no-untyped-def]
    return returns.open_return(
        world.svc,
        OpenReturn(buyer, order_id, ReturnKind.REFUND, tuple(lines), **kw),  # type: ignore[arg-type]
    )


def _nothing_stored(world: World, events_before: int) -> None:
    assert world.store.items("returns") == []
    assert len(world.store.events) == events_before


# --- open_return ------------------------------------------------------------------------------


def test_open_approves_and_records_decision_and_events(world: World) -> None:
    r = _open(world, B3, "TM2026000105", LineRequest("L1", 1, Reason.NO_REASON))
    assert r.status is ReturnStatus.APPROVED
    assert r.decision is not None and r.decision.outcome is Outcome.APPROVE
    assert r.decision.policy_version == 1 and r.decision.decided_by == "auto"
    assert {m.method for m in r.decision.methods} == set(ReturnMethod)
    stored = world.store.item("returns", r.return_id)
    assert stored.status is ReturnStatus.APPROVED and stored.decision == r.decision
    assert world.store.version("returns", r.return_id) == 1
    assert world.store.event_names(r.return_id) == [
        "return.submitted",
        "return.approved",
        "return.refund_quoted",
    ]
    assert r.quote is not None and r.quote.total_fen == 39_900
    assert r.address == world.data.order("TM2026000105").shipping_address


def test_open_rejects_outside_the_window(world: World) -> None:
    r = _open(world, "buyer-002", "TM2026000104", LineRequest("L1", 1, Reason.NO_REASON))
    assert r.status is ReturnStatus.REJECTED and r.decision.methods == ()
    rejected = world.store.events_named("return.rejected")
    assert [e.aggregate_id for e in rejected] == [r.return_id]
    assert "window_expired" in rejected[0].data["reasons"]


def test_open_holds_a_quality_claim_without_photo_for_review(world: World) -> None:
    r = open_return(world, new_order(world), reason=Reason.QUALITY)
    assert r.status is ReturnStatus.IN_REVIEW
    held = world.store.events_named("return.held_for_review")
    assert "evidence_missing" in held[0].data["reasons"]
    assert [x.return_id for x in returns.review_queue(world.svc)] == [r.return_id]


def test_open_with_own_photo_approves_a_quality_claim(world: World) -> None:
    pid = photo(world, B3)
    r = open_return(world, new_order(world), reason=Reason.QUALITY, photo_ids=(pid,))
    assert r.status is ReturnStatus.APPROVED
    assert [(e.kind, e.photo_id) for e in r.evidence] == [("photo", pid)]
    assert world.store.event_names(r.return_id) == [
        "return.submitted",
        "return.evidence_added",
        "return.approved",
        "return.refund_quoted",
    ]


@pytest.mark.parametrize("owner", ["buyer-001", "courier-yto-02", None])
def test_open_refuses_a_photo_the_buyer_does_not_own(world: World, owner: str | None) -> None:
    pid = photo(world, owner) if owner else "P-missing"
    order = new_order(world)
    before = len(world.store.events)
    with pytest.raises(NotFound) as err:
        open_return(world, order, reason=Reason.QUALITY, photo_ids=(pid,))
    assert err.value.code == "photo_not_found"
    _nothing_stored(world, before)


def test_open_keeps_a_text_note_as_evidence(world: World) -> None:
    order = new_order(world)
    r = _open(
        world, B3, order.order_id, LineRequest("L1", 1, Reason.NO_REASON), note="  too soft  "
    )
    assert [(e.kind, e.text) for e in r.evidence] == [("text", "too soft")]


@pytest.mark.parametrize(
    ("buyer", "order_id"),
    [("buyer-001", "TM2026000105"), (B3, "TM-NOPE")],
    ids=["someone_elses", "missing"],
)
def test_open_foreign_or_missing_order_is_not_found(
    world: World, buyer: str, order_id: str
) -> None:
    before = len(world.store.events)
    with pytest.raises(NotFound) as err:
        _open(world, buyer, order_id, LineRequest("L1", 1, Reason.NO_REASON))
    assert err.value.code == "order_not_found"
    _nothing_stored(world, before)


def test_open_unknown_line_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as err:
        _open(world, B3, "TM2026000105", LineRequest("L9", 1, Reason.NO_REASON))
    assert (err.value.code, err.value.details) == ("order_line_not_found", {"id": "L9"})
    assert world.store.items("returns") == []


def test_open_duplicate_line_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        _open(
            world,
            B3,
            "TM2026000105",
            LineRequest("L1", 1, Reason.NO_REASON),
            LineRequest("L1", 1, Reason.NO_REASON),
        )
    assert err.value.code == "duplicate_line" and err.value.details == {"line_id": "L1"}
    assert world.store.items("returns") == []


def test_open_without_lines_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="return_without_lines"):
        _open(world, B3, "TM2026000105")


def test_open_unknown_product_or_buyer_is_not_found(world: World) -> None:
    order = new_order(world, sku="NO-SUCH-SKU")
    with pytest.raises(NotFound, match="product_not_found"):
        open_return(world, order)
    ghost = new_order(world, buyer_id="buyer-ghost")
    with pytest.raises(NotFound, match="buyer_not_found"):
        open_return(world, ghost)
    assert world.store.items("returns") == []


def test_open_counts_quantities_already_under_return(world: World) -> None:
    order = new_order(world, quantity=2)
    first = open_return(world, order, quantity=2)
    assert first.status is ReturnStatus.APPROVED
    for kind in ReturnKind:
        with pytest.raises(Conflict, match="quantity_already_claimed") as err:
            open_return(world, order, kind=kind)
        assert err.value.details == {"line_id": "L1", "left": 0}
    assert len(world.store.items("returns")) == 1
    returns.cancel_return(world.svc, B3, first.return_id, "")
    assert open_return(world, order, quantity=2).status is ReturnStatus.APPROVED


def test_open_more_than_bought_is_refused_whatever_the_policy(world: World) -> None:
    policies.revise_policy(world.svc, (RuleConfig("quantity_available", False, {}),), "ops", "")
    order = new_order(world, quantity=2)
    with pytest.raises(InvalidInput, match="quantity_exceeds_purchase"):
        open_return(world, order, quantity=3)
    open_return(world, order, quantity=1)
    with pytest.raises(Conflict, match="quantity_already_claimed"):
        open_return(world, order, quantity=2)
    assert len(world.store.items("returns")) == 1


def test_open_collects_at_the_address_given(world: World) -> None:
    office = Address(
        "310115", "上海市", "上海市", "浦东新区", "世纪大道100号", "王浩然", "13800001003"
    )
    r = open_return(world, new_order(world), address=office)
    assert r.address == office and world.store.item("returns", r.return_id).address == office


def test_open_uses_the_stored_policy_version(world: World) -> None:
    policies.revise_policy(
        world.svc, (RuleConfig("high_value_review", True, {"threshold_fen": 0}),), "ops", ""
    )
    r = open_return(world, new_order(world))
    assert r.status is ReturnStatus.IN_REVIEW and r.decision.policy_version == 2


# --- evidence ---------------------------------------------------------------------------------


def test_add_evidence_photo_and_text(world: World) -> None:
    r = open_return(world, new_order(world), reason=Reason.QUALITY)
    pid = photo(world, B3)
    after = returns.add_evidence(world.svc, B3, r.return_id, photo_id=pid, text=" look ")
    assert [e.kind for e in after.evidence] == ["photo", "text"]
    assert world.store.version("returns", r.return_id) == 2
    assert world.store.event_names(r.return_id)[-2:] == ["return.evidence_added"] * 2


def test_add_evidence_refuses_empty_and_foreign(world: World) -> None:
    r = open_return(world, new_order(world), reason=Reason.QUALITY)
    with pytest.raises(InvalidInput, match="evidence_empty"):
        returns.add_evidence(world.svc, B3, r.return_id, photo_id=None, text="  ")
    with pytest.raises(NotFound, match="photo_not_found"):
        returns.add_evidence(world.svc, B3, r.return_id, photo_id=photo(world, "x"), text="")
    with pytest.raises(NotFound, match="return_request_not_found"):
        returns.add_evidence(world.svc, "buyer-001", r.return_id, photo_id=None, text="hi")
    assert world.store.version("returns", r.return_id) == 1


# --- review -----------------------------------------------------------------------------------


def _held(world: World):  # type: ignore[no-untyped-def]
    r = open_return(world, new_order(world), reason=Reason.QUALITY)
    assert r.status is ReturnStatus.IN_REVIEW
    return r


def test_review_approve_records_reviewer_and_keeps_methods(world: World) -> None:
    r = _held(world)
    world.clock.advance(hours=3)
    done = returns.review_return(world.svc, r.return_id, approve=True, reviewer="ops-001", note="")
    assert done.status is ReturnStatus.APPROVED
    d = done.decision
    assert d.outcome is Outcome.APPROVE and d.decided_by == "ops-001"
    assert d.decided_at == world.clock.now()
    assert (
        d.findings[-1].rule == "manual_review" and d.findings[-1].reason == "approved_by_reviewer"
    )
    assert {m.method for m in d.methods} == set(ReturnMethod)
    approved_event = world.store.events_named("return.approved")[-1]
    assert approved_event.aggregate_id == r.return_id
    assert approved_event.data["decided_by"] == "ops-001"


def test_review_reject_offers_nothing(world: World) -> None:
    r = _held(world)
    done = returns.review_return(
        world.svc, r.return_id, approve=False, reviewer="ops-001", note="fake photo"
    )
    assert done.status is ReturnStatus.REJECTED and done.decision.methods == ()
    assert done.decision.findings[-1].text_en == "fake photo"
    assert world.store.event_names(r.return_id)[-1] == "return.rejected"


def test_review_of_a_return_not_in_review_conflicts(world: World) -> None:
    r = approved(world)
    with pytest.raises(Conflict) as err:
        returns.review_return(world.svc, r.return_id, approve=True, reviewer="ops", note="")
    assert err.value.code == "not_in_review"
    assert world.store.version("returns", r.return_id) == 1
    with pytest.raises(NotFound):
        returns.review_return(world.svc, "R-nope", approve=True, reviewer="ops", note="")


def test_review_judges_the_law_clocks_at_filing_time(world: World) -> None:
    r = _held(world)  # signed yesterday: inside every window at filing
    world.clock.advance(days=20)  # the 15-day quality window has long ended
    done = returns.review_return(world.svc, r.return_id, approve=True, reviewer="ops", note="")
    assert done.status is ReturnStatus.APPROVED
    assert not [f for f in done.decision.findings if f.reason == "window_expired"]
    assert all(m.until is not None and m.until > r.created_at for m in done.decision.methods)


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_an_approved_return(world: World) -> None:
    r = approved(world)
    done = returns.cancel_return(world.svc, B3, r.return_id, "")
    assert done.status is ReturnStatus.CANCELLED and done.cancel_reason == "buyer_cancelled"
    assert world.store.events_named("return.cancelled")[0].data["reason"] == "buyer_cancelled"


def test_cancel_someone_elses_return_is_not_found(world: World) -> None:
    r = approved(world)
    with pytest.raises(NotFound):
        returns.cancel_return(world.svc, "buyer-001", r.return_id, "")
    assert world.store.item("returns", r.return_id).status is ReturnStatus.APPROVED


def test_cancel_the_last_return_on_a_visit_frees_its_capacity(world: World) -> None:
    r, appt = booked(world)
    slot = slot_of(yto(13))
    assert world.store.slot(slot).booked == 1
    returns.cancel_return(world.svc, B3, r.return_id, "found a use")
    stored = world.store.item("appointments", appt.appointment_id)
    assert stored.status.value == "cancelled" and stored.return_ids == []
    assert world.store.slot(slot).booked == 0
    names = world.store.event_names(appt.appointment_id)
    assert names[-2:] == ["appointment.return_left", "appointment.cancelled"]


def test_cancel_one_of_two_returns_keeps_the_visit_and_its_capacity(world: World) -> None:
    first, appt = booked(world)
    second = approved(world)
    pickup.join_pickup(world.svc, B3, second.return_id, appt.appointment_id)
    returns.cancel_return(world.svc, B3, first.return_id, "")
    stored = world.store.item("appointments", appt.appointment_id)
    assert stored.active and stored.return_ids == [second.return_id]
    assert world.store.slot(slot_of(yto(13))).booked == 1


def test_cancel_after_pickup_is_illegal_and_changes_nothing(world: World) -> None:
    from tests.unit.services.helpers import picked_up  # type: ignore[import-not-found]

    r, _ = picked_up(world)
    before = len(world.store.events)
    with pytest.raises(Conflict, match="illegal_transition"):
        returns.cancel_return(world.svc, B3, r.return_id, "")
    assert len(world.store.events) == before


def test_cancel_while_the_courier_is_at_the_door_rolls_back_entirely(world: World) -> None:
    r, appt = booked(world)
    courier.arrive(world.svc, appt.courier_id, appt.appointment_id)
    before = len(world.store.events)
    version = world.store.version("returns", r.return_id)
    with pytest.raises(Conflict, match="illegal_transition"):
        returns.cancel_return(world.svc, B3, r.return_id, "")
    # request.cancel ran in memory before the visit refused to lose its last return
    assert world.store.item("returns", r.return_id).status is ReturnStatus.AWAITING_PICKUP
    assert world.store.version("returns", r.return_id) == version
    assert len(world.store.events) == before
    assert world.store.slot(slot_of(yto(13))).booked == 1


def test_cancel_after_a_failed_attempt_keeps_the_used_window_taken(world: World) -> None:
    r, appt = booked(world)
    courier.fail_attempt(
        world.svc, appt.courier_id, appt.appointment_id, FailureReason.BUYER_UNREACHABLE, ""
    )
    returns.cancel_return(world.svc, B3, r.return_id, "")
    assert world.store.item("appointments", appt.appointment_id).status.value == "cancelled"
    assert world.store.slot(slot_of(yto(13))).booked == 1  # as after cancel_pickup


# --- self-send --------------------------------------------------------------------------------


def test_choose_drop_off_then_register_the_shipment(world: World) -> None:
    r = approved(world)
    chosen = returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.DROPOFF)
    assert chosen.status is ReturnStatus.AWAITING_DROPOFF and chosen.method is ReturnMethod.DROPOFF
    with pytest.raises(InvalidInput, match="waybill_format"):
        returns.register_shipment(world.svc, B3, r.return_id, "YT123", "yto")
    shipped = returns.register_shipment(world.svc, B3, r.return_id, " yt2612011234567", "yto")
    assert shipped.status is ReturnStatus.IN_TRANSIT
    assert (shipped.waybill_no, shipped.carrier_id) == ("YT2612011234567", "yto")
    assert world.store.event_names(r.return_id)[-2:] == [
        "return.awaiting_dropoff",
        "return.shipped",
    ]


def test_choose_pickup_this_way_is_refused(world: World) -> None:
    r = approved(world)
    with pytest.raises(InvalidInput, match="use_booking_for_pickup"):
        returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.PICKUP)


def test_choose_a_withdrawn_method_conflicts(world: World) -> None:
    policies.revise_policy(
        world.svc,
        (RuleConfig("cross_border_deadline", True, {"self_ship_cutoff_day": 1}),),
        "ops-001",
        "self-ship only on day one",
    )
    order = new_order(world, channel=Channel.BONDED, released_days_ago=3, tax_fen=3_631)
    r = open_return(world, order)
    assert r.decision.unavailable == {"self_ship": "self_ship_too_late_for_customs"}
    with pytest.raises(Conflict) as err:
        returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.SELF_SHIP)
    assert err.value.code == "method_not_offered"
    assert err.value.details["why"] == "self_ship_too_late_for_customs"


def test_choose_after_the_deadline_conflicts(world: World) -> None:
    r = approved(world)
    world.clock.advance(days=9)
    with pytest.raises(Conflict, match="method_expired"):
        returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.DROPOFF)


def test_register_shipment_checks_carrier_and_state(world: World) -> None:
    r = approved(world)
    with pytest.raises(Conflict, match="illegal_transition"):
        returns.register_shipment(world.svc, B3, r.return_id, "YT2612011234567", "yto")
    returns.choose_self_send(world.svc, B3, r.return_id, ReturnMethod.SELF_SHIP)
    with pytest.raises(InvalidInput, match="carrier_unsupported"):
        returns.register_shipment(world.svc, B3, r.return_id, "ZZ1234567", "acme")
    with pytest.raises(InvalidInput, match="waybill_format"):
        returns.register_shipment(world.svc, B3, r.return_id, "ZZ1", "zto")
    assert world.store.item("returns", r.return_id).status is ReturnStatus.AWAITING_DROPOFF


def test_reads_are_scoped_to_the_buyer(world: World) -> None:
    older = approved(world)
    world.clock.advance(minutes=1)
    newer = approved(world)
    assert [r.return_id for r in returns.returns_of(world.svc, B3)] == [
        newer.return_id,
        older.return_id,
    ]
    assert returns.returns_of(world.svc, "buyer-001") == []
    assert returns.get_return(world.svc, older.return_id, buyer_id=B3).return_id == older.return_id
    with pytest.raises(DomainError, match="return_request_not_found"):
        returns.get_return(world.svc, older.return_id, buyer_id="buyer-001")


def test_home_address_constant_matches_the_demo(world: World) -> None:
    assert world.data.order("TM2026000105").shipping_address == B3_HOME
