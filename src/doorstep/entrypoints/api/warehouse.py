"""Warehouse: receive returned parcels and grade them."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import Svc, WarehouseActor
from doorstep.entrypoints.api.schemas import GradeIn, Id, ParcelOut, ReturnOut, Waybill
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


@router.get(
    "/waybills/{waybill_no}",
    response_model=list[ReturnOut],
    summary="The returns sent under a scanned waybill",
)
def find_waybill(svc: Svc, _: WarehouseActor, waybill_no: Waybill) -> list[ReturnOut]:
    return [views.return_out(r) for r in warehouse.find_waybill(svc, waybill_no)]


@router.post(
    "/waybills/{waybill_no}/receive",
    response_model=list[ReturnOut],
    summary="Receive a parcel by scanning its waybill (every return under it)",
)
def receive_waybill(svc: Svc, me: WarehouseActor, waybill_no: Waybill) -> list[ReturnOut]:
    return [views.return_out(r) for r in warehouse.receive_waybill(svc, me.actor_id, waybill_no)]


@router.get(
    "/returns/{return_id}/parcel",
    response_model=ParcelOut,
    summary="The return with its door inspection and photos beside the warehouse's grade",
)
def parcel(svc: Svc, _: WarehouseActor, return_id: Id) -> ParcelOut:
    return views.parcel_out(warehouse.parcel(svc, return_id))
