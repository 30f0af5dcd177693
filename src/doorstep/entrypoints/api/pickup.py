"""Buyer: pickup windows, booking, joining, moving and cancelling visits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from doorstep.adapters.observability.metrics import counting_booking
from doorstep.domain.clock import SHANGHAI
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import AppDep, BuyerActor, Svc
from doorstep.entrypoints.api.schemas import (
    AppointmentOut,
    BookIn,
    Id,
    JoinIn,
    LocalMoment,
    PickupOptionsOut,
)
from doorstep.services import pickup

router = APIRouter(tags=["buyer"])


@router.get(
    "/returns/{return_id}/slots",
    response_model=PickupOptionsOut,
    summary="Windows that can be booked, and pending visits to join",
)
def slots(
    app: AppDep,
    buyer: BuyerActor,
    return_id: Id,
    wanted: Annotated[
        LocalMoment | None,
        Query(
            description="When suits the buyer, asked before the windows are priced: a"
            " Shanghai day and time on the quarter hour inside the booking horizon, e.g."
            " 2026-11-26T14:00 (an offset is honoured; none means Shanghai time)."
        ),
    ] = None,
) -> PickupOptionsOut:
    if wanted is not None and wanted.tzinfo is None:
        wanted = wanted.replace(tzinfo=SHANGHAI)
    opts = pickup.pickup_options(app.services, app.offering, buyer.actor_id, return_id, wanted)
    return PickupOptionsOut(
        return_id=opts.return_id,
        slots=[views.slot_out(o) for o in opts.slots],
        joinable=[views.appointment_out(a, show_code=True) for a in opts.joinable],
        unavailable_reason=opts.unavailable_reason,
    )


@router.post(
    "/returns/{return_id}/pickup",
    response_model=AppointmentOut,
    status_code=201,
    summary="Book a door pickup window",
)
def book(svc: Svc, buyer: BuyerActor, return_id: Id, body: BookIn) -> AppointmentOut:
    choice = pickup.SlotChoice(
        body.carrier_id,
        body.day,
        body.start,
        body.handover,
        body.handover_note,
        coupon_fen=body.coupon_fen,
    )
    with counting_booking():
        appt = pickup.book_pickup(svc, buyer.actor_id, return_id, choice)
    return views.appointment_out(appt, show_code=True)


@router.post(
    "/returns/{return_id}/pickup/join",
    response_model=AppointmentOut,
    summary="Add this return to a visit already booked at the same address",
)
def join(svc: Svc, buyer: BuyerActor, return_id: Id, body: JoinIn) -> AppointmentOut:
    appt = pickup.join_pickup(svc, buyer.actor_id, return_id, body.appointment_id)
    return views.appointment_out(appt, show_code=True)


@router.get(
    "/appointments/{appointment_id}",
    response_model=AppointmentOut,
    summary="One of my pickup visits, with its pickup code",
)
def get_appointment(svc: Svc, buyer: BuyerActor, appointment_id: Id) -> AppointmentOut:
    appt = pickup.get_appointment(svc, appointment_id, buyer_id=buyer.actor_id)
    return views.appointment_out(appt, show_code=True)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentOut,
    summary="Move a visit to another window",
)
def reschedule(svc: Svc, buyer: BuyerActor, appointment_id: Id, body: BookIn) -> AppointmentOut:
    appt = pickup.reschedule_pickup(
        svc,
        buyer.actor_id,
        appointment_id,
        pickup.SlotChoice(body.carrier_id, body.day, body.start),
    )
    return views.appointment_out(appt, show_code=True)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentOut,
    summary="Cancel a visit; its returns can choose again",
)
def cancel(svc: Svc, buyer: BuyerActor, appointment_id: Id) -> AppointmentOut:
    return views.appointment_out(
        pickup.cancel_pickup(svc, buyer.actor_id, appointment_id), show_code=True
    )
