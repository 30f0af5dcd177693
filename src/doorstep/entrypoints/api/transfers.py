"""Transfers over HTTP for ops: the ones in a status (``failed``: given up, ops must act), a
page at a time, and sending a failed one to the provider again under its same key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus
from doorstep.entrypoints.api.deps import OpsActor, Svc
from doorstep.entrypoints.api.schemas import Id, Out
from doorstep.services import transfers

router = APIRouter(prefix="/ops/transfers", tags=["ops"])

# Bounded so that a page is one cheap statement: at most 100 rows, 10,000 pages deep.
PageNo = Annotated[int, Query(ge=1, le=10_000)]
PerPage = Annotated[int, Query(ge=1, le=100)]


class TransferOut(Out):
    """One transfer: what it is for, which way, how far it got and why it stopped."""

    transfer_id: str
    purpose: TransferPurpose
    direction: str
    subject_id: str
    buyer_id: str
    amount_fen: int
    idempotency_key: str
    status: TransferStatus
    attempts: int
    failure: str | None
    provider_ref: str | None
    created_at: datetime
    settled_at: datetime | None


class TransferPageOut(Out):
    """A page of transfers in one status, oldest first; ``next_page`` is null on the last."""

    items: list[TransferOut]
    status: TransferStatus
    page: int
    pages: int
    total: int
    next_page: int | None


def transfer_out(x: Transfer) -> TransferOut:
    """The API view of a transfer."""
    return TransferOut(
        transfer_id=x.transfer_id,
        purpose=x.purpose,
        direction=x.purpose.call.value,
        subject_id=x.subject_id,
        buyer_id=x.buyer_id,
        amount_fen=x.amount_fen,
        idempotency_key=x.idempotency_key,
        status=x.status,
        attempts=x.attempts,
        failure=x.failure,
        provider_ref=x.provider_ref,
        created_at=x.created_at,
        settled_at=x.settled_at,
    )


@router.get(
    "",
    response_model=TransferPageOut,
    summary="Transfers in a status (failed: given up, ops must act), oldest first, paged",
)
def list_transfers(
    svc: Svc,
    _: OpsActor,
    status: TransferStatus = TransferStatus.FAILED,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> TransferPageOut:
    found = transfers.transfers_in(svc, status, page, per_page)
    return TransferPageOut(
        items=[transfer_out(x) for x in found.items],
        status=status,
        page=page,
        pages=found.pages,
        total=found.total,
        next_page=page + 1 if page < found.pages else None,
    )


@router.post(
    "/{transfer_id}/retry",
    response_model=TransferOut,
    summary="Send a failed transfer to the provider again under its same idempotency key",
)
def retry_transfer(svc: Svc, me: OpsActor, transfer_id: Id) -> TransferOut:
    return transfer_out(transfers.retry_failed(svc, me.actor_id, transfer_id))
