"""Disputes over a failed QC: the buyer answers, ops decide (and see why a buyer is trusted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from doorstep.entrypoints.api.deps import MyReturn, OpsActor, Svc
from doorstep.entrypoints.api.schemas import Id
from doorstep.entrypoints.api.schemas_money import (
    DisputeDecisionIn,
    DisputeEvidenceIn,
    DisputeOut,
    QueuedDisputeOut,
    TrustLineOut,
    TrustOut,
)
from doorstep.services import disputes, trust
from doorstep.services.disputes import DisputeOutcome

router = APIRouter(tags=["disputes"])


def dispute_out(outcome: DisputeOutcome) -> DisputeOut:
    out = DisputeOut.model_validate(outcome.dispute)
    out.clawback_status = outcome.clawback.status.value if outcome.clawback else None
    return out


@router.get(
    "/returns/{return_id}/dispute",
    response_model=DisputeOut,
    summary="The dispute over this return's failed QC",
)
def get_dispute(svc: Svc, mine: MyReturn) -> DisputeOut:
    return dispute_out(disputes.view_dispute(svc, mine.return_id, buyer_id=mine.buyer_id))


@router.post(
    "/returns/{return_id}/dispute/evidence",
    response_model=DisputeOut,
    summary="Answer a failed QC with a text and photos uploaded before",
)
def answer(svc: Svc, mine: MyReturn, body: DisputeEvidenceIn) -> DisputeOut:
    disputes.answer_dispute(svc, mine.buyer_id, mine.return_id, body.text, body.photo_ids)
    return dispute_out(disputes.view_dispute(svc, mine.return_id, buyer_id=mine.buyer_id))


@router.get(
    "/ops/disputes",
    response_model=list[QueuedDisputeOut],
    summary="Open disputes (queue), each with the clawback a decision would take by default",
)
def queue(
    svc: Svc,
    _: OpsActor,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[QueuedDisputeOut]:
    return [
        QueuedDisputeOut.model_validate(
            {
                **DisputeOut.model_validate(q.dispute).model_dump(),
                "default_clawback_fen": q.clawback_fen,
                "tax_kept_fen": q.tax_kept_fen,
            }
        )
        for q in disputes.queue_with_defaults(svc, limit, offset)
    ]


@router.post(
    "/ops/disputes/{return_id}/decision",
    response_model=DisputeOut,
    summary="Decide a dispute; upholding the QC claws back an express refund",
)
def decide(svc: Svc, me: OpsActor, return_id: Id, body: DisputeDecisionIn) -> DisputeOut:
    return dispute_out(
        disputes.decide_dispute(
            svc,
            me.actor_id,
            return_id,
            buyer_upheld=body.buyer_upheld,
            note=body.note,
            clawback_fen=body.clawback_fen,
        )
    )


@router.get(
    "/ops/buyers/{buyer_id}/trust",
    response_model=TrustOut,
    summary="A buyer's trust score and the lines that explain it",
)
def buyer_trust(svc: Svc, _: OpsActor, buyer_id: Id) -> TrustOut:
    assessed = trust.buyer_trust(svc, buyer_id)
    return TrustOut(
        buyer_id=buyer_id,
        score=assessed.score,
        express_min_trust=svc.refunds.express_min_trust,
        lines=[TrustLineOut.model_validate(line) for line in assessed.lines],
    )
