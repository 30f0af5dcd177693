"""Courier: today's visits, arrival, inspection, pickup, failure."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.domain.inspection import UnitAnswer
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import CourierActor, Svc
from doorstep.entrypoints.api.schemas import (
    AppointmentOut,
    ChecklistLineOut,
    ChecklistOut,
    CheckOut,
    FailIn,
    Id,
    InspectionIn,
    InspectionOut,
    PickUpIn,
)
from doorstep.services import courier

router = APIRouter(prefix="/courier", tags=["courier"])


@router.get("/tasks", response_model=list[AppointmentOut], summary="Today's pickups in order")
def tasks(svc: Svc, me: CourierActor) -> list[AppointmentOut]:
    return [
        views.appointment_out(a, show_code=False) for a in courier.todays_tasks(svc, me.actor_id)
    ]


@router.post("/tasks/{appointment_id}/arrive", response_model=AppointmentOut)
def arrive(svc: Svc, me: CourierActor, appointment_id: Id) -> AppointmentOut:
    return views.appointment_out(courier.arrive(svc, me.actor_id, appointment_id), show_code=False)


@router.post(
    "/tasks/{appointment_id}/inspect",
    response_model=InspectionOut,
    summary="Record the door inspection of one return on the visit",
)
def inspect(svc: Svc, me: CourierActor, appointment_id: Id, body: InspectionIn) -> InspectionOut:
    result = courier.inspect(
        svc,
        me.actor_id,
        appointment_id,
        courier.InspectionInput(
            body.return_id,
            dict(body.checklist),
            tuple(body.photo_ids),
            body.verified_weight_g,
            body.note,
            tuple(
                courier.LineAnswer(
                    ln.order_line_id,
                    tuple(UnitAnswer(dict(u.checks), u.code, tuple(u.photo_ids)) for u in ln.units),
                )
                for ln in body.lines
            ),
        ),
    )
    return views.inspection_out(result)


@router.get(
    "/tasks/{appointment_id}/checklists",
    response_model=ChecklistOut,
    summary="What to check on each unit of each item on the visit",
)
def checklists(svc: Svc, me: CourierActor, appointment_id: Id) -> ChecklistOut:
    found = courier.visit_checklists(svc, me.actor_id, appointment_id)
    return ChecklistOut(
        appointment_id=appointment_id,
        lines=[
            ChecklistLineOut(
                return_id=c.return_id,
                order_line_id=c.order_line_id,
                sku=c.sku,
                quantity=c.quantity,
                checks=[CheckOut(key=k.key, photo=k.photo) for k in c.checks],
                code_check=c.code_check,
                code_required=c.code_required,
            )
            for c in found
        ],
    )


@router.post(
    "/tasks/{appointment_id}/pickup",
    response_model=AppointmentOut,
    summary="Check the buyer's code and take the parcel; issues the waybill",
)
def pick_up(svc: Svc, me: CourierActor, appointment_id: Id, body: PickUpIn) -> AppointmentOut:
    return views.appointment_out(
        courier.pick_up(svc, me.actor_id, appointment_id, body.pickup_code), show_code=False
    )


@router.post(
    "/tasks/{appointment_id}/fail",
    response_model=AppointmentOut,
    summary="Record a failed attempt with its reason",
)
def fail(svc: Svc, me: CourierActor, appointment_id: Id, body: FailIn) -> AppointmentOut:
    return views.appointment_out(
        courier.fail_attempt(svc, me.actor_id, appointment_id, body.reason, body.note),
        show_code=False,
    )
