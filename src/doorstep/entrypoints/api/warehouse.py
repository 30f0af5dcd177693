"""Warehouse: receive returned parcels and grade them."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import Svc, WarehouseActor
from doorstep.entrypoints.api.schemas import GradeIn, Id, ReturnOut
from doorstep.services import warehouse

router = APIRouter(prefix="/warehouse", tags=["warehouse"])


@router.post("/returns/{return_id}/receive", response_model=ReturnOut)
def receive(svc: Svc, me: WarehouseActor, return_id: Id) -> ReturnOut:
    return views.return_out(warehouse.receive(svc, me.actor_id, return_id))


@router.post(
    "/returns/{return_id}/grade", response_model=ReturnOut, summary="QC grade; a good grade refunds"
)
def grade(svc: Svc, me: WarehouseActor, return_id: Id, body: GradeIn) -> ReturnOut:
    return views.return_out(
        warehouse.grade(
            svc,
            me.actor_id,
            return_id,
            body.grade,
            body.note,
            tuple(body.photo_ids),
            damaged=body.damaged,
        )
    )
