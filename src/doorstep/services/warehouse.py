"""The return warehouse: receive the parcel (by return id or by scanning its waybill), see
what the door inspection found beside its own grading, and settle money or exchange."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.bounds import is_waybill
from doorstep.domain.carrier_order import PickupOrder
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.refund import RefundStatus
from doorstep.domain.returns import Grade, QualityCheck, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import customs, exchanges
from doorstep.services.context import Services
from doorstep.services.lookups import load_return, lock_return
from doorstep.services.qc_outcomes import after_grade
from doorstep.services.refunds import start_standard_refund

ON_THE_WAY = (ReturnStatus.PICKED_UP, ReturnStatus.IN_TRANSIT)


def receive(svc: Services, warehouse_id: str, return_id: str) -> ReturnRequest:
    """The parcel is in: the return is received (locked first, the order customs and
    refunds lock it in, so a forced settlement racing it either counts the arrival or leaves
    it to ``customs.settle_arrival`` here), and an exchange's replacement leaves."""
    with svc.uow() as uow:
        request = lock_return(uow, return_id)
        request.receive(svc.clock.now(), warehouse_id)
        uow.returns.save(request)
        clawbacks = customs.settle_arrival(svc, uow, request)
        uow.commit()
    customs.pay_all(svc, clawbacks)  # after the commit; a timeout leaves it to the sweep
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
        # Locked before it is graded: a second grader of the parcel waits and finds it
        # graded (illegal_transition) rather than grading the version it read and losing
        # on it at the save (stale_write, 6 to 8 of 24 graders on PostgreSQL).
        request = lock_return(uow, return_id)
        request.grade(QualityCheck(grade, now, warehouse_id, note, photo_ids, damaged))
        existing = uow.refunds.by_key(f"refund:{return_id}")
        if (
            request.status is ReturnStatus.INSPECTED
            and existing is not None
            and existing.status is RefundStatus.SUCCEEDED
        ):
            request.mark_refunded(existing.refund_id, existing.amount_fen, now)
        owed = after_grade(svc, uow, request)
        uow.returns.save(request)
        uow.commit()
    customs.pay_all(svc, owed)
    if request.status is ReturnStatus.INSPECTED and request.kind is not ReturnKind.EXCHANGE:
        start_standard_refund(svc, return_id)
    exchanges.complete_if_ready(svc, return_id)
    with svc.uow() as uow:
        return load_return(uow, return_id)


def receive_waybill(svc: Services, warehouse_id: str, waybill_no: str) -> list[ReturnRequest]:
    """Scan a parcel's waybill: every return that left the door under it is received (one
    visit sends a buyer's returns together). A second scan is refused, not received twice."""
    waybill = checked_waybill(waybill_no)
    now = svc.clock.now()
    with svc.uow() as uow:
        found = uow.returns.by_waybill(waybill)
        if not found:
            raise NotFound("waybill", waybill)
        # Locked in key order, as customs locks a declaration's returns, then read again.
        locked = uow.returns.get_many_for_update([r.return_id for r in found])
        moving = [r for r in locked if r.status in ON_THE_WAY]
        if not moving:
            raise Conflict(
                "waybill_already_received",
                "This parcel has already been received.",
                "该包裹已签收。",
                waybill_no=waybill,
                statuses=sorted({r.status.value for r in found}),
            )
        clawbacks = []
        for request in moving:
            request.receive(now, warehouse_id)
            uow.returns.save(request)
            clawbacks += customs.settle_arrival(svc, uow, request)
        uow.commit()
    customs.pay_all(svc, clawbacks)  # after the commit; a timeout leaves it to the sweep
    for request in moving:
        exchanges.ship_if_due(svc, request.return_id)  # as ``receive``: the replacement leaves
    return moving


def find_waybill(svc: Services, waybill_no: str) -> list[ReturnRequest]:
    """The returns sent under a waybill (what the scanner shows before receiving)."""
    waybill = checked_waybill(waybill_no)
    with svc.uow() as uow:
        found = uow.returns.by_waybill(waybill)
    if not found:
        raise NotFound("waybill", waybill)
    return found


@dataclass(frozen=True)
class Parcel:
    """What the warehouse sees of a return: the return (its door inspection and photos, its
    grade) and, for a company pickup, the company's order (courier, waybill, weight)."""

    request: ReturnRequest
    carrier_order: PickupOrder | None


def parcel(svc: Services, return_id: str) -> Parcel:
    """The return with its door evidence, in two reads."""
    with svc.uow() as uow:
        request = load_return(uow, return_id)
        ids = [request.appointment_id] if request.appointment_id else []
        orders = [po for po in uow.pickup_orders.for_appointments(ids) if po.waybill_no]
    match = [po for po in orders if po.waybill_no == request.waybill_no]
    return Parcel(request, match[-1] if match else None)


def checked_waybill(value: str) -> str:
    """A scanned waybill number, trimmed, or `InvalidInput`."""
    waybill = value.strip()
    if not is_waybill(waybill):
        raise InvalidInput(
            "waybill_invalid",
            "A waybill number is 6–32 letters and digits.",
            "运单号应为 6–32 位字母或数字。",
        )
    return waybill
