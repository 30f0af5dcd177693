"""The return warehouse: receive the parcel, grade it, and settle money or exchange."""

from __future__ import annotations

from doorstep.domain.refund import RefundStatus
from doorstep.domain.returns import Grade, QualityCheck, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import exchanges
from doorstep.services.context import Services
from doorstep.services.lookups import load_return
from doorstep.services.qc_outcomes import after_grade
from doorstep.services.refunds import start_standard_refund


def receive(svc: Services, warehouse_id: str, return_id: str) -> ReturnRequest:
    with svc.uow() as uow:
        request = load_return(uow, return_id)
        request.receive(svc.clock.now(), warehouse_id)
        uow.returns.save(request)
        uow.commit()
    exchanges.ship_if_due(svc, return_id)  # an exchange's replacement leaves at receipt
    return request


def grade(
    svc: Services,
    warehouse_id: str,
    return_id: str,
    grade: Grade,
    note: str,
    photo_ids: tuple[str, ...] = (),
    *,
    damaged: bool = False,
) -> ReturnRequest:
    """QC; a good grade refunds (or marks an express refund as earned), a bad one disputes;
    ``damaged`` after a passed door inspection is transit damage: a claim on the carrier, and
    the buyer is refunded."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id)
        request.grade(QualityCheck(grade, now, warehouse_id, note, photo_ids, damaged))
        existing = uow.refunds.by_key(f"refund:{return_id}")
        if (
            request.status is ReturnStatus.INSPECTED
            and existing is not None
            and existing.status is RefundStatus.SUCCEEDED
        ):
            request.mark_refunded(existing.refund_id, existing.amount_fen, now)
        after_grade(svc, uow, request)
        uow.returns.save(request)
        uow.commit()
    if request.status is ReturnStatus.INSPECTED and request.kind is not ReturnKind.EXCHANGE:
        start_standard_refund(svc, return_id)
    exchanges.complete_if_ready(svc, return_id)
    with svc.uow() as uow:
        return load_return(uow, return_id)
