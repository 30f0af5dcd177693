"""Claims: buyers file damage and counterfeit claims, merchants answer, ops decide; carriers'
settlements show what transit damage cost them, and what above the value declared to them
(or their cap) doorstep bore."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from doorstep.domain.claim import ClaimStatus
from doorstep.domain.identity import Role
from doorstep.entrypoints.api.deps import BuyerActor, OpsActor, PartnerOrOps, Svc
from doorstep.entrypoints.api.schemas import Id
from doorstep.entrypoints.api.schemas_money import (
    ClaimAnswerIn,
    ClaimDecisionIn,
    ClaimIn,
    ClaimOut,
    SettlementOut,
)
from doorstep.services import claims
from doorstep.services.claims import FileClaim

router = APIRouter(tags=["claims"])


@router.post("/claims", response_model=ClaimOut, status_code=201, summary="File a claim")
def file_claim(svc: Svc, me: BuyerActor, body: ClaimIn) -> ClaimOut:
    cmd = FileClaim(
        me.actor_id,
        body.order_id,
        body.kind,
        tuple((line.line_id, line.quantity) for line in body.lines),
        body.text,
        tuple(body.photo_ids),
    )
    return ClaimOut.model_validate(claims.file_claim(svc, cmd))


@router.get("/claims", response_model=list[ClaimOut], summary="My claims")
def my_claims(svc: Svc, me: BuyerActor) -> list[ClaimOut]:
    return [ClaimOut.model_validate(c) for c in claims.claims_of_buyer(svc, me.actor_id)]


@router.get("/claims/{claim_id}", response_model=ClaimOut, summary="One of my claims")
def my_claim(svc: Svc, me: BuyerActor, claim_id: Id) -> ClaimOut:
    return ClaimOut.model_validate(claims.get_claim(svc, claim_id, buyer_id=me.actor_id))


@router.post(
    "/partner/claims/{claim_id}/answer",
    response_model=ClaimOut,
    summary="The merchant's answer within 24 hours (silence approves damage claims)",
)
def answer(svc: Svc, me: PartnerOrOps, claim_id: Id, body: ClaimAnswerIn) -> ClaimOut:
    shop = me.actor_id if me.role is Role.PARTNER else None
    return ClaimOut.model_validate(
        claims.answer_claim(svc, claim_id, accept=body.accept, text=body.text, shop_id=shop)
    )


@router.get("/ops/claims", response_model=list[ClaimOut], summary="Claims queue")
def queue(
    svc: Svc,
    _: OpsActor,
    status: Annotated[list[ClaimStatus] | None, Query(max_length=5)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ClaimOut]:
    statuses = [s.value for s in status] if status else list(claims.OPEN_FOR_OPS)
    queue = claims.claim_queue(svc, statuses, limit, offset)
    return [ClaimOut.model_validate(c) for c in queue]


@router.post("/ops/claims/{claim_id}/decision", response_model=ClaimOut, summary="Decide a claim")
def decide(svc: Svc, me: OpsActor, claim_id: Id, body: ClaimDecisionIn) -> ClaimOut:
    return ClaimOut.model_validate(
        claims.decide_claim(svc, me.actor_id, claim_id, approve=body.approve, note=body.note)
    )


@router.get(
    "/ops/carriers/{carrier_id}/settlement",
    response_model=SettlementOut,
    summary="What a carrier is charged for transit-damage claims (at most the value its "
    "pickup orders declared) and the loss above it that doorstep bore",
)
def settlement(svc: Svc, _: OpsActor, carrier_id: Id) -> SettlementOut:
    return SettlementOut.model_validate(claims.carrier_settlement(svc, carrier_id))
