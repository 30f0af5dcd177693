"""What the buyer reads: the timeline of a return and the receipt left at the door."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from doorstep.domain.clock import local
from doorstep.domain.errors import Conflict
from doorstep.domain.events import Event
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import ReturnStatus
from doorstep.services.context import Services
from doorstep.services.lookups import load_return


def timeline(svc: Services, return_id: str, *, buyer_id: str | None = None) -> list[Event]:
    """Every event of the return, its visits and its refund, oldest first, in Shanghai time."""
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        ids = [request.return_id, *request.appointment_history]
        refund = uow.refunds.by_key(f"refund:{return_id}")
        if refund is not None:
            ids.append(refund.refund_id)
        # A courier company's order: its courier, times and tracking are the buyer's too.
        ids += [po.out_order_no for po in uow.pickup_orders.for_appointments(ids[1:])]
        events = uow.events.for_aggregates(ids)
    appointment_events_for_others = {"appointment.return_joined", "appointment.return_left"}
    return [
        Event(e.name, e.aggregate_type, e.aggregate_id, local(e.occurred_at), e.data)
        for e in events
        if (e.name not in appointment_events_for_others or e.data.get("return_id") == return_id)
        and e.name not in CARRIER_INTERNALS
    ]


# Support's business, not the buyer's: what was sent when, and events that changed nothing.
CARRIER_INTERNALS = frozenset(
    {
        "carrier_order.intended",
        "carrier_order.reschedule_requested",
        "carrier_order.send_abandoned",
        "carrier_order.late_update",
    }
)


@dataclass(frozen=True)
class Receipt:
    """取件凭证: what left the door, in what condition, under which waybill."""

    return_id: str
    receipt_code: str
    waybill_no: str
    carrier_id: str
    picked_up_at: datetime
    courier_id: str
    items: tuple[tuple[str, int], ...]
    inspection_result: str
    checklist: dict[str, bool]
    photo_ids: tuple[str, ...]
    verified_weight_g: int | None
    refund: RefundQuote | None = None  # what the refund comes to (or came to, once started)


def receipt(svc: Services, return_id: str, *, buyer_id: str | None = None) -> Receipt:
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        events = uow.events.for_aggregates([return_id])
    picked = next((e for e in events if e.name == "return.picked_up"), None)
    if (
        request.inspection is None
        or request.waybill_no is None
        or picked is None
        or request.status in (ReturnStatus.AWAITING_PICKUP, ReturnStatus.APPROVED)
    ):
        raise Conflict(
            "no_receipt_yet",
            "The receipt exists once the courier has picked up.",
            "快递员取件后才会生成取件凭证。",
        )
    return Receipt(
        return_id,
        f"{request.waybill_no[-6:]}-{return_id[-6:]}".upper(),
        request.waybill_no,
        request.carrier_id or "",
        local(picked.occurred_at),
        request.inspection.courier_id,
        tuple((line.sku, line.quantity) for line in request.lines),
        request.inspection.result.value,
        request.inspection.checklist,
        request.inspection.photo_ids,
        request.inspection.verified_weight_g,
        request.quote,
    )
