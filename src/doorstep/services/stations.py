"""The station desk: staff of a drop-off station or locker take parcels against drop-off codes.

A station-staff account belongs to one station (its ``actor_id`` is the station's id) and may
look up and take parcels only there; the warehouse role (parcel intake staff) keeps taking them
for any station through the API. The desk first shows what the code stands for (items, the
return, how many parcels), with the refusals the hand-over itself would give, and then takes
it once (``self_send.redeem_dropoff``, locked by code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from doorstep.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.domain.identity import Actor, Role
from doorstep.domain.places import Station
from doorstep.domain.returns import ReturnLine, ReturnRequest
from doorstep.services import self_send
from doorstep.services.context import Services

# What a scanner types from the buyer's QR (entrypoints/api/after_sales.qr_svg), or the code.
_QR = re.compile(r"DOORSTEP-DROPOFF:([A-Za-z0-9_-]{1,64}):([0-9]{8})")
_CODE = re.compile(r"[0-9]{8}")
# One drop-off code is handed over as one parcel: the buyer packs the return's items together.
PARCELS_PER_CODE = 1


@dataclass(frozen=True)
class DropoffPreview:
    """What a code stands for, shown to the station before it takes the parcel."""

    station: Station
    code: str
    return_id: str
    order_id: str
    lines: tuple[ReturnLine, ...]
    parcels: int

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)


def read_code(scanned: str, station_id: str) -> str:
    """The 8-digit code in what was typed or scanned (the code, or the QR's text); a QR made
    for another station is refused here, before anything is looked up."""
    text = scanned.strip()
    if _CODE.fullmatch(text):
        return text
    qr = _QR.fullmatch(text)
    if qr is None:
        raise InvalidInput(
            "dropoff_code_format",
            "A drop-off code is 8 digits; scan the buyer's QR code or type the digits.",
            "寄件码为 8 位数字，请扫描买家的二维码或输入数字。",
        )
    if qr.group(1) != station_id:
        raise _wrong_station()
    return qr.group(2)


def staff_station(actor: Actor) -> str | None:
    """The station a station-staff account belongs to; None for intake staff (any station)."""
    return actor.actor_id if actor.role is Role.STATION else None


def station_for(svc: Services, staff_station: str | None, station_id: str) -> Station:
    """The station, when the caller may work there: its own staff (``staff_station``), or
    intake staff (None) for any station."""
    if staff_station is not None and staff_station != station_id:
        raise Forbidden(
            "not_your_station",
            "You work at another station; only its own staff take parcels here.",
            "您不是本驿站的工作人员，不能在此收件。",
        )
    with svc.uow() as uow:
        station = uow.places.station(station_id)
    if station is None:
        raise NotFound("station", station_id)
    return station


def preview_dropoff(
    svc: Services, staff_station: str | None, station_id: str, code: str
) -> DropoffPreview:
    """What the parcel is, or the refusal the hand-over would give now (read only)."""
    station = station_for(svc, staff_station, station_id)
    with svc.uow() as uow:
        request = uow.returns.by_dropoff_code(code)
    if request is None:
        raise NotFound("dropoff_code", code)
    request.check_dropoff(code, station_id, svc.clock.now())
    return DropoffPreview(
        station, code, request.return_id, request.order_id, tuple(request.lines), PARCELS_PER_CODE
    )


def take_dropoff(
    svc: Services, staff_station: str | None, station_id: str, code: str
) -> ReturnRequest:
    """Take the parcel: once per code, whoever scans it at the same moment."""
    station_for(svc, staff_station, station_id)
    return self_send.redeem_dropoff(svc, station_id, code)


def _wrong_station() -> Conflict:
    return Conflict(
        "dropoff_wrong_station",
        "This drop-off code was issued for another station.",
        "该寄件码不适用于本驿站。",
    )
