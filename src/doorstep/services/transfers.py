"""Transfers through the payment port, exactly once per purpose and subject: exchange
differences, customs tax refunds, clawbacks and claim compensations (domain/transfer.py).

The same three steps as refunds (services/refunds.py): the transfer is created in the caller's
transaction under its unique key; the provider is asked outside any transaction with that key;
the answer is settled with the transfer's row locked. A timeout or a crash between the call
and the commit leaves it pending, and the sweep asks again under the same key, which the
provider answers with the first result instead of moving money twice.
"""

from __future__ import annotations

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.transfer import (
    ProviderCall,
    Transfer,
    TransferPurpose,
    TransferStatus,
    transfer_key,
)
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult, UnitOfWork


def request_transfer(
    svc: Services,
    uow: UnitOfWork,
    purpose: TransferPurpose,
    subject_id: str,
    buyer_id: str,
    amount_fen: int,
) -> Transfer:
    """The transfer of ``purpose`` for ``subject_id``, created once inside the caller's
    transaction (the caller holds the subject's lock and commits)."""
    existing = uow.transfers.by_key(transfer_key(purpose, subject_id))
    if existing is not None:
        return existing
    made = Transfer.request(
        svc.ids.new("T"), purpose, subject_id, buyer_id, amount_fen, svc.clock.now()
    )
    uow.transfers.add(made)
    return made


def _ask_provider(svc: Services, transfer: Transfer) -> PaymentResult:
    call = {
        ProviderCall.PAY_OUT: svc.payments.refund,
        ProviderCall.COLLECT: svc.payments.collect,
        ProviderCall.CLAWBACK: svc.payments.clawback,
    }[transfer.purpose.call]
    try:
        return call(
            transfer.idempotency_key, transfer.buyer_id, transfer.amount_fen, transfer.subject_id
        )
    except TimeoutError:
        # The provider may or may not have moved the money: ask again later, same key.
        return PaymentResult("", succeeded=False, retryable=True, reason="provider_timeout")


def _awaited(uow: UnitOfWork, transfer: Transfer) -> TransferStatus | None:
    """The status of the transfer this one waits for (None: it waits for nothing)."""
    key = transfer.awaited_key
    if key is None:
        return None
    first = uow.transfers.by_key(key)
    return first.status if first is not None else TransferStatus.FAILED


def pay_transfer(svc: Services, transfer_id: str) -> Transfer:
    """Ask the provider under the transfer's key and settle the answer; safe to repeat, also
    from several callers at once. A transfer that gives money back waits until the money is
    known to have come in, and fails when it never did."""
    with svc.uow() as uow:
        transfer = uow.transfers.get(transfer_id)
        if transfer is None:
            raise NotFound("transfer", transfer_id)
        if transfer.status is not TransferStatus.PENDING:
            return transfer
        awaited = _awaited(uow, transfer)
    if awaited is TransferStatus.PENDING:
        return transfer  # asked again by the sweep once the first one is settled
    if awaited is TransferStatus.FAILED:
        result = PaymentResult("", succeeded=False, retryable=False, reason="nothing_came_in")
    else:
        result = _ask_provider(svc, transfer)
    with svc.uow() as uow:
        transfer = uow.transfers.get_for_update(transfer_id)
        assert transfer is not None
        if transfer.status is not TransferStatus.PENDING:
            return transfer  # another caller settled the same answer first
        now = svc.clock.now()
        if result.succeeded:
            transfer.succeed(result.provider_ref, now)
            if transfer.purpose is TransferPurpose.CLAIM_PAYOUT:
                claim = uow.claims.get_for_update(transfer.subject_id)
                if claim is not None:
                    claim.compensated(now, result.provider_ref)
                    uow.claims.save(claim)
        else:
            transfer.attempt_failed(result.reason, now, final=not result.retryable)
        uow.transfers.save(transfer)
        uow.commit()
        return transfer


def retry_pending(svc: Services, limit: int = 200) -> int:
    """The worker's sweep: pending transfers asked again under their keys, oldest first (a
    collection before the payback that waits for it). Returns how many got settled; one that
    clashes with a concurrent change waits for the next sweep."""
    with svc.uow() as uow:
        pending = [x.transfer_id for x in uow.transfers.pending(limit)]
    settled = 0
    for transfer_id in pending:
        try:
            if pay_transfer(svc, transfer_id).status is not TransferStatus.PENDING:
                settled += 1
        except Conflict:
            continue
    return settled
