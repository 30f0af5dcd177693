"""Transfers through the payment port, exactly once per purpose and subject: exchange
differences, customs tax refunds, clawbacks and claim compensations (domain/transfer.py).

The same three steps as refunds (services/refunds.py): the transfer is created in the caller's
transaction under its unique key; the provider is asked outside any transaction with that key;
the answer is settled with the transfer's row locked. A timeout or a crash between the call
and the commit leaves it pending, and the sweep asks again under the same key, which the
provider answers with the first result instead of moving money twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.refund import RefundStatus
from doorstep.domain.transfer import (
    ProviderCall,
    Transfer,
    TransferPurpose,
    TransferStatus,
    transfer_key,
)
from doorstep.services import settlement
from doorstep.services.context import Services
from doorstep.services.ports import PaymentResult, TransferRepository, UnitOfWork
from doorstep.services.refunds import refund_key


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
        if existing.purpose is not purpose:
            # Returning another purpose's transfer would settle this one as that one's
            # repeat: the money owed would never move (TransferPurpose.key_prefix).
            raise ValueError(f"{existing.idempotency_key} belongs to {existing.purpose.value}")
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
    """The status of the transfer this one waits for (None: it waits for nothing). Tax
    taken back waits for the return's refund that advanced it: a refund still pending may
    yet be paid, a failed one paid nothing to take back."""
    if transfer.purpose is TransferPurpose.TAX_CLAWBACK:
        refund = uow.refunds.by_key(refund_key(transfer.subject_id))
        if refund is None or refund.status is RefundStatus.FAILED:
            return TransferStatus.FAILED
        if refund.status is RefundStatus.PENDING:
            return TransferStatus.PENDING
        return TransferStatus.SUCCEEDED
    key = transfer.awaited_key
    if key is None:
        return None
    first = uow.transfers.by_key(key)
    return first.status if first is not None else TransferStatus.FAILED


_NOTHING_CAME_IN = PaymentResult("", succeeded=False, retryable=False, reason="nothing_came_in")


def _settle_claim(uow: UnitOfWork, transfer: Transfer, provider_ref: str, now: datetime) -> None:
    """A claim's payout marks the claim compensated; other purposes settle nothing else."""
    if transfer.purpose is not TransferPurpose.CLAIM_PAYOUT:
        return
    claim = uow.claims.get_for_update(transfer.subject_id)
    if claim is not None:
        claim.compensated(now, provider_ref)
        uow.claims.save(claim)


def pay_transfer(svc: Services, transfer_id: str) -> Transfer:
    """Ask the provider under the transfer's key and settle the answer; safe to repeat, also
    from several callers at once. A transfer that gives money back waits until the money is
    known to have come in, and fails when it never did."""

    def plan(uow: UnitOfWork, transfer: Transfer) -> settlement.Call | None:
        awaited = _awaited(uow, transfer)
        if awaited is TransferStatus.PENDING:
            return None  # asked again by the sweep once the first one is settled
        if awaited is TransferStatus.FAILED:
            return lambda: _NOTHING_CAME_IN
        return partial(_ask_provider, svc, transfer)

    return settlement.settle(
        svc, transfer_id, noun="transfer", records=_transfers, plan=plan, also=_settle_claim
    )


def _transfers(uow: UnitOfWork) -> TransferRepository:
    return uow.transfers


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


# --- ops: transfers given up, and sending one again -------------------------------------------


@dataclass(frozen=True)
class TransferPage:
    """One page of transfers in one status, oldest first, with the count of every status."""

    items: list[Transfer]
    page: int
    per_page: int
    total: int
    counts: dict[str, int]

    @property
    def pages(self) -> int:
        """How many pages the status fills (at least one, empty or not)."""
        return max(1, -(-self.total // self.per_page))


def transfers_in(
    svc: Services, status: TransferStatus, page: int = 1, per_page: int = 50
) -> TransferPage:
    """Page ``page`` of the transfers in ``status`` (``failed``: ops must act), oldest first;
    two statements whatever the table holds."""
    with svc.uow() as uow:
        counts = uow.transfers.counts()
        items = uow.transfers.in_status(status, per_page, (page - 1) * per_page)
    return TransferPage(items, page, per_page, counts.get(status.value, 0), counts)


def retry_failed(svc: Services, actor_id: str, transfer_id: str) -> Transfer:
    """Ops send a transfer that was given up to the provider again, under its same key: it is
    reopened once with its row locked, and only the caller that reopened it asks the provider,
    so many consoles pressing at once move the money once. A transfer not failed is answered
    as it stands. Refused while the money is no longer owed: a collection for an exchange
    the buyer turned into a refund, a payback whose collection never came in."""
    with svc.uow() as uow:
        seen = uow.transfers.get(transfer_id)
        if seen is None:
            raise NotFound("transfer", transfer_id)
        if seen.purpose in (TransferPurpose.EXCHANGE_COLLECTION, TransferPurpose.EXCHANGE_TOP_UP):
            # The exchange's row first, as refund_instead locks it: either the buyer's
            # refund-instead sees this collection pending (and pays it back once it comes
            # in), or this sees the exchange released and collects nothing.
            exchange = uow.exchanges.get_for_update(seen.subject_id)
            if exchange is None or exchange.status is not ExchangeStatus.RESERVED:
                raise _not_owed(transfer_id)
        transfer = uow.transfers.get_for_update(transfer_id)
        assert transfer is not None  # transfers are never deleted
        if transfer.status is not TransferStatus.FAILED:
            return transfer
        if _awaited(uow, transfer) is TransferStatus.FAILED:
            raise _not_owed(transfer_id)
        transfer.retry(actor_id, svc.clock.now())
        uow.transfers.save(transfer)
        uow.commit()
    return pay_transfer(svc, transfer_id)


def _not_owed(transfer_id: str) -> Conflict:
    return Conflict(
        "transfer_not_owed",
        "This money is no longer owed (the exchange was released or nothing was collected); "
        "it is not sent again.",
        "该款项已无需支付（换货已取消或未曾收款），不再重新发起。",
        transfer_id=transfer_id,
    )
