"""Domain objects to response bodies."""

from __future__ import annotations

from doorstep.adapters.db.codec import to_plain
from doorstep.domain.carrier_order import PickupOrder
from doorstep.domain.decision import Decision
from doorstep.domain.events import Event
from doorstep.domain.pickup import Appointment
from doorstep.domain.policy import Policy
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import Inspection, ReturnRequest
from doorstep.entrypoints.api import schemas as s
from doorstep.services.cancel_overtaken import OvertakenCase
from doorstep.services.offering import OfferedSlot
from doorstep.services.ports import CarrierExchange
from doorstep.services.warehouse import Parcel


def decision_out(decision: Decision) -> s.DecisionOut:
    return s.DecisionOut(
        outcome=decision.outcome,
        policy_version=decision.policy_version,
        decided_at=decision.decided_at,
        decided_by=decision.decided_by,
        findings=[s.FindingOut.model_validate(f) for f in decision.findings],
        methods=[s.MethodOut.model_validate(m) for m in decision.methods],
        unavailable=dict(decision.unavailable),
    )


def return_out(r: ReturnRequest) -> s.ReturnOut:
    return s.ReturnOut(
        return_id=r.return_id,
        order_id=r.order_id,
        buyer_id=r.buyer_id,
        kind=r.kind,
        status=r.status.value,
        created_at=r.created_at,
        lines=[s.ReturnLineOut.model_validate(line) for line in r.lines],
        decision=decision_out(r.decision) if r.decision else None,
        method=r.method,
        appointment_id=r.appointment_id,
        waybill_no=r.waybill_no,
        carrier_id=r.carrier_id,
        refund_id=r.refund_id,
        evidence_count=len(r.evidence),
        refund_quote=quote_out(r.quote) if r.quote else None,
    )


def quote_out(q: RefundQuote) -> s.RefundQuoteOut:
    return s.RefundQuoteOut(
        total_fen=q.total_fen,
        goods_fen=q.goods_fen,
        tax_fen=q.tax_fen,
        freight_fen=q.freight_fen,
        adjustments_fen=q.adjustments_fen,
        tax_status=q.tax.status,
        tax_arrive_by=q.tax.arrive_by,
        freight_payer=q.freight_payer,
        lines=[s.AmountLineOut.model_validate(line) for line in q.lines],
    )


def appointment_out(a: Appointment, *, show_code: bool) -> s.AppointmentOut:
    return s.AppointmentOut(
        appointment_id=a.appointment_id,
        status=a.status.value,
        carrier_id=a.slot.carrier_id,
        day=a.slot.day,
        start=a.slot.window.start,
        end=a.slot.window.end,
        return_ids=list(a.return_ids),
        courier_id=a.courier_id,
        eta=a.eta,
        route_position=a.route_position,
        pickup_code=a.pickup_code if show_code else None,
        address=s.AddressOut.model_validate(a.address),
        attempts=len(a.attempts),
        handover=a.handover.value,
        handover_note=a.handover_note,
        review=(
            s.ReviewOut(
                status=a.review.status.value,
                due_at=a.review.due_at,
                decided_at=a.review.decided_at,
                decided_by=a.review.decided_by,
                dispute_text=a.review.dispute_text,
                dispute_photo_ids=list(a.review.dispute_photo_ids),
                outcome=a.review.outcome.value if a.review.outcome else None,
                resolution_note=a.review.resolution_note,
            )
            if a.review
            else None
        ),
        coupon_fen=a.coupon_fen,
        coupon_issued_at=a.coupon_issued_at,
    )


def slot_out(o: OfferedSlot) -> s.SlotOut:
    return s.SlotOut(
        carrier_id=o.slot.carrier_id,
        day=o.slot.day,
        start=o.slot.window.start,
        end=o.slot.window.end,
        capacity=o.capacity,
        remaining=o.remaining,
        closes_at=o.closes_at,
        rank=o.rank,
        incentive_fen=o.incentive_fen,
        note_en=o.note_en,
        note_zh=o.note_zh,
    )


def event_out(e: Event) -> s.EventOut:
    return s.EventOut(name=e.name, occurred_at=e.occurred_at, data=e.data)


def policy_out(p: Policy) -> s.PolicyOut:
    return s.PolicyOut(
        version=p.version,
        created_at=p.created_at,
        created_by=p.created_by,
        note=p.note,
        rules=to_plain(list(p.rules)),
    )


def inspection_out(i: Inspection) -> s.InspectionOut:
    return s.InspectionOut(
        result=i.result.value,
        refusal_reason=i.refusal_reason,
        inspected_at=i.inspected_at,
        units=[
            s.UnitResultOut(
                order_line_id=u.order_line_id,
                sku=u.sku,
                unit=u.unit,
                taken=u.taken,
                failed=list(u.failed),
                code=u.code,
                photo_ids=list(u.photo_ids),
            )
            for u in i.units
        ],
        expected_weight_g=i.expected_weight_g,
        weight_off=i.weight_off,
    )


def carrier_order_out(po: PickupOrder) -> s.CarrierOrderOut:
    return s.CarrierOrderOut(
        out_order_no=po.out_order_no,
        carrier_id=po.carrier_id,
        appointment_id=po.appointment_id,
        return_ids=list(po.return_ids),
        status=po.status.value,
        pending_op=po.pending_op.value if po.pending_op else None,
        carrier_order_id=po.carrier_order_id,
        courier_name=po.courier.name if po.courier else None,
        courier_mobile=po.courier.mobile_masked if po.courier else None,
        day=po.order.day,
        window=f"{po.order.start:%H:%M}-{po.order.end:%H:%M}",
        waybill_no=po.waybill_no,
        failure_reason=po.failure_reason.value if po.failure_reason else None,
        actual_weight_g=po.actual_weight_g,
        freight_fen=po.freight_fen,
        send_attempts=po.send_attempts,
        last_error=po.last_error,
        last_heard_at=po.last_heard_at,
        late_updates=po.late_updates,
        needs_ops=list(po.needs_ops),
        ops_settled_at=po.ops_settled_at,
        ops_settled_by=po.ops_settled_by,
        ops_note=po.ops_note,
    )


def overtaken_case_out(case: OvertakenCase) -> s.OvertakenCaseOut:
    po = case.order
    assert po.needs_ops_at is not None  # listed only while waiting
    return s.OvertakenCaseOut(
        order=carrier_order_out(po),
        waiting_since=po.needs_ops_at,
        left=[
            s.LeftReturnOut(
                return_id=r.return_id,
                buyer_id=r.buyer_id,
                order_id=r.order_id,
                status=r.status.value,
                appointment_id=r.appointment_id,
            )
            for r in case.left
        ],
    )


def carrier_exchange_out(x: CarrierExchange) -> s.CarrierExchangeOut:
    return s.CarrierExchangeOut.model_validate(x, from_attributes=True)


def parcel_out(p: Parcel) -> s.ParcelOut:
    r = p.request
    door = r.inspection
    qc = r.quality_check
    return s.ParcelOut(
        parcel=return_out(r),
        door_inspection=(
            s.DoorInspectionOut(
                result=door.result.value,
                checklist=dict(door.checklist),
                photo_ids=list(door.photo_ids),
                verified_weight_g=door.verified_weight_g,
                inspected_at=door.inspected_at,
                courier_id=door.courier_id,
                note=door.note,
                refusal_reason=door.refusal_reason,
            )
            if door
            else None
        ),
        quality_check=(
            s.QualityCheckOut(
                grade=qc.grade.value,
                checked_at=qc.checked_at,
                by=qc.by,
                note=qc.note,
                photo_ids=list(qc.photo_ids),
            )
            if qc
            else None
        ),
        carrier_order=carrier_order_out(p.carrier_order) if p.carrier_order else None,
    )
