"""Request and response bodies: strict on the way in, stable on the way out."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from doorstep.domain.catalog import Category
from doorstep.domain.decision import Outcome, ReturnMethod, Verdict
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.order import Channel
from doorstep.domain.pickup import FailureReason
from doorstep.domain.returns import Grade, Reason, ReturnKind

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Adcode = Annotated[str, StringConstraints(pattern=r"^[1-8]\d{5}$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?\d{7,15}$")]
Fen = Annotated[int, Field(ge=0, le=10**11)]
Count = Annotated[int, Field(ge=1, le=10_000)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- auth ------------------------------------------------------------------------------
class TokenIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"
    role: str
    actor_id: str


# --- shared ----------------------------------------------------------------------------
class AddressIn(In):
    adcode: Adcode
    province: ShortText
    city: ShortText
    district: ShortText
    detail: ShortText
    contact_name: ShortText
    contact_phone: Phone
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


class AddressOut(Out):
    adcode: str
    province: str
    city: str
    district: str
    detail: str
    contact_name: str
    masked_phone: str


# --- returns ---------------------------------------------------------------------------
class ConditionIn(In):
    opened: bool = False
    seal_intact: bool = True
    tags_attached: bool = True
    activated: bool = False
    used: bool = False
    accessories_complete: bool = True
    labels_intact: bool = True


class ReturnLineIn(In):
    order_line_id: Id
    quantity: Annotated[int, Field(ge=1, le=999)]
    reason: Reason
    condition: ConditionIn = Field(default_factory=ConditionIn)
    note: Text = ""


class OpenReturnIn(In):
    order_id: Id
    kind: ReturnKind = ReturnKind.REFUND
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=50)]
    address: AddressIn | None = None
    photo_ids: Annotated[list[Id], Field(max_length=10)] = []
    note: Text = ""


class FindingOut(Out):
    rule: str
    verdict: Verdict
    reason: str
    text_en: str
    text_zh: str
    line_id: str | None = None
    until: datetime | None = None


class MethodOut(Out):
    method: ReturnMethod
    until: datetime | None


class DecisionOut(Out):
    outcome: Outcome
    policy_version: int
    decided_at: datetime
    decided_by: str
    findings: list[FindingOut]
    methods: list[MethodOut]
    unavailable: dict[str, str]


class ReturnLineOut(Out):
    order_line_id: str
    sku: str
    quantity: int
    reason: Reason


class ReturnOut(Out):
    return_id: str
    order_id: str
    buyer_id: str
    kind: ReturnKind
    status: str
    created_at: datetime
    lines: list[ReturnLineOut]
    decision: DecisionOut | None
    method: ReturnMethod | None
    appointment_id: str | None
    waybill_no: str | None
    carrier_id: str | None
    refund_id: str | None
    evidence_count: int


class EvidenceIn(In):
    photo_id: Id | None = None
    text: Text = ""


class CancelIn(In):
    reason: Annotated[str, StringConstraints(max_length=200)] = "buyer_cancelled"


class SelfSendIn(In):
    method: ReturnMethod


class ShipmentIn(In):
    waybill_no: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{6,32}$")]
    carrier_id: Id


class EventOut(Out):
    name: str
    occurred_at: datetime
    data: dict[str, Any]


class ReceiptOut(Out):
    return_id: str
    receipt_code: str
    waybill_no: str
    carrier_id: str
    picked_up_at: datetime
    courier_id: str
    items: list[tuple[str, int]]
    inspection_result: str
    checklist: dict[str, bool]
    photo_ids: list[str]
    verified_weight_g: int | None


class PrecheckOut(Out):
    sku: str
    adcode: str
    pickup: bool
    until: datetime | None
    policy_version: int
    findings: list[FindingOut]


# --- pickup ----------------------------------------------------------------------------
class SlotOut(Out):
    carrier_id: str
    day: date
    start: time
    end: time
    capacity: int
    remaining: int
    closes_at: datetime
    rank: int
    incentive_fen: int
    note_en: str
    note_zh: str


class AppointmentOut(Out):
    appointment_id: str
    status: str
    carrier_id: str
    day: date
    start: time
    end: time
    return_ids: list[str]
    courier_id: str | None
    eta: datetime | None = None
    route_position: int | None = None
    pickup_code: str | None = None
    address: AddressOut
    attempts: int


class PickupOptionsOut(Out):
    return_id: str
    slots: list[SlotOut]
    joinable: list[AppointmentOut]
    unavailable_reason: str | None


class BookIn(In):
    carrier_id: Id
    day: date
    start: time


class JoinIn(In):
    appointment_id: Id


# --- courier ---------------------------------------------------------------------------
class InspectionIn(In):
    return_id: Id
    checklist: dict[Annotated[str, StringConstraints(max_length=40)], bool]
    photo_ids: Annotated[list[Id], Field(min_length=1, max_length=10)]
    verified_weight_g: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    note: Text = ""


class InspectionOut(Out):
    result: str
    refusal_reason: str | None
    inspected_at: datetime


class PickUpIn(In):
    pickup_code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class FailIn(In):
    reason: FailureReason
    note: Text = ""


# --- warehouse -------------------------------------------------------------------------
class GradeIn(In):
    grade: Grade
    note: Text = ""
    photo_ids: Annotated[list[Id], Field(max_length=10)] = []


# --- ops -------------------------------------------------------------------------------
class RuleIn(In):
    code: Id
    enabled: bool = True
    params: dict[Annotated[str, StringConstraints(max_length=64)], Any] = {}


class PolicyIn(In):
    rules: Annotated[list[RuleIn], Field(min_length=1, max_length=50)]
    note: Text = ""


class PolicyOut(Out):
    version: int
    created_at: datetime
    created_by: str
    note: str
    rules: list[dict[str, Any]]


class ReviewIn(In):
    approve: bool
    note: Text = ""


class WindowIn(In):
    start: time
    end: time


class TemplateIn(In):
    template_id: Id
    name: ShortText
    windows: Annotated[list[WindowIn], Field(min_length=1, max_length=48)]
    capacity: Annotated[int, Field(ge=0, le=10_000)] = 10
    holiday_capacity_pct: Annotated[int, Field(ge=0, le=100)] = 50


class AreaIn(In):
    adcode: Adcode
    name_zh: ShortText
    name_en: ShortText
    pickup_supported: bool = True
    remote: bool = False
    carrier_ids: Annotated[list[Id], Field(max_length=20)] = []
    template_id: Id = "generic-2h"
    capacity_override: Annotated[int, Field(ge=0, le=10_000)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None


# --- partner imports -------------------------------------------------------------------
class DimensionsIn(In):
    length_mm: Annotated[int, Field(ge=1, le=10_000)]
    width_mm: Annotated[int, Field(ge=1, le=10_000)]
    height_mm: Annotated[int, Field(ge=1, le=10_000)]


class ProductIn(In):
    sku: Id
    name_zh: ShortText
    name_en: ShortText
    category: Category
    weight_g: Annotated[int, Field(ge=1, le=2_000_000)]
    dimensions: DimensionsIn
    customised: bool = False
    perishable: bool = False
    digital: bool = False
    seal_sensitive: bool = False
    not_returnable_at_checkout: bool = False
    shop_id: Id


class OrderLineIn(In):
    line_id: Id
    sku: Id
    quantity: Annotated[int, Field(ge=1, le=999)]
    unit_price_fen: Fen
    tax_fen: Fen = 0
    not_returnable_confirmed: bool = False


class OrderIn(In):
    order_id: Id
    buyer_id: Id
    shop_id: Id
    channel: Channel
    placed_at: datetime
    shipping_address: AddressIn
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)]
    signed_at: datetime | None = None
    customs_released_at: datetime | None = None
    declaration_no: Annotated[str, StringConstraints(max_length=64)] | None = None


class ImportProductsIn(In):
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=1000)]


class ImportOrdersIn(In):
    orders: Annotated[list[OrderIn], Field(min_length=1, max_length=1000)]


class ImportedOut(Out):
    imported: int


class PhotoOut(Out):
    photo_id: str
    media_type: str
    width: int
    height: int
    sha256: str


class DisruptionIn(In):
    kind: DisruptionKind
    adcodes: Annotated[list[Adcode], Field(min_length=1, max_length=50)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity_pct: Annotated[int, Field(ge=0, le=100)] = 0
    reason_en: ShortText
    reason_zh: ShortText


class DisruptionOut(Out):
    disruption_id: str
    kind: DisruptionKind
    adcodes: list[str]
    starts_at: datetime
    ends_at: datetime
    capacity_pct: int
    reason_en: str
    reason_zh: str
    declared_by: str
    lifted_at: datetime | None


class MoveOut(Out):
    appointment_id: str
    old_slot: str
    new_slot: str


class DisruptionReportOut(Out):
    disruption: DisruptionOut
    moved: list[MoveOut]
    stranded: list[str]
