"""Refunds: created in one transaction, paid outside it with an idempotency key, settled in a
second transaction. A crash between the two leaves a pending refund that a retry settles
without paying twice."""

from __future__ import annotations

from doorstep.domain.errors import NotFound
from doorstep.domain.order import Order
from doorstep.domain.refund import Refund, RefundKind, RefundStatus
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services.context import Services
from doorstep.services.lookups import load_return
from doorstep.services.ports import UnitOfWork


def refund_amounts(request: ReturnRequest, order: Order) -> tuple[int, int]:
    """Goods and withheld tax to pay back for the returned lines, in fen."""
    goods = tax = 0
    for line in request.lines:
        order_line = order.line(line.order_line_id)
        if order_line is None:
            raise NotFound("order_line", line.order_line_id)
        goods += order_line.price_for(line.quantity)
        tax += order_line.tax_for(line.quantity)
    return goods, tax


def _ensure_refund(
    svc: Services, uow: UnitOfWork, request: ReturnRequest, kind: RefundKind
) -> Refund:
    existing = uow.refunds.by_key(f"refund:{request.return_id}")
    if existing is not None:
        return existing
    order = uow.orders.get(request.order_id)
    if order is None:
        raise NotFound("order", request.order_id)
    goods, tax = refund_amounts(request, order)
    refund = Refund.request(
        svc.ids.new("F"), request.return_id, request.buyer_id, kind, goods, tax, svc.clock.now()
    )
    uow.refunds.add(refund)
    return refund


def start_standard_refund(svc: Services, return_id: str) -> Refund:
    """After a good QC grade: create (once) and pay the refund."""
    with svc.uow() as uow:
        request = load_return(uow, return_id)
        refund = _ensure_refund(svc, uow, request, RefundKind.STANDARD)
        uow.commit()
    return pay_refund(svc, refund.refund_id)


def start_express_refund(svc: Services, return_id: str) -> Refund | None:
    """At pickup, trusted buyers are paid before the warehouse sees the goods (极速退款)."""
    with svc.uow() as uow:
        request = load_return(uow, return_id)
        buyer = uow.buyers.get(request.buyer_id)
        order = uow.orders.get(request.order_id)
        if (
            buyer is None
            or order is None
            or request.kind is not ReturnKind.REFUND
            or buyer.blocklisted
            or buyer.trust_score < svc.refunds.express_min_trust
            or sum(refund_amounts(request, order)) > svc.refunds.express_max_fen
        ):
            return None
        refund = _ensure_refund(svc, uow, request, RefundKind.EXPRESS)
        uow.commit()
    return pay_refund(svc, refund.refund_id)


def pay_refund(svc: Services, refund_id: str) -> Refund:
    """Call the provider with the refund's key and settle the result; safe to call again."""
    with svc.uow() as uow:
        refund = uow.refunds.get(refund_id)
        if refund is None:
            raise NotFound("refund", refund_id)
        if refund.status is not RefundStatus.PENDING:
            return refund
    result = svc.payments.refund(
        refund.idempotency_key, refund.buyer_id, refund.amount_fen, refund.return_id
    )
    with svc.uow() as uow:
        refund = uow.refunds.get(refund_id)
        assert refund is not None
        now = svc.clock.now()
        if result.succeeded:
            refund.succeed(result.provider_ref, now)
            request = load_return(uow, refund.return_id)
            refund_only_approved = (
                request.kind is ReturnKind.REFUND_ONLY and request.status is ReturnStatus.APPROVED
            )
            if request.status is ReturnStatus.INSPECTED or refund_only_approved:
                request.mark_refunded(refund.refund_id, refund.amount_fen, now)
            request.refund_id = refund.refund_id
            uow.returns.save(request)
        else:
            refund.note_attempt_failed(result.reason, now, final=not result.retryable)
        uow.refunds.save(refund)
        uow.commit()
        return refund


def retry_pending_refunds(svc: Services) -> list[Refund]:
    """The worker's sweep: pending refunds are paid again under the same key."""
    with svc.uow() as uow:
        pending = [r.refund_id for r in uow.refunds.pending()]
    return [pay_refund(svc, refund_id) for refund_id in pending]


def settle_refund_only(svc: Services, request: ReturnRequest) -> None:
    """An approved refund-only request (仅退款) is paid at once: there is nothing to receive."""
    if request.kind is ReturnKind.REFUND_ONLY and request.status is ReturnStatus.APPROVED:
        start_standard_refund(svc, request.return_id)
