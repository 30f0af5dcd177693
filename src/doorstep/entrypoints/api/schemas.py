"""Request and response bodies: strict on the way in, stable on the way out."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from doorstep.domain import bounds
from doorstep.domain.catalog import Accessory, Category
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.decision import Outcome, ReturnMethod, Verdict
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.inspection import CODE_PATTERN as UNIT_CODE_PATTERN
from doorstep.domain.inspection import MAX_PHOTOS_PER_UNIT, MAX_UNITS
from doorstep.domain.order import Channel
from doorstep.domain.pickup import DisputeOutcome, FailureReason, Handover
from doorstep.domain.refund_amount import FreightPayer, Part, TaxStatus
from doorstep.domain.refund_timing import OverdueStage
from doorstep.domain.returns import Grade, Reason, ReturnKind

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# Codes: ASCII digits only ([0-9], never \d, which also matches e.g. Arabic-Indic digits).
Adcode = Annotated[str, StringConstraints(pattern=bounds.ADCODE_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=bounds.PHONE_PATTERN)]
PickupCode = Annotated[str, StringConstraints(pattern=bounds.PICKUP_CODE_PATTERN)]
Waybill = Annotated[str, StringConstraints(pattern=bounds.WAYBILL_PATTERN)]
Fen = Annotated[int, Field(ge=0, le=10**11)]
Count = Annotated[int, Field(ge=1, le=10_000)]


def _in_calendar(moment: datetime) -> datetime:
    if not bounds.in_calendar(moment):
        raise ValueError("must be between the years 2000 and 2099")
    return moment


def _wall_in_calendar(moment: datetime) -> datetime:
    _in_calendar(moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI))
    return moment


def _day_in_calendar(day: date) -> date:
    if not bounds.day_in_calendar(day):
        raise ValueError("must be between the years 2000 and 2099")
    return day


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a time of day on the Shanghai wall clock, without an offset")
    return value


_WALL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
    "description": "Time of day on the Asia/Shanghai wall clock (UTC+8), HH:MM[:SS], no offset.",
    "examples": ["10:00:00"],
}

Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]
"""An instant with its offset, in the years 2000–2099."""
LocalMoment = Annotated[datetime, AfterValidator(_wall_in_calendar)]
"""An instant in the years 2000–2099, with its offset or without (then Shanghai time)."""
Day = Annotated[date, AfterValidator(_day_in_calendar)]
"""A calendar day in the years 2000–2099."""
WallTime = Annotated[time, AfterValidator(_wall_clock), WithJsonSchema(_WALL_TIME_SCHEMA)]
"""A window's start or end: local time of day. OpenAPI's ``format: time`` would demand an
offset (RFC 3339 full-time), which a recurring wall-clock window does not have."""


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MessageOut(Out):
    en: str
    zh: str


class ErrorOut(Out):
    """Every refusal: a stable code, the message in English and Chinese, and what it concerns."""

    code: str
    message: MessageOut
    details: Any = None


# --- auth ------------------------------------------------------------------------------
class TokenIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenOut(Out):
    access_token: str
    token_type: str = "bearer"
    role: str
    actor_id: str


class PasswordChangeIn(In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserOut(Out):
    username: str
    role: str
    actor_id: str
    active: bool


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
    # Exchanges (issue 9 §6): order line -> the SKU it is exchanged for (same SKU if absent).
    replacements: Annotated[dict[Id, Id], Field(max_length=50)] = {}


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


class AmountLineOut(Out):
    part: Part
    amount_fen: int = Field(description="Signed: deductions are negative.")
    line_id: str | None = None
    quantity: int = 0


class RefundQuoteOut(Out):
    """What a refund comes to, line by line (goods, tax, return freight, deductions)."""

    total_fen: int
    goods_fen: int
    tax_fen: int
    freight_fen: int
    adjustments_fen: int = Field(description="Deductions, give-backs and balance together.")
    tax_status: TaxStatus
    tax_arrive_by: datetime | None = Field(
        None, description="The withheld tax goes back only if the parcel is back by then."
    )
    freight_payer: FreightPayer
    lines: list[AmountLineOut]


class OverdueRefundOut(Out):
    """A refund past its due time (7 days after the warehouse received the parcel)."""

    return_id: str
    order_id: str
    buyer_id: str
    received_at: datetime
    due_by: datetime
    days_late: int
    stage: OverdueStage
    refund_id: str | None
    flagged: bool = Field(description="Escalated with a return.refund_overdue event.")


class OutlookAreaOut(Out):
    """One district's coming day, summed over its open windows."""

    adcode: str
    booked: int = Field(description="Visits booked so far.")
    capacity: int = Field(description="Places of the open windows.")
    weekday_mean: float = Field(
        description="Mean final bookings of the same windows on the same weekday of the last "
        "four weeks."
    )
    wave: float | None = Field(
        description="Pickups the return wave of orders already signed for expects; null "
        "without enough history to learn it."
    )
    requests: float | None = Field(description="Return requests the wave expects that day.")
    short_windows: int = Field(description="Open windows likely to run out.")


class OutlookDayOut(Out):
    day: date
    areas: list[OutlookAreaOut]


class WaveModelOut(Out):
    """What the return wave learned (domain/return_wave.py)."""

    orders: int = Field(description="Signed orders learned from.")
    return_rate: float = Field(description="City-wide requests per signed order.")
    pickup_share: float = Field(description="City-wide pickups booked per request.")
    lag: list[float] = Field(description="P(request k days after signing), k = 0 … 14.")
    lead: list[float] = Field(
        description="P(pickup window j days after the request), j = 0 … 13; [1] when no "
        "booking was learned (every pickup on its request's day)."
    )


class OutlookOut(Out):
    """Coming days per district: the return wave against past weeks and capacity."""

    today: date
    model: WaveModelOut | None
    days: list[OutlookDayOut]


class RetentionOut(Out):
    """Departed buyers' records and the erasure of their personal information."""

    due: int = Field(
        description="Departed buyers the sweep weighs at its next pass (just departed, or "
        "their retention period over); those with something unsettled wait."
    )
    erased: int = Field(description="Buyers whose personal information was erased.")
    next_due: datetime | None = Field(description="When the next departed buyer falls due.")
    retention_years: int
    note_en: str
    note_zh: str


class OverCapacityOut(Out):
    """A window not started holding more visits than its capacity (an edit lowered it)."""

    adcode: str
    carrier_id: str
    day: date
    start: str = Field(description="Window start, Asia/Shanghai wall time (HH:MM).")
    capacity: int
    booked: int
    over: int = Field(description="Visits beyond the capacity (none was cancelled).")


class QuoteIn(In):
    order_id: Id
    kind: ReturnKind = ReturnKind.REFUND
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=50)]


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
    refund_quote: RefundQuoteOut | None = Field(
        None, description="Quoted at filing; once the refund starts, exactly what it pays."
    )


class EvidenceIn(In):
    photo_id: Id | None = None
    text: Text = ""


class CancelIn(In):
    reason: Annotated[str, StringConstraints(max_length=200)] = "buyer_cancelled"


class SelfSendIn(In):
    method: ReturnMethod


class ShipmentIn(In):
    waybill_no: Waybill
    carrier_id: Id


class EventOut(Out):
    name: str
    occurred_at: datetime
    data: dict[str, Any]


SkuQuantities = Annotated[
    list[tuple[str, int]],
    # Published without ``prefixItems``: some OpenAPI 3.1 tools (schemathesis's response
    # check among them) misread it; the pairs are still described exactly enough.
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "items": {"type": ["string", "integer"]},
            },
            "description": "[sku, quantity] pairs",
        }
    ),
]


class ReceiptOut(Out):
    return_id: str
    receipt_code: str
    waybill_no: str
    carrier_id: str
    picked_up_at: datetime
    courier_id: str
    items: SkuQuantities
    inspection_result: str
    checklist: dict[str, bool]
    photo_ids: list[str]
    verified_weight_g: int | None
    refund: RefundQuoteOut | None = None
    courier_name: str = ""
    refused: list[RefusedItemOut] = []
    contactless: bool = False
    weight_off: bool = False
    # Signed facts: GET /receipts/verify?t=<token> (or the page /receipt/verify) checks them.
    token: str = ""


class RefusedItemOut(Out):
    sku: str
    quantity: int
    failed: list[str]


class ReceiptFactsOut(Out):
    """What a receipt's QR code vouches for, once its signature checked out."""

    return_id: str
    receipt_code: str
    waybill_no: str
    carrier_id: str
    courier_id: str
    courier_name: str
    picked_up_at: datetime
    items: SkuQuantities
    refused: SkuQuantities
    result: str
    contactless: bool
    weight_g: int | None
    photos: int
    photo_digest: str


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
    start: WallTime
    end: WallTime
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
    start: WallTime
    end: WallTime
    return_ids: list[str]
    courier_id: str | None
    eta: datetime | None = None
    route_position: int | None = None
    pickup_code: str | None = None
    address: AddressOut
    attempts: int
    handover: str = "in_person"
    handover_note: str = ""
    review: ReviewOut | None = None


class ReviewOut(Out):
    """A contactless pickup's review: the buyer's answer, or the ops decision on a dispute."""

    status: str
    due_at: datetime
    decided_at: datetime | None
    decided_by: str
    dispute_text: str
    dispute_photo_ids: list[str]
    outcome: str | None
    resolution_note: str


class DisputeIn(In):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    photo_ids: Annotated[list[Id], Field(max_length=10)] = []


class ResolveIn(In):
    outcome: DisputeOutcome
    note: Text = ""


class DoorEvidenceOut(Out):
    """The courier's side of a contactless pickup, per return."""

    return_id: str
    photo_ids: list[str]
    verified_weight_g: int | None
    expected_weight_g: int | None
    weight_off: bool
    note: str


class DisputedPickupOut(Out):
    appointment: AppointmentOut
    courier: list[DoorEvidenceOut]
    coupon_fen: int = 0
    coupon_issued_at: datetime | None = None


class PickupOptionsOut(Out):
    return_id: str
    slots: list[SlotOut]
    joinable: list[AppointmentOut]
    unavailable_reason: str | None


class BookIn(In):
    carrier_id: Id
    day: Day
    start: WallTime
    # Contactless pickup (issue 8 §8): leave the parcel at the door or in a parcel locker.
    handover: Handover = Handover.IN_PERSON
    handover_note: Annotated[str, StringConstraints(max_length=200)] = ""
    # The coupon shown on a green window; recorded only if the offer still carries it.
    coupon_fen: Fen = 0


class JoinIn(In):
    appointment_id: Id


# --- courier ---------------------------------------------------------------------------
CheckAnswers = Annotated[
    dict[Annotated[str, StringConstraints(max_length=40)], bool], Field(max_length=30)
]


class UnitIn(In):
    """One unit of a return line as the courier found it."""

    checks: CheckAnswers
    code: Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)] | None = None
    photo_ids: Annotated[list[Id], Field(max_length=MAX_PHOTOS_PER_UNIT)] = []


class LineInspectionIn(In):
    order_line_id: Id
    units: Annotated[list[UnitIn], Field(min_length=1, max_length=MAX_UNITS)]


class InspectionIn(In):
    """Either ``checklist`` for every unit at once, or ``lines`` unit by unit (partial pickup:
    units that fail a check stay with the buyer)."""

    return_id: Id
    checklist: CheckAnswers = {}
    photo_ids: Annotated[list[Id], Field(max_length=10)] = []
    verified_weight_g: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    note: Text = ""
    lines: Annotated[list[LineInspectionIn], Field(max_length=20)] = []


class UnitResultOut(Out):
    order_line_id: str
    sku: str
    unit: int
    taken: bool
    failed: list[str]
    code: str | None
    photo_ids: list[str]


class InspectionOut(Out):
    result: str
    refusal_reason: str | None
    inspected_at: datetime
    units: list[UnitResultOut] = []
    expected_weight_g: int | None = None
    weight_off: bool = False


class CheckOut(Out):
    key: str
    photo: bool


class ChecklistLineOut(Out):
    return_id: str
    order_line_id: str
    sku: str
    quantity: int
    checks: list[CheckOut]
    code_check: str  # barcode_matches | serial_matches
    code_required: bool  # the order line recorded the code: the courier scans each unit


class ChecklistOut(Out):
    appointment_id: str
    lines: list[ChecklistLineOut]


class PickUpIn(In):
    # Required unless the buyer chose a contactless pickup (nobody is there to say it).
    pickup_code: PickupCode | None = None


class FailIn(In):
    reason: FailureReason
    note: Text = ""


# --- warehouse -------------------------------------------------------------------------
class GradeIn(In):
    grade: Grade
    note: Text = ""
    photo_ids: Annotated[list[Id], Field(max_length=10)] = []
    # The goods arrived damaged: after a passed door inspection, a claim on the carrier.
    damaged: bool = False


# --- ops -------------------------------------------------------------------------------
ParamValue = (
    Annotated[int, Field(ge=-(10**12), le=10**12)]
    | Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)]
)


class RuleIn(In):
    code: Id
    enabled: bool = True
    params: Annotated[
        dict[Annotated[str, StringConstraints(max_length=64)], ParamValue], Field(max_length=20)
    ] = {}


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
    start: WallTime
    end: WallTime


class TemplateIn(In):
    template_id: Id
    name: ShortText
    windows: Annotated[list[WindowIn], Field(min_length=1, max_length=48)]
    capacity: Annotated[int, Field(ge=0, le=10_000)] = 10
    holiday_capacity_pct: Annotated[int, Field(ge=0, le=100)] = 50


class CarrierIn(In):
    carrier_id: Id
    name_zh: ShortText
    name_en: ShortText
    waybill_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,8}$")]
    template_id: Id
    own_fleet: bool = True
    # The most the company insures one parcel for (保价上限); none: no maximum.
    max_insured_fen: Annotated[int, Field(ge=1, le=10**11)] | None = None


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
    # Of carrier_ids, those whose own couriers serve here (a pickup order at booking).
    company_carriers: Annotated[list[Id], Field(max_length=20)] = []


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
    accessories: Annotated[list[Accessory], Field(max_length=len(Accessory))] = []


class OrderLineIn(In):
    line_id: Id
    sku: Id
    quantity: Annotated[int, Field(ge=1, le=999)]
    unit_price_fen: Fen
    tax_fen: Fen = 0
    not_returnable_confirmed: bool = False
    gift_for: Id | None = None
    gift_value_fen: Fen = 0
    barcode: Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)] | None = None
    serial_numbers: Annotated[
        list[Annotated[str, StringConstraints(pattern=UNIT_CODE_PATTERN)]], Field(max_length=999)
    ] = []


class PromotionsIn(In):
    coupon_fen: Fen = 0
    reduction_fen: Fen = 0
    reduction_threshold_fen: Fen = 0
    free_shipping_threshold_fen: Fen = 0
    waived_shipping_fen: Fen = 0


class OrderIn(In):
    order_id: Id
    buyer_id: Id
    shop_id: Id
    channel: Channel
    placed_at: Moment
    shipping_address: AddressIn
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)]
    signed_at: Moment | None = None
    customs_released_at: Moment | None = None
    lost_at: Moment | None = None  # the delivering courier company declared the parcel lost
    declaration_no: Annotated[str, StringConstraints(max_length=64)] | None = None
    promotions: PromotionsIn = Field(default_factory=PromotionsIn)
    return_freight_by_shop: bool = False
    freight_insurance: bool = False


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
    starts_at: Moment
    ends_at: Moment
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


# --- courier companies and tracking (issue 8) ------------------------------------------
class CallbackOut(Out):
    outcome: str = Field(description="applied, duplicate (event id seen) or late (recorded only)")


class CarrierOrderOut(Out):
    out_order_no: str
    carrier_id: str
    appointment_id: str
    return_ids: list[str]
    status: str
    pending_op: str | None
    carrier_order_id: str | None
    courier_name: str | None
    courier_mobile: str | None = Field(None, description="masked")
    day: date
    window: str
    waybill_no: str | None
    failure_reason: str | None
    actual_weight_g: int | None
    freight_fen: int | None
    send_attempts: int
    last_error: str | None
    last_heard_at: datetime | None
    late_updates: int
    needs_ops: list[str] = Field(
        default_factory=list,
        description="Returns a pickup that overtook our cancel left behind, for ops.",
    )
    ops_settled_at: datetime | None = None
    ops_settled_by: str | None = None
    ops_note: str = ""


class LeftReturnOut(Out):
    """A return the parcel left behind, as it stands now."""

    return_id: str
    buyer_id: str
    order_id: str
    status: str
    appointment_id: str | None


class OvertakenCaseOut(Out):
    """A pickup order whose pickup overtook our cancel, with returns for ops to settle."""

    order: CarrierOrderOut
    waiting_since: datetime
    left: list[LeftReturnOut]


class SettleIn(In):
    note: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="What ops did: the buyer told, the parcel sent back, the return reopened."
    )


class CarrierExchangeOut(Out):
    carrier_id: str
    out_order_no: str | None
    operation: str
    direction: str
    status_code: int | None
    outcome: str
    duration_ms: int
    at: datetime
    request: dict[str, Any]
    response: dict[str, Any] | None


class WaybillIn(In):
    waybill_no: Waybill


class DoorInspectionOut(Out):
    result: str
    checklist: dict[str, bool]
    photo_ids: list[str]
    verified_weight_g: int | None
    inspected_at: datetime
    courier_id: str
    note: str
    refusal_reason: str | None


class QualityCheckOut(Out):
    grade: str
    checked_at: datetime
    by: str
    note: str
    photo_ids: list[str]


class ParcelOut(Out):
    """What the warehouse sees: the return, the door inspection beside its own grade."""

    parcel: ReturnOut
    door_inspection: DoorInspectionOut | None
    quality_check: QualityCheckOut | None
    carrier_order: CarrierOrderOut | None
