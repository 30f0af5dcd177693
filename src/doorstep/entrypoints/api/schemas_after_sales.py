"""API shapes of exchanges, customs returns, drop-off and self-ship (issue 9 §6-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints

from doorstep.entrypoints.api.schemas import Id, In, Out, Waybill

ShortCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Place = Annotated[str, StringConstraints(max_length=128)]


class StockOut(Out):
    sku: str
    family: str
    unit_price_fen: int
    available: int


class ExchangeLineOut(Out):
    order_line_id: str
    from_sku: str
    to_sku: str
    quantity: int
    paid_unit_fen: int
    new_unit_fen: int


class ExchangeOut(Out):
    return_id: str
    status: str
    ship_at: str
    lines: list[ExchangeLineOut]
    difference_fen: int
    difference_tax_fen: int  # the import tax in a dearer variant's difference
    waybill_no: str | None
    carrier_id: str | None
    shipped_at: datetime | None


class TrackingIn(In):
    status: ShortCode
    location: Place = ""
    # The outbound label's number and its company, with the first update that knows them.
    waybill_no: Waybill | None = None
    carrier_id: Id | None = None


class AddressOut(Out):
    province: str
    city: str
    district: str
    detail: str
    contact_name: str
    contact_phone: str


class WarehouseOut(Out):
    warehouse_id: str
    name_zh: str
    name_en: str
    bonded: bool
    address: AddressOut


class StationOut(Out):
    station_id: str
    kind: str
    carrier_id: str
    name_zh: str
    name_en: str
    hours: str
    address: AddressOut
    distance_m: int


class WaybillFormatOut(Out):
    carrier_id: str
    name_zh: str
    name_en: str
    pattern: str
    example: str


class FreightOut(Out):
    payer: str
    reimbursed: bool
    reimbursed_up_to_fen: int


class DropoffOut(Out):
    code: str
    station_id: str
    issued_at: datetime
    expires_at: datetime


class SelfSendOut(Out):
    return_id: str
    method: str | None
    cross_border: bool
    warehouse: WarehouseOut
    freight: FreightOut
    stations: list[StationOut]
    dropoff: DropoffOut | None
    carriers: list[WaybillFormatOut]
    waybill_no: str | None


class DropoffIn(In):
    station_id: Id


# The 8 ASCII digits a station scans or types; anything else is refused before a lookup.
DropoffCode = Annotated[str, StringConstraints(min_length=8, max_length=8, pattern=r"^[0-9]{8}$")]


class RedeemIn(In):
    code: DropoffCode


class HandedInOut(Out):
    """What the station learns: which return it took and where it goes now, nothing else."""

    return_id: str
    station_id: str
    status: str


class QuotaOut(Out):
    year: int
    limit_fen: int
    used_fen: int
    left_fen: int


class CustomsLineOut(Out):
    return_id: str
    order_line_id: str
    sku: str
    quantity: int
    value_fen: int
    tax_fen: int


class CustomsReturnOut(Out):
    customs_return_id: str
    declaration_no: str
    order_id: str
    channel: str
    status: str
    released_at: datetime
    application_by: datetime
    arrival_by: datetime
    warehouse_id: str
    lines: list[CustomsLineOut]
    broker_ref: str | None
    rejection: str | None
    alerts: list[str]
    tax_refund_fen: int
    quota_restored_fen: int


class CustomsQueueOut(Out):
    customs_return: CustomsReturnOut
    deadline: str | None
    due: datetime | None
    days_left: int | None
    arrived: int
    returns: int


class SettleIn(In):
    force: bool = False


Declaration = dict[str, Any]
