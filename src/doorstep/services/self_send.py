"""Drop-off and self-ship (issue 9 §8): the stations near the buyer, a drop-off code (and its
QR, drawn by the pages) for one station, the return warehouse's address (the bonded-zone one
for cross-border goods), who pays the freight, and waybill numbers checked against the
courier company's format before they are accepted."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.places import (
    DropoffTicket,
    NearbyStation,
    ReturnWarehouse,
    Station,
    box_around,
    nearest,
    warehouse_for,
)
from doorstep.domain.policy import default_policy
from doorstep.domain.refund_amount import FreightPayer, freight_payer
from doorstep.domain.returns import ReturnKind, ReturnRequest
from doorstep.domain.waybill import WAYBILL_FORMATS, WaybillFormat, check_waybill
from doorstep.services.context import Services
from doorstep.services.lookups import load_return
from doorstep.services.ports import UnitOfWork

NEAR_RADIUS_M = 5_000
NEAR_LIMIT = 5
# Stations read from the index box before the exact distance is taken; a box holds few in a
# city, and the bound keeps a request's cost flat where stations are dense.
BOX_LIMIT = 200
DROPOFF_VALID = timedelta(days=3)
CODE_DRAWS = 5


@dataclass(frozen=True)
class FreightRule:
    """Who pays the return freight and what is reimbursed with the refund, in fen."""

    payer: FreightPayer
    reimbursed_up_to_fen: int

    @property
    def reimbursed(self) -> bool:
        return self.payer in (FreightPayer.SELLER, FreightPayer.SHOP, FreightPayer.INSURANCE)


@dataclass(frozen=True)
class SelfSendGuide:
    """Everything the buyer needs to send the parcel without a courier at the door."""

    return_id: str
    method: ReturnMethod | None
    warehouse: ReturnWarehouse
    cross_border: bool
    freight: FreightRule
    stations: tuple[NearbyStation, ...]
    dropoff: DropoffTicket | None
    carriers: tuple[WaybillFormat, ...]
    waybill_no: str | None


def _freight(uow: UnitOfWork, request: ReturnRequest, now: datetime) -> FreightRule:
    order = uow.orders.get(request.order_id)
    if order is None:
        raise NotFound("order", request.order_id)
    policy = uow.policies.current() or default_policy(now)
    terms = policy.rule("refund_terms")
    amount = int(terms.param("return_freight_fen")) if terms else 0
    payer = freight_payer(
        order, request.lines, sends_goods=request.kind is not ReturnKind.REFUND_ONLY
    )
    rule = FreightRule(payer, amount)
    return FreightRule(payer, amount if rule.reimbursed else 0)


def _near(uow: UnitOfWork, lat: float | None, lon: float | None) -> list[NearbyStation]:
    if lat is None or lon is None:
        return []
    box = box_around(lat, lon, NEAR_RADIUS_M)
    found = uow.places.stations_in(*box, limit=BOX_LIMIT)
    return nearest(found, lat, lon, radius_m=NEAR_RADIUS_M, limit=NEAR_LIMIT)


def guide(svc: Services, buyer_id: str, return_id: str) -> SelfSendGuide:
    """Where to send the parcel, who pays the freight, which stations are near, the code."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        order = uow.orders.get(request.order_id)
        if order is None:
            raise NotFound("order", request.order_id)
        warehouse = warehouse_for(order.channel, uow.places.warehouses())
        address = request.address or order.shipping_address
        stations = _near(uow, address.lat, address.lon)
        freight = _freight(uow, request, now)
    return SelfSendGuide(
        request.return_id,
        request.method,
        warehouse,
        order.channel.cross_border,
        freight,
        tuple(stations),
        request.dropoff,
        WAYBILL_FORMATS,
        request.waybill_no,
    )


def stations_near(svc: Services, lat: float, lon: float) -> list[NearbyStation]:
    """The drop-off stations and lockers within 5 km, nearest first (at most five)."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput(
            "coordinates_out_of_range",
            "Latitude is -90..90 and longitude -180..180.",
            "纬度须在 -90 到 90 之间，经度须在 -180 到 180 之间。",
        )
    with svc.uow() as uow:
        return _near(uow, lat, lon)


def issue_dropoff_code(
    svc: Services, buyer_id: str, return_id: str, station_id: str
) -> ReturnRequest:
    """An 8-digit code for handing the parcel in at ``station_id`` (valid three days, or
    until the return's drop-off deadline if that is sooner)."""
    now = svc.clock.now()
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        station = uow.places.station(station_id)
        if station is None:
            raise NotFound("station", station_id)
        offer = request.decision.offers(ReturnMethod.DROPOFF) if request.decision else None
        expires = now + DROPOFF_VALID
        if offer is not None and offer.until is not None:
            expires = min(expires, offer.until)
        if expires <= now:
            raise Conflict(
                "method_expired",
                "Drop-off is no longer possible for this return.",
                "该退货已无法通过驿站寄回。",
            )
        code = _free_code(uow)
        request.issue_dropoff(DropoffTicket(code, station.station_id, now, expires), now)
        uow.returns.save(request)
        uow.commit()
        return request


def _free_code(uow: UnitOfWork) -> str:
    # A code names one return (the column is unique); with 10^8 codes a clash is rare, so a
    # few fresh draws settle it and the unique index catches a draw raced by another issue.
    for _ in range(CODE_DRAWS):
        code = f"{secrets.randbelow(10**8):08d}"
        if uow.returns.by_dropoff_code(code) is None:
            return code
    raise Conflict(
        "dropoff_code_unavailable",
        "No free drop-off code could be drawn; please try again.",
        "暂时无法生成寄件码，请稍后重试。",
    )


def redeem_dropoff(svc: Services, station_id: str, code: str) -> ReturnRequest:
    """A station or locker takes the parcel against its drop-off code: the return is handed
    over (in transit, as a self-shipped parcel with its waybill), exactly once per code."""
    with svc.uow() as uow:
        if uow.places.station(station_id) is None:
            raise NotFound("station", station_id)
        # Locked so that parallel scans of one code queue here; the losers then see the
        # return handed over already and get ``dropoff_code_used``.
        request = uow.returns.by_dropoff_code(code, lock=True)
        if request is None:
            raise NotFound("dropoff_code", code)
        request.hand_in_at_station(code, station_id, svc.clock.now())
        uow.returns.save(request)
        uow.commit()
        return request


def register_shipment(
    svc: Services, buyer_id: str, return_id: str, waybill_no: str, carrier_id: str
) -> ReturnRequest:
    """The buyer reports the waybill of a dropped-off or self-shipped parcel; the number must
    fit the courier company's format (domain/waybill.py)."""
    number = check_waybill(carrier_id, waybill_no)
    with svc.uow() as uow:
        request = load_return(uow, return_id, buyer_id=buyer_id)
        request.register_shipment(number, carrier_id, svc.clock.now())
        uow.returns.save(request)
        uow.commit()
        return request


def upsert_places(
    svc: Services, stations: Sequence[Station], warehouses: Sequence[ReturnWarehouse]
) -> int:
    """Load drop-off stations and return warehouses (imports and the demo)."""
    with svc.uow() as uow:
        for station in stations:
            uow.places.put_station(station)
        for warehouse in warehouses:
            uow.places.put_warehouse(warehouse)
        uow.commit()
    return len(stations) + len(warehouses)
