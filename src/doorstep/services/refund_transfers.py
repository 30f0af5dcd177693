"""Clawbacks and claim compensations through the payment port, exactly once per purpose.

The same three steps as refunds (services/refunds.py): the transfer is created in the caller's
transaction under its unique key; the provider is asked outside any transaction with that
key; the answer is settled with the transfer's row locked. A timeout or a crash between the
call and the commit leaves it pending, and the sweep asks again under the same key, which the
provider answers with the first result instead of moving money twice.
"""

from __future__ import annotations

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.refund_transfer import Transfer, TransferPurpose, TransferStatus, transfer_key
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult, UnitOfWork


def ensure_transfer(
    svc: Services,
    uow: UnitOfWork,
    purpose: TransferPurpose,
    subject_id: str,
    buyer_id: str,
    amount_fen: int,
) -> Transfer:
    """The purpose's transfer, created once; the caller holds the subject's lock and
    commits."""
    existing = uow.transfers.by_key(transfer_key(purpose, subject_id))
    if existing is not None:
        return existing
    made = Transfer.request(
        svc.ids.new("T"), purpose, subject_id, buyer_id, amount_fen, svc.clock.now()
    )
    uow.transfers.add(made)
    return made


def _ask_provider(svc: Services, transfer: Transfer) -> PaymentResult:
    call = svc.payments.clawback if transfer.purpose.from_buyer else svc.payments.refund
    try:
        return call(
            transfer.idempotency_key, transfer.buyer_id, transfer.amount_fen, transfer.subject_id
        )
    except TimeoutError:
        # The provider may or may not have moved the money: ask again later, same key.
        return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")


def pay_transfer(svc: Services, transfer_id: str) -> Transfer:
    """Ask the provider under the transfer's key and settle the answer; safe to repeat, also
    from several callers at once."""
    with svc.uow() as uow:
        transfer = uow.transfers.get(transfer_id)
        if transfer is None:
            raise NotFound("transfer", transfer_id)
        if transfer.status is not TransferStatus.PENDING:
            return transfer
    result = _ask_provider(svc, transfer)
    with svc.uow() as uow:
        transfer = uow.transfers.get_for_update(transfer_id)
        assert transfer is not None
        if transfer.status is not TransferStatus.PENDING:
            return transfer  # another caller settled the same answer first
        now = svc.clock.now()
        if result.succeeded:
            transfer.succeed(result.provider_ref, now)
            if transfer.purpose is TransferPurpose.CLAIM:
                claim = uow.claims.get_for_update(transfer.subject_id)
                if claim is not None:
                    claim.compensated(now, result.provider_ref)
                    uow.claims.save(claim)
        else:
            transfer.note_attempt_failed(result.reason, now, final=not result.retryable)
        uow.transfers.save(transfer)
        uow.commit()
        return transfer


def retry_pending_transfers(svc: Services) -> list[Transfer]:
    """The sweep: pending transfers asked again under their keys; one that clashes with a
    concurrent change waits for the next sweep."""
    with svc.uow() as uow:
        pending = [x.transfer_id for x in uow.transfers.pending()]
    settled = []
    for transfer_id in pending:
        try:
            settled.append(pay_transfer(svc, transfer_id))
        except Conflict:
            continue
    return settled
