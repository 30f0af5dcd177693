"""What the buyer reads: the timeline of a return and the receipt left at the door."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from doorstep.domain.clock import local
from doorstep.domain.dispute import dispute_id
from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.events import Event
from doorstep.domain.receipt import ReceiptFacts, photo_digest, sign, verify
from doorstep.domain.refund_amount import RefundQuote
from doorstep.domain.returns import ReturnStatus
from doorstep.services.context import Services
from doorstep.services.lookups import load_return
from doorstep.services.ports import StoredPhoto


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
        # A failed QC's dispute (issue 9 §3) and the return's transfers: an exchange's
        # difference, its payback, the clawback of an express refund.
        ids.append(dispute_id(return_id))
        ids += [x.transfer_id for x in uow.transfers.for_subjects([return_id])]
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
        "carrier_order.move_superseded",
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
    courier_name: str = ""
    refused: tuple[tuple[str, int, tuple[str, ...]], ...] = ()  # (sku, units, what failed)
    contactless: bool = False
    weight_off: bool = False
    # Signed facts for the QR code's verification URL (domain.receipt); anyone can check it.
    token: str = ""


def receipt(svc: Services, return_id: str, *, buyer_id: str | None = None) -> Receipt:
    """The receipt of a picked-up return, with its signed verification token."""
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        events = uow.events.for_aggregates([return_id])
        courier = uow.couriers.get(request.inspection.courier_id) if request.inspection else None
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
    inspection = request.inspection
    refused: dict[str, tuple[int, set[str]]] = {}
    for unit in inspection.units:
        if not unit.taken:
            count, why = refused.get(unit.sku, (0, set()))
            refused[unit.sku] = (count + 1, why | set(unit.failed))
    base = Receipt(
        return_id,
        f"{request.waybill_no[-6:]}-{return_id[-6:]}".upper(),
        request.waybill_no,
        request.carrier_id or "",
        local(picked.occurred_at),
        inspection.courier_id,
        tuple((line.sku, line.quantity) for line in request.lines),
        inspection.result.value,
        inspection.checklist,
        inspection.photo_ids or tuple(p for u in inspection.units for p in u.photo_ids),
        inspection.verified_weight_g,
        request.quote,
        courier.name if courier is not None else "",
        tuple((sku, n, tuple(sorted(why))) for sku, (n, why) in sorted(refused.items())),
        inspection.contactless,
        inspection.weight_off,
    )
    return replace(base, token=sign(facts_of(base), svc.door.receipt_key))


def facts_of(r: Receipt) -> ReceiptFacts:
    """What the receipt's QR code vouches for."""
    return ReceiptFacts(
        r.return_id,
        r.receipt_code,
        r.waybill_no,
        r.carrier_id,
        r.courier_id,
        r.courier_name,
        r.picked_up_at,
        r.items,
        tuple((sku, n) for sku, n, _why in r.refused),
        r.inspection_result,
        r.contactless,
        r.verified_weight_g,
        len(r.photo_ids),
        photo_digest(r.photo_ids),
    )


def verify_receipt(svc: Services, token: str) -> ReceiptFacts:
    """The facts a receipt's QR code carries, if doorstep signed them and nobody changed
    them since; ``receipt_not_genuine`` otherwise. Reads no data: the signature is the proof."""
    return verify(token, svc.door.receipt_key)


def door_photo(svc: Services, return_id: str, photo_id: str, *, buyer_id: str) -> StoredPhoto:
    """A photo the courier took at this buyer's door, for the receipt and a contactless
    pickup's review; any other photo id looks missing."""
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        inspection = request.inspection
        shown = set(inspection.photo_ids) if inspection else set()
        shown |= {p for u in inspection.units for p in u.photo_ids} if inspection else set()
        photo = uow.photos.get(photo_id) if photo_id in shown else None
    if photo is None or photo.erased:
        raise NotFound("photo", photo_id)
    return photo
