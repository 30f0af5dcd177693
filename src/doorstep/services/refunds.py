"""Refunds: created in one transaction, paid outside it with an idempotency key, settled in a
second transaction. A crash between the two leaves a pending refund that a retry settles
without paying twice.

Exactly once under concurrency: a refund is created with the return's row locked, so two
starters find one refund (its key is unique too); it is settled with its own row locked, so two
answers from the provider settle it once; and the return is tied to it at creation, so the
buyer can no longer withdraw a return whose money is on its way.

The amount is quoted once, when the refund is created (services/refund_quotes.py), with the
order's row locked too: the order's refunds are reckoned one after another (coupon shares,
thresholds), so two returns of one order refunded at once cannot both take its remainder.
The provider is asked for exactly the quote's total.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from doorstep.domain.errors import Conflict, IllegalTransition, NotFound
from doorstep.domain.order import Order
from doorstep.domain.refund import Refund, RefundKind
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.refund_lead_time import PaidRefund, waits_of
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import refund_quotes, settlement, trust
from doorstep.services.context import Services
from doorstep.services.ports import RefundRepository, UnitOfWork


def refund_key(return_id: str) -> str:
    """The one idempotency key of a return's refund: the provider pays it once."""
    return f"refund:{return_id}"


def _locked_return(uow: UnitOfWork, return_id: str) -> ReturnRequest:
    request = uow.returns.get_for_update(return_id)
    if request is None:
        raise NotFound("return_request", return_id)
    return request


def _ensure_refund(
    svc: Services,
    uow: UnitOfWork,
    request: ReturnRequest,
    kind: RefundKind,
    *,
    max_fen: int | None = None,
) -> Refund | None:
    """The return's refund, created once; ``request`` must have been loaded with its lock.
    None when its amount would be above ``max_fen`` (nothing is kept then). The return's
    state is checked before the order is locked and the amount quoted, so a caller that is
    too early (or too late) gives way at once."""
    existing = uow.refunds.by_key(refund_key(request.return_id))
    if existing is not None:
        return existing
    refund_id = svc.ids.new("F")
    express = kind is RefundKind.EXPRESS
    request.check_refund_start(express=express)
    now = svc.clock.now()
    quote = _quote(uow, request, _order_of(uow, request), now)
    if max_fen is not None and quote.total_fen > max_fen:
        return None
    request.start_refund(refund_id, express=express)
    refund = Refund.for_quote(refund_id, request.return_id, request.buyer_id, kind, quote, now)
    request.set_quote(quote, now)
    uow.refunds.add(refund)
    uow.returns.save(request)
    return refund


def _quote(uow: UnitOfWork, request: ReturnRequest, order: Order, now: datetime) -> RefundQuote:
    return refund_quotes.quote_lines(
        uow,
        order,
        request.kind,
        request.lines,
        filed_at=request.created_at,
        arrived_at=request.received_at,
        besides=request.return_id,
        now=now,
    )


def _order_of(uow: UnitOfWork, request: ReturnRequest) -> Order:
    """The return's order, locked after the return (the order's refunds go one at a time)."""
    order = uow.orders.get_for_update(request.order_id)
    if order is None:
        raise NotFound("order", request.order_id)
    return order


def open_standard_refund(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> Refund:
    """Inside the caller's transaction (``request`` loaded with its lock): the standard refund
    of an inspected return, created once; the caller commits, then ``pay_refund``."""
    refund = _ensure_refund(svc, uow, request, RefundKind.STANDARD)
    assert refund is not None, "a standard refund has no cap"
    return refund


def start_standard_refund(svc: Services, return_id: str) -> Refund:
    """After a good QC grade (or an approved refund-only request): create once, then pay."""
    with svc.uow() as uow:
        refund = open_standard_refund(svc, uow, _locked_return(uow, return_id))
        uow.commit()
    return pay_refund(svc, refund.refund_id)


def express_buyer(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> bool:
    """Whether this return's buyer may be paid at pickup: a refund (not an exchange), not
    blocklisted, trusted enough by the score their history gives now. The amount cap is
    the refund's own check."""
    return request.kind is ReturnKind.REFUND and trust.served_ahead(svc, uow, request.buyer_id)


def start_express_refund(svc: Services, return_id: str) -> Refund | None:
    """At pickup, trusted buyers are paid before the warehouse sees the goods (极速退款).
    Trust is the buyer's score moved by their history (services/trust.py): a clawback or a
    lost dispute can take a buyer below the threshold. The decision is kept with the return
    in the same transaction (the refund, or ``return.express_refund_declined``), so the
    worker's sweep (``start_owed_express_refunds``) asks again only where none was made."""
    with svc.uow() as uow:
        request = _locked_return(uow, return_id)
        refund = _express_refund(svc, uow, request)
        uow.commit()
    return None if refund is None else pay_refund(svc, refund.refund_id)


def _express_refund(svc: Services, uow: UnitOfWork, request: ReturnRequest) -> Refund | None:
    if not express_buyer(svc, uow, request):
        _decline_express(svc, uow, request, "not_trusted")
        return None
    refund = _ensure_refund(
        svc, uow, request, RefundKind.EXPRESS, max_fen=svc.refunds.express_max_fen
    )
    if refund is None:
        _decline_express(svc, uow, request, "above_cap")
    return refund


def _decline_express(svc: Services, uow: UnitOfWork, request: ReturnRequest, reason: str) -> None:
    if request.decline_express(svc.clock.now(), reason):
        uow.returns.save(request)


def start_owed_express_refunds(svc: Services, limit: int = 100) -> int:
    """The worker's sweep: returns that left the buyer and still wait for their express
    refund's decision (the pickup committed, then its process died before the refund's start)
    are decided now, under the same key ``refund:<return_id>``; at most ``limit`` per pass,
    longest waiting first. One that clashes with a concurrent change is left for the next
    pass. Returns how many refunds were started (paid or pending)."""
    with svc.uow() as uow:
        owed = uow.returns.express_owed(limit)
    started = 0
    for return_id in owed:
        try:
            started += start_express_refund(svc, return_id) is not None
        except Conflict:
            continue
    return started


def _settle_return(uow: UnitOfWork, refund: Refund, provider_ref: str, now: datetime) -> None:
    """A paid refund marks its return refunded once the goods are inspected (or its
    refund-only request approved), and ties the return to it either way."""
    request = _locked_return(uow, refund.return_id)
    refund_only_approved = (
        request.kind is ReturnKind.REFUND_ONLY and request.status is ReturnStatus.APPROVED
    )
    if request.status is ReturnStatus.INSPECTED or refund_only_approved:
        request.mark_refunded(refund.refund_id, refund.amount_fen, now)
    request.refund_id = refund.refund_id
    uow.returns.save(request)
    # Counted here, under the refund's lock and only when it turns paid, so a retried or
    # duplicated answer never counts it twice.
    picked_up = uow.events.first_at(request.return_id, "return.picked_up")
    paid = PaidRefund(request.created_at, picked_up, now, refund.kind.value)
    uow.refunds.count_waits(waits_of(paid))


def pay_refund(svc: Services, refund_id: str) -> Refund:
    """Call the provider with the refund's key and settle the result; safe to call again,
    also from several places at once."""

    def plan(uow: UnitOfWork, refund: Refund) -> settlement.Call:
        return partial(
            svc.payments.refund,
            refund.idempotency_key,
            refund.buyer_id,
            refund.amount_fen,
            refund.return_id,
        )

    return settlement.settle(
        svc, refund_id, noun="refund", records=_refunds, plan=plan, also=_settle_return
    )


def _refunds(uow: UnitOfWork) -> RefundRepository:
    return uow.refunds


def retry_pending_refunds(svc: Services) -> list[Refund]:
    """The worker's sweep: pending refunds are paid again under the same key. One that clashes
    with a concurrent change stays pending for the next sweep instead of stopping this one."""
    with svc.uow() as uow:
        pending = [r.refund_id for r in uow.refunds.pending()]
    settled = []
    for refund_id in pending:
        try:
            settled.append(pay_refund(svc, refund_id))
        except Conflict:
            continue
    return settled


def settle_refund_only(svc: Services, request: ReturnRequest) -> None:
    """An approved refund-only request (仅退款) is paid at once: there is nothing to receive.
    The audit only approves small ones for trusted buyers; a person approved the rest."""
    if request.kind is not ReturnKind.REFUND_ONLY or request.status is not ReturnStatus.APPROVED:
        return
    try:
        start_standard_refund(svc, request.return_id)
    except IllegalTransition:
        return  # withdrawn in the meantime: nothing is owed
