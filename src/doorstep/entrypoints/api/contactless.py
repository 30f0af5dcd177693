"""Contactless pickup after the door: the buyer confirms or disputes, ops decide disputes."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import BuyerActor, OpsActor, Svc
from doorstep.entrypoints.api.schemas import (
    AppointmentOut,
    DisputedPickupOut,
    DisputeIn,
    DoorEvidenceOut,
    Id,
    ResolveIn,
)
from doorstep.services import contactless

router = APIRouter(tags=["contactless"])


@router.post(
    "/appointments/{appointment_id}/contactless/confirm",
    response_model=AppointmentOut,
    summary="Accept the courier's photos and weight of a contactless pickup",
)
def confirm(svc: Svc, buyer: BuyerActor, appointment_id: Id) -> AppointmentOut:
    appt = contactless.confirm_contactless(svc, buyer.actor_id, appointment_id)
    return views.appointment_out(appt, show_code=False)


@router.post(
    "/appointments/{appointment_id}/contactless/dispute",
    response_model=AppointmentOut,
    summary="Dispute a contactless pickup within the time limit (goes to the ops queue)",
)
def dispute(svc: Svc, buyer: BuyerActor, appointment_id: Id, body: DisputeIn) -> AppointmentOut:
    appt = contactless.dispute_contactless(
        svc, buyer.actor_id, appointment_id, body.text, tuple(body.photo_ids)
    )
    return views.appointment_out(appt, show_code=False)


@router.get(
    "/ops/contactless/disputes",
    response_model=list[DisputedPickupOut],
    summary="Disputed contactless pickups with both sides' evidence, oldest first",
)
def disputes(svc: Svc, me: OpsActor) -> list[DisputedPickupOut]:
    return [
        DisputedPickupOut(
            appointment=views.appointment_out(d.appointment, show_code=False),
            courier=[
                DoorEvidenceOut(
                    return_id=r.return_id,
                    photo_ids=list(r.inspection.photo_ids),
                    verified_weight_g=r.inspection.verified_weight_g,
                    expected_weight_g=r.inspection.expected_weight_g,
                    weight_off=r.inspection.weight_off,
                    note=r.inspection.note,
                )
                for r in d.returns
                if r.inspection is not None
            ],
        )
        for d in contactless.disputed_pickups(svc)
    ]


@router.post(
    "/ops/contactless/{appointment_id}/resolve",
    response_model=AppointmentOut,
    summary="Decide a disputed contactless pickup",
)
def resolve(svc: Svc, me: OpsActor, appointment_id: Id, body: ResolveIn) -> AppointmentOut:
    appt = contactless.resolve_contactless(
        svc, me.actor_id, appointment_id, body.outcome, body.note
    )
    return views.appointment_out(appt, show_code=False)
