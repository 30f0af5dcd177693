"""Tracking after the door for our own couriers: the hand-over scan at the depot.

A company's parcels are tracked from its callbacks (``carrier_callbacks``); our own courier
scans the waybill when handing the day's parcels over for the line haul, which puts them
in transit.
"""

from __future__ import annotations

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.returns import ReturnRequest, ReturnStatus
from doorstep.services.context import Services
from doorstep.services.warehouse import checked_waybill


def hand_over(svc: Services, courier_id: str, waybill_no: str) -> list[ReturnRequest]:
    """The courier who picked a parcel up hands it over: its returns go in transit. Another
    courier's waybill looks like an unknown one."""
    waybill = checked_waybill(waybill_no)
    now = svc.clock.now()
    with svc.uow() as uow:
        mine = [
            r
            for r in uow.returns.by_waybill(waybill)
            if r.inspection is not None and r.inspection.courier_id == courier_id
        ]
        if not mine:
            raise NotFound("waybill", waybill)
        moving = [r for r in mine if r.status is ReturnStatus.PICKED_UP]
        if not moving:
            raise Conflict(
                "already_handed_over",
                "This parcel has already been handed over.",
                "该包裹已交接。",
                waybill_no=waybill,
            )
        for request in moving:
            request.mark_in_transit(now, f"handover:{courier_id}")
            uow.returns.save(request)
        uow.commit()
        return moving
