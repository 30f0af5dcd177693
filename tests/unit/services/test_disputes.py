"""A failed QC after an express refund: a dispute the buyer answers, ops decide, a clawback
through the payment port under its own key, and trust that follows the outcome."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B1,
    B1_HOME,
    new_order,
    open_return,
    photo,
    picked_up,
    trusted,
)

from doorstep.domain.dispute import DisputeStatus
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.refund import RefundKind
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.domain.transfer import TransferStatus
from doorstep.services import disputes, returns, transfers, trust, warehouse

WH = "wh-sh-bonded"


def _failed_qc(world: World, **order_kw: object) -> str:
    request, _ = picked_up(world, **order_kw)
    warehouse.receive(world.svc, WH, request.return_id)
    warehouse.grade(world.svc, WH, request.return_id, Grade.C, "scratched", ("QCPHOTO",))
    return request.return_id


def test_failed_qc_after_express_refund_opens_a_dispute_with_what_was_advanced(
    world: World,
) -> None:
    rid = _failed_qc(world, **trusted(world))
    [refund] = world.store.items("refunds")
    assert refund.kind is RefundKind.EXPRESS
    dispute = disputes.get_dispute(world.svc, rid, buyer_id="buyer-001")
    assert dispute.status is DisputeStatus.AWAITING_BUYER and dispute.advanced_fen == 39_900
    assert dispute.qc_photo_ids == ("QCPHOTO",)
    with pytest.raises(NotFound):
        disputes.get_dispute(world.svc, rid, buyer_id="buyer-003")


def test_qc_upheld_claws_back_once_and_lowers_trust(world: World) -> None:
    rid = _failed_qc(world, **trusted(world))
    before = trust.buyer_trust(world.svc, "buyer-001")
    shot = photo(world, "buyer-001")
    answered = disputes.answer_dispute(world.svc, "buyer-001", rid, "It left intact", [shot])
    assert answered.status is DisputeStatus.ANSWERED
    out = disputes.decide_dispute(
        world.svc, "ops-001", rid, buyer_upheld=False, note="deep scratches"
    )
    assert out.clawback is not None and out.clawback.status is TransferStatus.SUCCEEDED
    assert world.payments.clawed == {f"clawback:{rid}": (out.clawback.provider_ref, 39_900)}
    assert returns.get_return(world.svc, rid).status is ReturnStatus.CLOSED
    with pytest.raises(Conflict):
        disputes.decide_dispute(world.svc, "ops-002", rid, buyer_upheld=False, note="again")
    transfers.retry_pending(world.svc)
    assert len(world.payments.clawed) == 1
    after = trust.buyer_trust(world.svc, "buyer-001")
    assert after.score < before.score
    assert {"disputes_lost", "clawbacks"} <= {line.code for line in after.lines}


def test_buyer_upheld_keeps_the_express_refund_and_marks_refunded(world: World) -> None:
    rid = _failed_qc(world, **trusted(world))
    out = disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=True, note="ok")
    assert out.clawback is None and not world.payments.clawed
    assert returns.get_return(world.svc, rid).status is ReturnStatus.REFUNDED
    assert len(world.payments.paid) == 1


def test_buyer_upheld_without_express_refund_is_refunded_after(world: World) -> None:
    rid = _failed_qc(world)  # buyer-003: no express refund
    assert not world.store.items("refunds")
    assert disputes.get_dispute(world.svc, rid).advanced_fen == 0
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=True, note="")
    assert returns.get_return(world.svc, rid).status is ReturnStatus.REFUNDED
    assert world.payments.total_paid_fen == 39_900


def test_clawback_timeouts_stay_pending_and_the_sweep_finishes_under_the_same_key(
    world: World,
) -> None:
    rid = _failed_qc(world, **trusted(world))
    world.payments.lose_answers = 1  # the provider takes the money back, the answer is lost
    out = disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="")
    assert out.clawback is not None and out.clawback.status is TransferStatus.PENDING
    world.payments.timeouts = 1
    transfers.retry_pending(world.svc)
    transfers.retry_pending(world.svc)
    [clawback] = world.store.items("transfers")
    assert clawback.status is TransferStatus.SUCCEEDED and clawback.attempts == 2
    assert len(world.payments.clawed) == 1
    assert {c.idempotency_key for c in world.payments.calls if "clawback" in c.idempotency_key} == {
        f"clawback:{rid}"
    }


def test_a_partial_clawback(world: World) -> None:
    rid = _failed_qc(world, **trusted(world))
    disputes.decide_dispute(
        world.svc, "ops-001", rid, buyer_upheld=False, note="", clawback_fen=10_000
    )
    assert world.payments.clawed[f"clawback:{rid}"][1] == 10_000


def test_someone_elses_photo_is_not_evidence(world: World) -> None:
    rid = _failed_qc(world, **trusted(world))
    theirs = photo(world, "buyer-003")
    with pytest.raises(NotFound):
        disputes.answer_dispute(world.svc, "buyer-001", rid, "x", [theirs])


def test_a_lost_dispute_stops_the_next_express_refund(world: World) -> None:
    rid = _failed_qc(world, **trusted(world))
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="")
    picked_up(world, **trusted(world))
    express = [r for r in world.store.items("refunds") if r.kind is RefundKind.EXPRESS]
    assert len(express) == 1, "trust fell below the express threshold"


def test_after_a_lost_dispute_a_small_refund_only_request_waits_for_a_person(
    world: World,
) -> None:
    """Refund-only (仅退款) reads the same history-driven trust as express refunds."""

    def small() -> ReturnStatus:
        order = new_order(world, buyer_id=B1, address=B1_HOME, unit_price_fen=4_900)
        shot = (photo(world, B1),)
        kind, reason = ReturnKind.REFUND_ONLY, Reason.DAMAGED_ON_ARRIVAL
        return open_return(world, order, kind=kind, reason=reason, photo_ids=shot).status

    assert small() is ReturnStatus.REFUNDED  # trusted: paid at once
    rid = _failed_qc(world, **trusted(world))
    disputes.decide_dispute(world.svc, "ops-001", rid, buyer_upheld=False, note="")
    assert small() is ReturnStatus.IN_REVIEW
    held = [e for e in world.store.events_named("return.held_for_review")]
    assert "refund_only_trust_too_low" in held[-1].data["reasons"]
