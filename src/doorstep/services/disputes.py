"""Disputes over a failed QC (issue 9 §3): opened with the grade, answered by the buyer with
text and photos, decided by ops; upholding the QC takes an express refund back (a clawback
through the payment port under ``clawback:<return_id>``) less the import tax customs gives
back for goods back by day 45 (``customs.tax_kept_by_buyer``: the buyer's whatever QC
found), or charges for an exchange's replacement shipped before the warehouse saw the old
item (``exchange-recover:<return_id>``) and releases one not shipped yet; finding for the
buyer lets the return be refunded (or marks a paid express refund as earned).

Exactly once: the decision is taken with the return's row locked (as refunds are created), so
racing reviewers find the dispute decided; the clawback's key is unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorstep.domain.dispute import Dispute, DisputeEvidence, dispute_id
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus, transfer_key
from doorstep.services import customs, exchanges, transfers
from doorstep.services.context import Services
from doorstep.services.lookups import owned
from doorstep.services.ports import UnitOfWork
from doorstep.services.refunds import refund_key, start_standard_refund


def open_for_failed_qc(
    svc: Services, uow: UnitOfWork, request: ReturnRequest, at: datetime
) -> None:
    """Inside the grading transaction: a return that went to ``disputed`` gets its dispute,
    recording what an express refund already advanced (pending counts: the sweep pays it)."""
    if request.status is not ReturnStatus.DISPUTED or request.quality_check is None:
        return
    if uow.disputes.get(dispute_id(request.return_id)) is not None:
        return
    refund = uow.refunds.by_key(refund_key(request.return_id))
    advanced = (
        refund.amount_fen if refund is not None and refund.status is not RefundStatus.FAILED else 0
    )
    # Tax customs gave none of back was taken back already (services/customs.py): a
    # clawback takes at most what the buyer still holds.
    tax_back = uow.transfers.by_key(transfer_key(TransferPurpose.TAX_CLAWBACK, request.return_id))
    if tax_back is not None and tax_back.status is not TransferStatus.FAILED:
        advanced = max(advanced - tax_back.amount_fen, 0)
    if request.kind is ReturnKind.EXCHANGE:
        # A replacement shipped before the warehouse saw the old item was advanced as an
        # express refund is: what the buyer has not paid for it may be recovered.
        advanced = exchanges.unpaid_replacement(uow, request.return_id)
    check = request.quality_check
    uow.disputes.add(
        Dispute.open(
            request.return_id,
            request.buyer_id,
            at,
            timedelta(hours=svc.refunds.dispute_answer_h),
            check.grade.value,
            check.note,
            check.photo_ids,
            advanced,
        )
    )


@dataclass(frozen=True)
class DisputeOutcome:
    dispute: Dispute
    clawback: Transfer | None


def _load(uow: UnitOfWork, return_id: str, buyer_id: str | None, *, lock: bool = False) -> Dispute:
    key = dispute_id(return_id)
    found = uow.disputes.get_for_update(key) if lock else uow.disputes.get(key)
    return owned(found, buyer_id, "dispute", return_id)


def get_dispute(svc: Services, return_id: str, *, buyer_id: str | None = None) -> Dispute:
    """The dispute of a return (a buyer sees only their own)."""
    with svc.uow() as uow:
        return _load(uow, return_id, buyer_id)


def view_dispute(svc: Services, return_id: str, *, buyer_id: str | None = None) -> DisputeOutcome:
    """The dispute with its clawback, if any (what the buyer and ops see)."""
    with svc.uow() as uow:
        dispute = _load(uow, return_id, buyer_id)
        clawback = uow.transfers.by_key(transfer_key(TransferPurpose.CLAWBACK, return_id))
        return DisputeOutcome(dispute, clawback)


def answer_dispute(
    svc: Services, buyer_id: str, return_id: str, text: str, photo_ids: Sequence[str]
) -> Dispute:
    """The buyer's evidence: a text and photos they uploaded."""
    now = svc.clock.now()
    with svc.uow() as uow:
        dispute = _load(uow, return_id, buyer_id)
        for photo_id in dict.fromkeys(photo_ids):
            photo = uow.photos.get(photo_id)
            if photo is None or photo.owner != buyer_id:
                raise NotFound("photo", photo_id)
        dispute.answer(DisputeEvidence(now, text, tuple(dict.fromkeys(photo_ids))))
        uow.disputes.save(dispute)
        uow.commit()
        return dispute


def _held_after_tax_back(refund: Refund | None, tax_back: Transfer | None) -> int | None:
    """What the buyer still holds of the refund once import tax customs gave none of back was
    taken back (``tax-clawback``); None when none was."""
    if refund is None or tax_back is None or tax_back.status is TransferStatus.FAILED:
        return None
    return max(refund.amount_fen - tax_back.amount_fen, 0)


def _short_of_tax_back(
    uow: UnitOfWork,
    return_id: str,
    refund: Refund | None,
    dispute: Dispute,
    asked: int | None,
) -> int | None:
    """Import tax customs gave none of back and that was already taken back since the
    dispute opened (services/customs.py) is not taken twice: by default the clawback is what
    the buyer still holds of the advance; asking for more is refused."""
    tax_back = uow.transfers.by_key(transfer_key(TransferPurpose.TAX_CLAWBACK, return_id))
    left = _held_after_tax_back(refund, tax_back)
    if left is None:
        return asked
    if asked is None:
        return min(dispute.advanced_fen, left)
    if asked > left:
        raise InvalidInput(
            "clawback_out_of_range",
            f"A clawback is between 0 and the {left} fen the buyer still holds.",
            f"追回金额须在 0 至买家仍持有的 {left} 分之间。",
            advanced_fen=left,
        )
    return asked


def decide_dispute(
    svc: Services,
    ops_id: str,
    return_id: str,
    *,
    buyer_upheld: bool,
    note: str,
    clawback_fen: int | None = None,
) -> DisputeOutcome:
    """Ops decide once; a clawback is created in the same transaction and then asked of the
    provider, a refund owed to a buyer found in the right is started."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = uow.returns.get_for_update(return_id)
        if request is None:
            raise NotFound("return_request", return_id)
        dispute = _load(uow, return_id, None, lock=True)
        refund = uow.refunds.by_key(refund_key(return_id))
        exchange = uow.exchanges.get_for_update(return_id)
        tax_kept = 0
        if not buyer_upheld:
            clawback_fen = _short_of_tax_back(uow, return_id, refund, dispute, clawback_fen)
            if exchange is None:
                # After the exchange's lock, as ``restore_converted_quota`` below: the
                # return, the exchange, the order, the declaration.
                tax_kept = customs.tax_kept_by_buyer(uow, request, refund)
        decision = dispute.decide(
            ops_id,
            now,
            buyer_upheld=buyer_upheld,
            note=note,
            clawback_fen=clawback_fen,
            tax_kept_fen=tax_kept,
        )
        request.settle_dispute(now, buyer_upheld=buyer_upheld)
        shipped = exchange is not None and exchange.status is ExchangeStatus.SHIPPED
        clawback = None
        released = None
        tax_back = None
        if not buyer_upheld and exchange is not None and shipped:
            # The buyer keeps the replacement and pays for it (a charge under its own key).
            exchange.charge(now, decision.clawback_fen)
            uow.exchanges.save(exchange)
            if decision.clawback_fen > 0:
                clawback = transfers.request_transfer(
                    svc, uow, TransferPurpose.EXCHANGE_RECOVERY, return_id, request.buyer_id,
                    decision.clawback_fen,
                )  # fmt: skip
        elif not buyer_upheld:
            # Nothing shipped yet (a difference still unpaid): the units and any difference
            # collected for them go back.
            released = exchanges.release_for(svc, uow, return_id, now, "dispute_lost")
            if released is not None:
                # Its units went back to customs' zone and nothing is imported in their
                # place: a settled declaration gives their quota and tax back now.
                customs.restore_converted_quota(svc, uow, request)
                tax_back = customs.pay_returned_tax(svc, uow, request)
        if decision.clawback_fen > 0 and not shipped:
            if refund is None or refund.status is not RefundStatus.SUCCEEDED:
                raise Conflict(
                    "refund_not_settled",
                    "The express refund is not paid yet; decide once it is settled.",
                    "极速退款尚未到账，请到账后再处理。",
                )
            clawback = transfers.request_transfer(
                svc, uow, TransferPurpose.CLAWBACK, return_id, request.buyer_id,
                decision.clawback_fen,
            )  # fmt: skip
        if buyer_upheld and refund is not None and refund.status is RefundStatus.SUCCEEDED:
            request.mark_refunded(refund.refund_id, refund.amount_fen, now)
        uow.disputes.save(dispute)
        uow.returns.save(request)
        uow.commit()
    exchanges.after_release(svc, released)
    customs.pay_all(svc, [tax_back] if tax_back is not None else [])
    if clawback is not None:
        clawback = transfers.pay_transfer(svc, clawback.transfer_id)
    if buyer_upheld and request.status is ReturnStatus.INSPECTED:
        if request.kind is ReturnKind.EXCHANGE:
            # An exchange found in the right is finished as a good grade finishes it.
            exchanges.ship_if_due(svc, return_id)
            exchanges.complete_if_ready(svc, return_id)
        else:
            start_standard_refund(svc, return_id)
    return DisputeOutcome(dispute, clawback)


@dataclass(frozen=True)
class QueuedDispute:
    """An open dispute with what upholding the QC would take back now if ops name no amount
    (``clawback_fen``, also the most they may ask when the buyer keeps tax) and the import
    tax the buyer would keep (``tax_kept_fen``), as ``decide_dispute`` works them out."""

    dispute: Dispute
    clawback_fen: int
    tax_kept_fen: int


def queue_with_defaults(svc: Services, limit: int = 100, offset: int = 0) -> list[QueuedDispute]:
    """Open disputes for the console, the earliest answer time first, each with its default
    clawback. Read without locks (the decision works it out again under its locks), in a
    few queries whatever the number of disputes: the refunds, then, only when some refund
    advanced import tax, those returns, their exchanges, declarations and transfers."""
    with svc.uow() as uow:
        queue = uow.disputes.queue(limit, offset)
        ids = [d.return_id for d in queue]
        refunds = {
            f.return_id: f
            for f in uow.refunds.for_returns(ids)
            if f.idempotency_key == refund_key(f.return_id)
        }
        # Only a refund that advanced tax has tax to leave or a tax clawback to count.
        taxed = [rid for rid in ids if customs.advanced_tax(refunds.get(rid))]
        held: dict[str, int] = {}
        kept: dict[str, int] = {}
        if taxed:
            exchanged = {e.return_id for e in uow.exchanges.get_many(taxed)}
            # As the decision: an exchange's dispute leaves no tax (its replacement is
            # imported in the goods' place).
            requests = [r for r in uow.returns.get_many(taxed) if r.return_id not in exchanged]
            kept = customs.taxes_kept_by_buyers(uow, requests, refunds)
            # The transfers after the declarations: a rejection or a lapse commits with its
            # tax clawback, so a read straddling it sees the clawback (nothing kept, what
            # the buyer still holds) rather than a rejected declaration without it (which
            # would suggest the whole advance, more than the decision takes).
            for t in uow.transfers.for_subjects(taxed):
                if t.purpose is not TransferPurpose.TAX_CLAWBACK:
                    continue
                kept.pop(t.subject_id, None)  # customs gave none back: taken already
                left = _held_after_tax_back(refunds.get(t.subject_id), t)
                if left is not None:
                    held[t.subject_id] = left
    queued = []
    for dispute in queue:
        rid = dispute.return_id
        if rid in held:
            # As ``_short_of_tax_back``: what the buyer still holds, no tax left to keep.
            queued.append(QueuedDispute(dispute, min(dispute.advanced_fen, held[rid]), 0))
        else:
            queued.append(QueuedDispute(dispute, *dispute.most_taken_back(kept.get(rid, 0))))
    return queued


def open_dispute_count(svc: Services) -> int:
    """How many disputes wait for the buyer or for ops (the console pages through them)."""
    with svc.uow() as uow:
        return uow.disputes.open_count()
