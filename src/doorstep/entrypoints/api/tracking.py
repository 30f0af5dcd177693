"""Tracking after the door: our own courier's hand-over scan (companies report by callback)."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import CourierActor, Svc
from doorstep.entrypoints.api.schemas import ReturnOut, WaybillIn
from doorstep.services import tracking

router = APIRouter(tags=["courier"])


@router.post(
    "/courier/handover",
    response_model=list[ReturnOut],
    summary="Hand a picked-up parcel over for the line haul: its returns go in transit",
)
def hand_over(svc: Svc, me: CourierActor, body: WaybillIn) -> list[ReturnOut]:
    return [views.return_out(r) for r in tracking.hand_over(svc, me.actor_id, body.waybill_no)]
