"""Buyer: pre-check, open returns, evidence, decisions, timeline and receipt."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from doorstep.domain.address import Address
from doorstep.domain.identity import Role
from doorstep.domain.receipt import MAX_TOKEN_CHARS
from doorstep.domain.returns import Condition
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import AnyActor, BuyerActor, MyReturn, Svc
from doorstep.entrypoints.api.errors import domain_values
from doorstep.entrypoints.api.schemas import (
    Adcode,
    AddressIn,
    CancelIn,
    EventOut,
    EvidenceIn,
    FindingOut,
    Id,
    OpenReturnIn,
    PrecheckOut,
    QuoteIn,
    ReceiptFactsOut,
    ReceiptOut,
    RefundQuoteOut,
    RefusedItemOut,
    ReturnLineIn,
    ReturnOut,
    SelfSendIn,
    ShipmentIn,
)
from doorstep.services import precheck as precheck_service
from doorstep.services import returns, timeline
from doorstep.services.returns import LineRequest, OpenReturn

router = APIRouter(tags=["buyer"])


def to_address(a: AddressIn) -> Address:
    with domain_values():
        return Address(**a.model_dump())


@router.get(
    "/precheck",
    response_model=PrecheckOut,
    summary="Does this product at this address get door pickup, until when, and why not",
)
def precheck(
    svc: Svc,
    actor: AnyActor,
    sku: Annotated[Id, Query()],
    adcode: Annotated[Adcode, Query()],
    order_id: Annotated[Id | None, Query()] = None,
) -> PrecheckOut:
    result = precheck_service.precheck(
        svc,
        sku,
        adcode,
        order_id=order_id,
        buyer_id=actor.actor_id if actor.role is Role.BUYER else None,
    )
    return PrecheckOut(
        sku=result.sku,
        adcode=result.adcode,
        pickup=result.pickup,
        until=result.until,
        policy_version=result.policy_version,
        findings=[FindingOut.model_validate(f) for f in result.findings],
    )


def _lines(body: list[ReturnLineIn]) -> tuple[LineRequest, ...]:
    with domain_values():
        return tuple(
            LineRequest(
                ln.order_line_id,
                ln.quantity,
                ln.reason,
                Condition(**ln.condition.model_dump()),
                ln.note,
            )
            for ln in body
        )


@router.post(
    "/returns/quote",
    response_model=RefundQuoteOut,
    summary="Before filing: what a return would refund, line by line",
)
def quote(svc: Svc, buyer: BuyerActor, body: QuoteIn) -> RefundQuoteOut:
    cmd = OpenReturn(buyer.actor_id, body.order_id, body.kind, _lines(body.lines))
    return views.quote_out(returns.quote_return(svc, cmd))


@router.post(
    "/returns",
    response_model=ReturnOut,
    status_code=201,
    summary="Open a return; it is audited at once",
)
def open_return(svc: Svc, buyer: BuyerActor, body: OpenReturnIn) -> ReturnOut:
    lines = _lines(body.lines)
    cmd = OpenReturn(
        buyer_id=buyer.actor_id,
        order_id=body.order_id,
        kind=body.kind,
        lines=lines,
        address=to_address(body.address) if body.address else None,
        photo_ids=tuple(body.photo_ids),
        note=body.note,
        replacements=dict(body.replacements),
    )
    return views.return_out(returns.open_return(svc, cmd))


@router.get("/returns", response_model=list[ReturnOut], summary="My returns")
def my_returns(svc: Svc, buyer: BuyerActor) -> list[ReturnOut]:
    return [views.return_out(r) for r in returns.returns_of(svc, buyer.actor_id)]


@router.get("/returns/{return_id}", response_model=ReturnOut, summary="One of my returns")
def get_return(svc: Svc, mine: MyReturn) -> ReturnOut:
    return views.return_out(returns.get_return(svc, mine.return_id, buyer_id=mine.buyer_id))


@router.post(
    "/returns/{return_id}/evidence",
    response_model=ReturnOut,
    summary="Attach an uploaded photo or a text",
)
def add_evidence(svc: Svc, mine: MyReturn, body: EvidenceIn) -> ReturnOut:
    return views.return_out(
        returns.add_evidence(
            svc, mine.buyer_id, mine.return_id, photo_id=body.photo_id, text=body.text
        )
    )


@router.post("/returns/{return_id}/cancel", response_model=ReturnOut, summary="Withdraw")
def cancel(svc: Svc, mine: MyReturn, body: CancelIn) -> ReturnOut:
    return views.return_out(returns.cancel_return(svc, mine.buyer_id, mine.return_id, body.reason))


@router.post(
    "/returns/{return_id}/self-send",
    response_model=ReturnOut,
    summary="Choose drop-off or self-ship instead of door pickup",
)
def self_send(svc: Svc, mine: MyReturn, body: SelfSendIn) -> ReturnOut:
    chosen = returns.choose_self_send(svc, mine.buyer_id, mine.return_id, body.method)
    return views.return_out(chosen)


@router.post(
    "/returns/{return_id}/shipment",
    response_model=ReturnOut,
    summary="Report the waybill of a dropped-off or self-shipped parcel",
)
def shipment(svc: Svc, mine: MyReturn, body: ShipmentIn) -> ReturnOut:
    return views.return_out(
        returns.register_shipment(
            svc, mine.buyer_id, mine.return_id, body.waybill_no, body.carrier_id
        )
    )


@router.get(
    "/returns/{return_id}/timeline",
    response_model=list[EventOut],
    summary="Every event of the return with its time",
)
def return_timeline(svc: Svc, mine: MyReturn) -> list[EventOut]:
    events = timeline.timeline(svc, mine.return_id, buyer_id=mine.buyer_id)
    return [views.event_out(e) for e in events]


@router.get(
    "/returns/{return_id}/receipt",
    response_model=ReceiptOut,
    summary="The pickup receipt (取件凭证)",
)
def receipt(svc: Svc, mine: MyReturn) -> ReceiptOut:
    found = timeline.receipt(svc, mine.return_id, buyer_id=mine.buyer_id)
    out = ReceiptOut.model_validate(replace(found, refund=None, refused=()))
    return out.model_copy(
        update={
            "refund": views.quote_out(found.refund) if found.refund else None,
            "refused": [
                RefusedItemOut(sku=sku, quantity=n, failed=list(why))
                for sku, n, why in found.refused
            ],
        }
    )


@router.get(
    "/receipts/verify",
    response_model=ReceiptFactsOut,
    summary="Check a pickup receipt's QR code: the signed facts, or 422 receipt_not_genuine",
)
def verify_receipt(
    svc: Svc, t: Annotated[str, Query(min_length=1, max_length=MAX_TOKEN_CHARS)]
) -> ReceiptFactsOut:
    """Open to anyone holding the receipt: no account, no data read, only the signature."""
    return ReceiptFactsOut.model_validate(timeline.verify_receipt(svc, t))
