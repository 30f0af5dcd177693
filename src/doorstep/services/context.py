"""What every use case may need besides the unit of work, wired once by bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from doorstep.domain.calendar import HolidayCalendar
from doorstep.domain.carrier_order import Party
from doorstep.domain.claim import ClaimRules
from doorstep.domain.outbox import RetryRules
from doorstep.domain.pickup import BookingRules
from doorstep.domain.refund import RefundOnlyLimits
from doorstep.domain.retention import RetentionRule
from doorstep.domain.trust import TrustWeights
from doorstep.planning import HaversineTravel, TravelTimes
from doorstep.services.notifications import EnglishTexts
from doorstep.services.offering import FixedCapacityOffering, SlotOffering
from doorstep.services.ports import (
    CarrierExchange,
    Clock,
    CourierCompany,
    ExchangeJournal,
    Ids,
    ImageCleaner,
    Messenger,
    Passwords,
    PaymentGateway,
    Telemetry,
    Texts,
    Throttle,
    TokenIssuer,
    UnitOfWorkFactory,
    WebhookSender,
)
from doorstep.services.ports_after_sales import CustomsBroker, CustomsRules
from doorstep.services.route import RouteCache


@dataclass(frozen=True)
class RefundRules:
    """When an express refund is paid at pickup instead of after QC, and when a refund-only
    request is paid without a review."""

    express_min_trust: int = 700  # RULES.md §3: the threshold is unconfirmed, so a setting
    express_max_fen: int = 300_000
    refund_only: RefundOnlyLimits = field(default_factory=RefundOnlyLimits)
    # How outcomes move a buyer's trust (domain/trust.py), claims' windows and amounts, and
    # how long a buyer has to answer a failed QC (issue 9 §3, §5).
    trust: TrustWeights = field(default_factory=TrustWeights)
    claims: ClaimRules = field(default_factory=ClaimRules)
    dispute_answer_h: int = 72


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where a merchant (shop) wants events, and the secret they are signed with."""

    url: str
    secret: str


@dataclass(frozen=True)
class OutboxRules:
    """Retry schedule, how long a claim holds a delivery, and the merchants' endpoints."""

    retry: RetryRules = field(default_factory=RetryRules)
    # Longer than the slowest batch of sends (webhook timeout × batch) so that a live
    # dispatcher's rows are not taken over; a dead dispatcher's rows wait this long at most.
    lease: timedelta = timedelta(minutes=5)
    endpoints: Mapping[str, WebhookEndpoint] = field(default_factory=dict)


@dataclass(frozen=True)
class DoorRules:
    """The receipt's signing key and how long a contactless pickup waits for the buyer."""

    # HMAC key of the receipt's verification URL (settings refuse a weak one in production).
    receipt_key: bytes = b"dev-only-receipt-key-change-me-0123456789"
    # A buyer who says nothing by then has accepted the courier's photos and weight.
    contactless_confirm_within: timedelta = timedelta(hours=24)


class NoTelemetry:
    """Telemetry that goes nowhere (tests, the simulator)."""

    def planner_run(self, seconds: float) -> None:
        pass


RETURN_WAREHOUSE = Party(
    "doorstep 退货仓",
    "02161234567",
    "上海市",
    "上海市",
    "浦东新区",
    "外高桥保税区 华京路 8 号",
    "310115",
)


@dataclass(frozen=True)
class CarrierRules:
    """How doorstep deals with courier companies (settings)."""

    # Where companies send callbacks: {callback_base_url}/carriers/{carrier_id}/callbacks.
    callback_base_url: str = "http://127.0.0.1:8000"
    # Per-carrier callback secrets (HMAC-SHA256); a carrier without one cannot call back.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # An open order not heard of for this long is asked for (polling as the backup).
    quiet_after: timedelta = timedelta(minutes=15)
    # Sends (create, cancel) retried by the worker, with doubling waits from retry_after.
    send_attempts: int = 6
    retry_after: timedelta = timedelta(seconds=30)
    receiver: Party = RETURN_WAREHOUSE
    # How long one send may hold its order (longer than a call with all its tries takes):
    # a sender that died leaves the order to the worker after this.
    send_lease: timedelta = timedelta(minutes=5)


class NoJournal:
    """An exchange journal that keeps nothing (tests and the simulator)."""

    def record(self, exchange: CarrierExchange) -> None:
        pass

    def recent(
        self, carrier_id: str | None = None, out_order_no: str | None = None, limit: int = 50
    ) -> list[CarrierExchange]:
        return []


@dataclass(frozen=True)
class Services:
    """The ports and settings use cases run with."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: Ids
    payments: PaymentGateway
    images: ImageCleaner
    passwords: Passwords
    tokens: TokenIssuer
    calendar: HolidayCalendar
    throttle: Throttle
    booking: BookingRules = field(default_factory=BookingRules)
    refunds: RefundRules = field(default_factory=RefundRules)
    warehouse_id: str = "wh-sh-bonded"
    # Wrapped in planning.timed.TimedTravel, routes (day plan and bookings) price each leg
    # at the hours it can be driven in instead of the evening peak all day.
    travel: TravelTimes = field(default_factory=HaversineTravel)
    # Which windows are bookable; booking checks against the same policy that offered them.
    offering: SlotOffering = field(default_factory=FixedCapacityOffering)
    # Courier routes and their slack per version; one per process and database.
    route_cache: RouteCache = field(default_factory=RouteCache)
    # Timings for operators (metrics); bootstrap wires the Prometheus adapter.
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    # The outbox (services/outbox.py): texts and e-mails to buyers, webhooks to merchants.
    # Unwired (None) channels get no deliveries.
    outbox: OutboxRules = field(default_factory=OutboxRules)
    messenger: Messenger | None = None
    webhooks: WebhookSender | None = None
    texts: Texts = field(default_factory=EnglishTexts)
    # Customs returns (issue 9 §7): the broker port and its settings.
    customs_broker: CustomsBroker | None = None
    customs: CustomsRules = field(default_factory=CustomsRules)
    # Courier companies that serve areas with their own couriers, by carrier id (issue 8).
    carriers: Mapping[str, CourierCompany] = field(default_factory=dict)
    carrier_rules: CarrierRules = field(default_factory=CarrierRules)
    exchanges: ExchangeJournal = field(default_factory=NoJournal)
    door: DoorRules = field(default_factory=DoorRules)
    # How long a departed buyer's personal information is kept (services/retention.py).
    retention: RetentionRule = field(default_factory=RetentionRule)
