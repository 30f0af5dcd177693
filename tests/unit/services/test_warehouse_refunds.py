"""Receiving, grading and refunding: money goes back exactly once, whatever is retried."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    at_the_door,
    inspect,
    new_order,
    open_return,
    picked_up,
    trusted,
    yto,
)

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.order import Channel, OrderLine
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Grade, ReturnKind, ReturnStatus
from doorstep.services import courier, pickup, refunds, warehouse

WH = "wh-sh-bonded"


def _received(world: World, **order_kw: object) -> str:
    request, _ = picked_up(world, **order_kw)
    warehouse.receive(world.svc, WH, request.return_id)
    return request.return_id


def test_receive_a_picked_up_parcel(world: World) -> None:
    request, _ = picked_up(world)
    received = warehouse.receive(world.svc, WH, request.return_id)
    assert received.status is ReturnStatus.RECEIVED and received.received_at == world.clock.now()
    event = world.store.events_named("return.received")[0]
    assert event.data["warehouse_id"] == WH


def test_receive_twice_or_unknown_conflicts(world: World) -> None:
    rid = _received(world)
    with pytest.raises(Conflict, match="illegal_transition"):
        warehouse.receive(world.svc, WH, rid)
    with pytest.raises(NotFound):
        warehouse.receive(world.svc, WH, "R-nope")


def test_grade_a_refunds_once(world: World) -> None:
    rid = _received(world)
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "as new")
    assert graded.status is ReturnStatus.REFUNDED
    [refund] = world.store.items("refunds")
    assert refund.kind is RefundKind.STANDARD and refund.status is RefundStatus.SUCCEEDED
    assert graded.refund_id == refund.refund_id
    assert [c.idempotency_key for c in world.payments.calls] == [f"refund:{rid}"]
    assert world.payments.total_paid_fen == 39_900
    names = world.store.event_names(rid)
    assert names[-2:] == ["return.quality_checked", "return.refunded"]
    assert world.store.event_names(refund.refund_id) == ["refund.requested", "refund.succeeded"]
    # Asking again pays nothing more.
    refunds.start_standard_refund(world.svc, rid)
    refunds.pay_refund(world.svc, refund.refund_id)
    assert len(world.payments.calls) == 1


def test_grade_b_is_still_refunded(world: World) -> None:
    rid = _received(world)
    assert warehouse.grade(world.svc, WH, rid, Grade.B, "open box").status is ReturnStatus.REFUNDED


def test_grade_a_after_an_express_refund_pays_nothing_more(world: World) -> None:
    rid = _received(world, **trusted(world))
    [express] = world.store.items("refunds")
    assert express.kind is RefundKind.EXPRESS and len(world.payments.calls) == 1
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "")
    assert graded.status is ReturnStatus.REFUNDED and graded.refund_id == express.refund_id
    assert len(world.payments.calls) == 1 and world.payments.total_paid_fen == 39_900
    assert [r.refund_id for r in world.store.items("refunds")] == [express.refund_id]
    assert len(world.store.events_named("return.refunded")) == 1


@pytest.mark.parametrize("grade", [Grade.C, Grade.REJECT])
def test_bad_grade_disputes_without_refund(world: World, grade: Grade) -> None:
    rid = _received(world)
    graded = warehouse.grade(world.svc, WH, rid, grade, "scratched", ("P-x",))
    assert graded.status is ReturnStatus.DISPUTED
    assert graded.quality_check is not None and graded.quality_check.photo_ids == ("P-x",)
    assert world.store.items("refunds") == [] and world.payments.calls == []
    assert world.store.events_named("return.disputed")[0].data["grade"] == grade.value


def test_grade_before_receipt_changes_nothing(world: World) -> None:
    request, _ = picked_up(world)
    with pytest.raises(Conflict, match="illegal_transition"):
        warehouse.grade(world.svc, WH, request.return_id, Grade.A, "")
    assert world.store.items("refunds") == []


def test_exchange_is_not_refunded(world: World) -> None:
    order = new_order(world)
    request = open_return(world, order, kind=ReturnKind.EXCHANGE)
    appt = pickup.book_pickup(world.svc, B3, request.return_id, yto(13))
    cid = at_the_door(world, appt)
    inspect(world, appt, request.return_id, cid)
    courier.pick_up(world.svc, cid, appt.appointment_id, appt.pickup_code)
    warehouse.receive(world.svc, WH, request.return_id)
    graded = warehouse.grade(world.svc, WH, request.return_id, Grade.A, "")
    # The replacement left at receipt; a good grade finishes the exchange (issue 9 §6).
    assert graded.status is ReturnStatus.EXCHANGED
    assert world.store.items("refunds") == [] and world.payments.calls == []


# --- paying -----------------------------------------------------------------------------------


def test_provider_timeout_leaves_the_refund_pending(world: World) -> None:
    rid = _received(world)
    world.payments.timeouts = 1
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "")
    assert graded.status is ReturnStatus.INSPECTED
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.PENDING
    assert (refund.attempts, refund.failure) == (1, "provider_timeout")
    failed = world.store.events_named("refund.attempt_failed")[0]
    assert failed.data == {"return_id": rid, "reason": "provider_timeout", "final": False}
    assert world.payments.paid == {}


def test_retry_pays_pending_refunds_once_with_the_same_key(world: World) -> None:
    rid = _received(world)
    world.payments.timeouts = 1
    warehouse.grade(world.svc, WH, rid, Grade.A, "")
    [settled] = refunds.retry_pending_refunds(world.svc)
    assert settled.status is RefundStatus.SUCCEEDED
    assert [c.idempotency_key for c in world.payments.calls] == [f"refund:{rid}"] * 2
    assert world.payments.total_paid_fen == 39_900
    assert world.store.item("returns", rid).status is ReturnStatus.REFUNDED
    # Nothing left to retry; paying again does nothing.
    assert refunds.retry_pending_refunds(world.svc) == []
    again = refunds.pay_refund(world.svc, settled.refund_id)
    assert again.status is RefundStatus.SUCCEEDED and len(world.payments.calls) == 2


def test_a_lost_answer_is_retried_without_paying_twice(world: World) -> None:
    rid = _received(world)
    world.payments.lose_answers = 1  # the provider paid, the answer never arrived
    warehouse.grade(world.svc, WH, rid, Grade.A, "")
    assert world.store.items("refunds")[0].status is RefundStatus.PENDING
    refunds.retry_pending_refunds(world.svc)
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.SUCCEEDED
    assert len(world.payments.paid) == 1 and world.payments.total_paid_fen == 39_900
    assert refund.provider_ref == world.payments.paid[f"refund:{rid}"][0]


def test_a_declined_refund_fails_for_good_and_is_not_retried(world: World) -> None:
    rid = _received(world)
    world.payments.decline = 1
    warehouse.grade(world.svc, WH, rid, Grade.A, "")
    [refund] = world.store.items("refunds")
    assert refund.status is RefundStatus.FAILED and refund.failure == "account_closed"
    assert refunds.retry_pending_refunds(world.svc) == []
    assert len(world.payments.calls) == 1


def test_express_timeout_is_settled_by_the_grade(world: World) -> None:
    world.payments.timeouts = 1
    rid = _received(world, **trusted(world))
    [pending] = world.store.items("refunds")
    assert pending.kind is RefundKind.EXPRESS and pending.status is RefundStatus.PENDING
    graded = warehouse.grade(world.svc, WH, rid, Grade.A, "")
    assert graded.status is ReturnStatus.REFUNDED and graded.refund_id == pending.refund_id
    assert world.payments.total_paid_fen == 39_900 and len(world.store.items("refunds")) == 1


def test_refund_covers_goods_and_the_proportional_tax(world: World) -> None:
    order = new_order(
        world,
        channel=Channel.BONDED,
        released_days_ago=2,
        lines=(OrderLine("L1", "CN-LATEX-PILLOW", 3, 10_000, 2_731),),
    )
    request = open_return(world, order, quantity=2)
    assert request.quote is not None
    assert (request.quote.goods_fen, request.quote.tax_fen) == (20_000, 1_820)  # 2731 × 2 // 3


def test_pay_unknown_refund_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match="refund_not_found"):
        refunds.pay_refund(world.svc, "F-nope")


def test_express_refund_started_twice_pays_once(world: World) -> None:
    request, _ = picked_up(world, **trusted(world))
    again = refunds.start_express_refund(world.svc, request.return_id)
    assert again is not None and again.status is RefundStatus.SUCCEEDED
    assert len(world.payments.calls) == 1 and len(world.store.items("refunds")) == 1


def test_no_express_refund_for_an_exchange(world: World) -> None:
    order = new_order(world, **trusted(world))
    request = open_return(world, order, kind=ReturnKind.EXCHANGE)
    assert refunds.start_express_refund(world.svc, request.return_id) is None
    assert world.payments.calls == []
