"""Exchanges, customs returns, drop-off and self-ship over HTTP (issue 9 §6-8): parse, call one
service, map the answer."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Query, Response

from doorstep.domain.customs_return import CustomsReturn
from doorstep.domain.errors import NotFound
from doorstep.domain.exchange import Exchange
from doorstep.domain.places import NearbyStation, ReturnWarehouse
from doorstep.domain.waybill import WAYBILL_FORMATS
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import (
    BuyerActor,
    MyReturn,
    OpsActor,
    StationOrWarehouse,
    Svc,
)
from doorstep.entrypoints.api.schemas import Id, ReturnOut
from doorstep.entrypoints.api.schemas_after_sales import (
    AddressOut,
    CustomsQueueOut,
    CustomsReturnOut,
    Declaration,
    DropoffIn,
    DropoffOut,
    ExchangeLineOut,
    ExchangeOut,
    FreightOut,
    HandedInOut,
    QuotaOut,
    RedeemIn,
    SelfSendOut,
    SettleIn,
    StationOut,
    StockOut,
    TrackingIn,
    WarehouseOut,
    WaybillFormatOut,
)
from doorstep.services import customs, exchanges, self_send
from doorstep.services import stations as station_desk
from doorstep.services.self_send import SelfSendGuide

router = APIRouter(tags=["after-sales"])

Lat = Annotated[float, Query(ge=-90, le=90)]
Lon = Annotated[float, Query(ge=-180, le=180)]


def exchange_out(e: Exchange) -> ExchangeOut:
    return ExchangeOut(
        return_id=e.return_id,
        status=e.status.value,
        ship_at=e.ship_at.value,
        lines=[ExchangeLineOut.model_validate(ln) for ln in e.lines],
        difference_fen=e.difference_fen,
        difference_tax_fen=e.difference_tax_fen,
        waybill_no=e.waybill_no,
        carrier_id=e.carrier_id,
        shipped_at=e.shipped_at,
    )


def _warehouse(w: ReturnWarehouse) -> WarehouseOut:
    return WarehouseOut(
        warehouse_id=w.warehouse_id,
        name_zh=w.name_zh,
        name_en=w.name_en,
        bonded=w.bonded,
        address=AddressOut.model_validate(w.address),
    )


def _station(n: NearbyStation) -> StationOut:
    s = n.station
    return StationOut(
        station_id=s.station_id,
        kind=s.kind.value,
        carrier_id=s.carrier_id,
        name_zh=s.name_zh,
        name_en=s.name_en,
        hours=s.hours,
        address=AddressOut.model_validate(s.address),
        distance_m=n.distance_m,
    )


def guide_out(g: SelfSendGuide) -> SelfSendOut:
    return SelfSendOut(
        return_id=g.return_id,
        method=g.method.value if g.method else None,
        cross_border=g.cross_border,
        warehouse=_warehouse(g.warehouse),
        freight=FreightOut(
            payer=g.freight.payer.value,
            reimbursed=g.freight.reimbursed,
            reimbursed_up_to_fen=g.freight.reimbursed_up_to_fen,
        ),
        stations=[_station(n) for n in g.stations],
        dropoff=DropoffOut.model_validate(g.dropoff) if g.dropoff else None,
        carriers=[WaybillFormatOut.model_validate(f) for f in g.carriers],
        waybill_no=g.waybill_no,
    )


def customs_out(c: CustomsReturn) -> CustomsReturnOut:
    return CustomsReturnOut.model_validate(
        {**c.__dict__, "status": c.status.value, "lines": list(c.lines)}
    )


# --- exchanges --------------------------------------------------------------------------------


@router.get(
    "/exchanges/options",
    response_model=list[StockOut],
    summary="What an item can be exchanged for: its variants with price and stock",
)
def exchange_options(svc: Svc, buyer: BuyerActor, sku: Annotated[Id, Query()]) -> list[StockOut]:
    return [
        StockOut(sku=s.sku, family=s.family, unit_price_fen=s.unit_price_fen, available=s.available)
        for s in exchanges.variants(svc, sku)
    ]


@router.get(
    "/returns/{return_id}/exchange",
    response_model=ExchangeOut,
    summary="The replacement of an exchange: reserved, shipped (with tracking), done",
)
def get_exchange(svc: Svc, mine: MyReturn) -> ExchangeOut:
    return exchange_out(exchanges.get_exchange(svc, mine.return_id, buyer_id=mine.buyer_id))


@router.post(
    "/returns/{return_id}/exchange/refund-instead",
    response_model=ReturnOut,
    summary="Take a refund instead of the replacement (before it ships)",
)
def refund_instead(svc: Svc, mine: MyReturn) -> ReturnOut:
    return views.return_out(exchanges.refund_instead(svc, mine.buyer_id, mine.return_id))


@router.post(
    "/ops/exchanges/{return_id}/tracking",
    response_model=ExchangeOut,
    summary="A tracking update of a replacement parcel (joins the buyer's timeline)",
)
def track(svc: Svc, ops: OpsActor, return_id: Id, body: TrackingIn) -> ExchangeOut:
    return exchange_out(
        exchanges.track_replacement(
            svc,
            return_id,
            body.status,
            body.location,
            waybill_no=body.waybill_no,
            carrier_id=body.carrier_id,
        )
    )


# --- drop-off and self-ship -------------------------------------------------------------------


@router.get(
    "/returns/{return_id}/self-send",
    response_model=SelfSendOut,
    summary="Where to send the parcel, who pays the freight, stations near me, my code",
)
def self_send_guide(svc: Svc, mine: MyReturn) -> SelfSendOut:
    return guide_out(self_send.guide(svc, mine.buyer_id, mine.return_id))


@router.post(
    "/returns/{return_id}/dropoff-code",
    response_model=DropoffOut,
    status_code=201,
    summary="A drop-off code for one station or locker",
)
def dropoff_code(svc: Svc, mine: MyReturn, body: DropoffIn) -> DropoffOut:
    request = self_send.issue_dropoff_code(svc, mine.buyer_id, mine.return_id, body.station_id)
    return DropoffOut.model_validate(request.dropoff)


@router.get(
    "/returns/{return_id}/dropoff-code.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="The drop-off code as a QR code the station scans",
)
def dropoff_qr(svc: Svc, mine: MyReturn) -> Response:
    guide = self_send.guide(svc, mine.buyer_id, mine.return_id)
    if guide.dropoff is None:
        raise NotFound("dropoff_code", mine.return_id)
    return Response(
        qr_svg(guide.dropoff.code, guide.dropoff.station_id), media_type="image/svg+xml"
    )


def qr_svg(code: str, station_id: str) -> str:
    """The QR a station scans: the code and the station it is valid at."""
    qr = segno.make(f"DOORSTEP-DROPOFF:{station_id}:{code}", error="m")
    return str(qr.svg_inline(scale=4, title=code))


@router.post(
    "/stations/{station_id}/dropoffs",
    response_model=HandedInOut,
    status_code=201,
    summary="A station or locker takes a parcel against its drop-off code (once per code)",
)
def redeem_dropoff(svc: Svc, me: StationOrWarehouse, station_id: Id, body: RedeemIn) -> HandedInOut:
    # A station's own staff take parcels there only; parcel intake staff (the warehouse
    # role) keep taking them for any station.
    request = station_desk.take_dropoff(svc, station_desk.staff_operator(me), station_id, body.code)
    return HandedInOut(
        return_id=request.return_id, station_id=station_id, status=request.status.value
    )


@router.get(
    "/stations",
    response_model=list[StationOut],
    summary="Drop-off stations and lockers within 5 km, nearest first",
)
def stations(svc: Svc, buyer: BuyerActor, lat: Lat, lon: Lon) -> list[StationOut]:
    return [_station(n) for n in self_send.stations_near(svc, lat, lon)]


@router.get(
    "/waybill-formats",
    response_model=list[WaybillFormatOut],
    summary="The courier companies a self-shipped parcel may use, with their number formats",
)
def waybill_formats(buyer: BuyerActor) -> list[WaybillFormatOut]:
    return [WaybillFormatOut.model_validate(f) for f in WAYBILL_FORMATS]


# --- customs ----------------------------------------------------------------------------------


@router.get(
    "/customs/quota",
    response_model=QuotaOut,
    summary="My cross-border annual total (26,000 CNY) this year",
)
def quota(svc: Svc, buyer: BuyerActor) -> QuotaOut:
    q = customs.quota_of(svc, buyer.actor_id)
    return QuotaOut(year=q.year, limit_fen=q.limit_fen, used_fen=q.used_fen, left_fen=q.left_fen)


@router.get(
    "/ops/customs",
    response_model=list[CustomsQueueOut],
    summary="Customs returns by their next deadline (application day 30, arrival day 45)",
)
def customs_queue(svc: Svc, ops: OpsActor) -> list[CustomsQueueOut]:
    return [
        CustomsQueueOut(
            customs_return=customs_out(i.customs_return),
            deadline=i.deadline,
            due=i.due,
            days_left=i.days_left,
            arrived=i.arrived,
            returns=i.returns,
        )
        for i in customs.queue(svc)
    ]


@router.get(
    "/ops/customs/{customs_return_id}",
    response_model=CustomsReturnOut,
    summary="One customs return",
)
def customs_return(svc: Svc, ops: OpsActor, customs_return_id: Id) -> CustomsReturnOut:
    return customs_out(customs.get_customs_return(svc, customs_return_id))


@router.get(
    "/ops/customs/{customs_return_id}/declaration",
    response_model=Declaration,
    summary="The declaration data for the seller's agent",
)
def declaration(svc: Svc, ops: OpsActor, customs_return_id: Id) -> Declaration:
    return customs.declaration(svc, customs_return_id)


@router.post(
    "/ops/customs/{customs_return_id}/declare",
    response_model=CustomsReturnOut,
    summary="Declare now (or ask the broker again)",
)
def declare(svc: Svc, ops: OpsActor, customs_return_id: Id) -> CustomsReturnOut:
    return customs_out(customs.declare(svc, customs_return_id))


@router.post(
    "/ops/customs/{customs_return_id}/settle",
    response_model=CustomsReturnOut,
    summary="Give back tax and quota of an accepted declaration (force: what has arrived)",
)
def settle(svc: Svc, ops: OpsActor, customs_return_id: Id, body: SettleIn) -> CustomsReturnOut:
    return customs_out(customs.settle(svc, customs_return_id, force=body.force))
