"""The station desk: staff of a drop-off station or locker take parcels against drop-off codes.

A station-staff account belongs to one station operator (its ``actor_id`` is the operator's
id; a station run on its own is its own operator, so the id is the station's) and may look up
and take parcels at that operator's stations only; the warehouse role (parcel intake staff)
keeps taking them for any station through the API. The desk first shows what the code stands for (items, the
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


# An operator's stations on one desk's picker; franchisees run a handful, not hundreds.
MAX_STATIONS_PER_OPERATOR = 50


def staff_operator(actor: Actor) -> str | None:
    """The operator a station-staff account works for; None for intake staff (any station)."""
    return actor.actor_id if actor.role is Role.STATION else None


def station_for(svc: Services, staff_operator: str | None, station_id: str) -> Station:
    """The station, when the caller may work there: staff of its operator
    (``staff_operator``), or intake staff (None) for any station."""
    with svc.uow() as uow:
        station = uow.places.station(station_id)
    if staff_operator is not None and (station is None or station.operator_id != staff_operator):
        # The same answer for another operator's station and for none: staff cannot probe ids.
        raise Forbidden(
            "not_your_station",
            "You work at another station; only its own staff take parcels here.",
            "您不是本驿站的工作人员，不能在此收件。",
        )
    if station is None:
        raise NotFound("station", station_id)
    return station


def stations_run_by(svc: Services, operator_id: str) -> list[Station]:
    """The stations whose staff ``operator_id``'s accounts are, by id (the desk's picker)."""
    with svc.uow() as uow:
        return uow.places.stations_run_by(operator_id, MAX_STATIONS_PER_OPERATOR)


def preview_dropoff(
    svc: Services, staff_operator: str | None, station_id: str, code: str
) -> DropoffPreview:
    """What the parcel is, or the refusal the hand-over would give now (read only)."""
    station = station_for(svc, staff_operator, station_id)
    with svc.uow() as uow:
        request = uow.returns.by_dropoff_code(code)
    if request is None:
        raise NotFound("dropoff_code", code)
    request.check_dropoff(code, station_id, svc.clock.now())
    return DropoffPreview(
        station, code, request.return_id, request.order_id, tuple(request.lines), PARCELS_PER_CODE
    )


def take_dropoff(
    svc: Services, staff_operator: str | None, station_id: str, code: str
) -> ReturnRequest:
    """Take the parcel: once per code, whoever scans it at the same moment."""
    station_for(svc, staff_operator, station_id)
    return self_send.redeem_dropoff(svc, station_id, code)


def _wrong_station() -> Conflict:
    return Conflict(
        "dropoff_wrong_station",
        "This drop-off code was issued for another station.",
        "该寄件码不适用于本驿站。",
    )
