"""The one place that wires adapters into services."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from doorstep.adapters.auth import Argon2Passwords, LimitsThrottle, TokenService
from doorstep.adapters.auth.sql_limits import SqlLimitsStorage
from doorstep.adapters.calendar import ChineseHolidayCalendar
from doorstep.adapters.carriers.http import HttpCourierCompany, HttpPolicy
from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.adapters.db.carrier_orders import SqlExchangeJournal
from doorstep.adapters.db.conflicts import (
    lost_races_as_conflicts,
    unstorable_text_as_invalid_input,
)
from doorstep.adapters.db.engine import PoolSizing, make_engine
from doorstep.adapters.db.uow import SqlUnitOfWork
from doorstep.adapters.ids import RandomIds, SystemClock
from doorstep.adapters.images import BoundedSanitizer
from doorstep.adapters.notify.sink import DatabaseSink
from doorstep.adapters.notify.texts import CatalogTexts
from doorstep.adapters.notify.webhooks import HttpWebhooks
from doorstep.adapters.observability import logs
from doorstep.adapters.observability.metrics import (
    CountedPayments,
    PrometheusTelemetry,
    TimedOffering,
)
from doorstep.adapters.payments.local import LocalPayments
from doorstep.config import Settings
from doorstep.domain.calendar import HolidayCalendar
from doorstep.domain.outbox import RetryRules
from doorstep.domain.pickup import BookingRules
from doorstep.domain.refund import RefundOnlyLimits
from doorstep.domain.retention import RetentionRule
from doorstep.planning.timed import TimedTravel
from doorstep.planning.travel import HaversineTravel, TravelTimes
from doorstep.services import courier, identity
from doorstep.services.context import (
    CarrierRules,
    DoorRules,
    OutboxRules,
    RefundRules,
    Services,
    WebhookEndpoint,
)
from doorstep.services.forecast import HistoryForecast
from doorstep.services.offering import FixedCapacityOffering, SlotOffering
from doorstep.services.planned_offering import IncentiveRules, PlannedOffering
from doorstep.services.ports import (
    Clock,
    CourierCompany,
    ExchangeJournal,
    PaymentGateway,
    UnitOfWork,
    WebhookSender,
)
from doorstep.services.ports_after_sales import CustomsBroker, CustomsRules

ALEMBIC_DIR = Path(__file__).resolve().parent / "migrations"
# Connections per process for attempt limits kept in the database (database://): a count is
# one short transaction, and only sign-ins and pickup codes count.
THROTTLE_POOL_SIZE = 2
# The pages' Babel catalogues; buyer texts and e-mails are translated from the same files.
LOCALE_DIR = Path(__file__).resolve().parent / "entrypoints" / "web" / "locale"


class DemoRefused(RuntimeError):
    """Demo data was asked for outside development or tests."""


@dataclass
class App:
    """Everything an entry point needs: the services bundle plus transport-side helpers."""

    settings: Settings
    engine: Engine
    services: Services
    tokens: TokenService
    offering: SlotOffering
    extras: dict[str, object] = field(default_factory=dict)


def migrate(database_url: str) -> None:
    """Bring the schema to the latest Alembic revision."""
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:///:"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", database_url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def timed_travel(settings: Settings, base: TravelTimes) -> TimedTravel:
    """``base`` with legs priced at the hours they are driven, as ``settings`` say."""
    return TimedTravel(
        base,
        margin=settings.travel_leg_margin,
        lead_s=settings.travel_leg_lead_s,
        reserve_s=settings.travel_leg_reserve_s,
        leg_sd=settings.travel_leg_sd,
        door_sd=settings.travel_door_sd,
        chain_z=settings.travel_chain_z,
        driven_hours=settings.travel_driven_hours,
    )


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    payments: PaymentGateway | None = None,
    offering: SlotOffering | None = None,
    calendar: HolidayCalendar | None = None,
    webhooks: WebhookSender | None = None,
    run_migrations: bool = True,
    customs_broker: CustomsBroker | None = None,
) -> App:
    """Wire the application for ``settings`` (and test doubles where given)."""
    settings = settings or Settings()
    if run_migrations:
        migrate(settings.database_url)
    engine = make_engine(settings.database_url, pool=pool_sizing(settings))
    lost_races_as_conflicts(engine)
    unstorable_text_as_invalid_input(engine)
    tokens = TokenService(settings.secret_key, ttl_seconds=settings.token_ttl_seconds)
    hours, minutes = map(int, settings.booking_same_day_until.split(":"))

    def uow() -> UnitOfWork:
        # The repositories satisfy the ports structurally; mypy cannot see through the
        # generic document repository, so the claim is made here, once.
        return cast(UnitOfWork, SqlUnitOfWork(engine))

    services = Services(
        uow=uow,
        clock=clock or SystemClock(),
        ids=RandomIds(),
        payments=CountedPayments(payments or LocalPayments()),
        images=BoundedSanitizer(settings.image_workers, max_bytes=settings.max_upload_bytes),
        passwords=Argon2Passwords(
            memory_kib=settings.argon2_memory_kib,
            time_cost=settings.argon2_time_cost,
            concurrency=settings.password_hash_concurrency,
            queue=settings.password_hash_queue,
        ),
        tokens=tokens,
        calendar=calendar or ChineseHolidayCalendar(),
        throttle=make_throttle(settings),
        booking=BookingRules(
            settings.booking_horizon_days,
            timedelta(minutes=settings.booking_close_before_end_minutes),
            time(hours, minutes),
            settings.booking_call_out_s,
        ),
        refunds=RefundRules(
            settings.express_refund_min_trust,
            settings.express_refund_max_fen,
            RefundOnlyLimits(
                settings.refund_only_instant_max_fen,
                settings.refund_only_min_trust,
                settings.refund_only_lost_after_days,
            ),
        ),
        warehouse_id=settings.warehouse_id,
        travel=timed_travel(settings, HaversineTravel())
        if settings.travel_pricing == "timed"
        else HaversineTravel(),
        door=DoorRules(
            settings.receipt_key,
            timedelta(hours=settings.contactless_confirm_hours),
        ),
        retention=RetentionRule(settings.retention_years),
        telemetry=PrometheusTelemetry(),
        outbox=outbox_rules(settings),
        messenger=(
            DatabaseSink(engine, clock or SystemClock())
            if settings.notifications == "sink"
            else None
        ),
        webhooks=webhooks or HttpWebhooks(timeout_s=settings.webhook_timeout_s),
        texts=CatalogTexts(LOCALE_DIR),
        customs_broker=customs_broker or LocalCustomsBroker(settings.customs_broker_mode),
        customs=CustomsRules(settings.customs_alert_days, settings.customs_annual_quota_fen),
    )
    chosen = TimedOffering(offering or make_offering(settings, services))
    journal = SqlExchangeJournal(engine)
    services = replace(
        services,
        offering=chosen,
        carriers=make_carriers(settings, journal, services.clock),
        carrier_rules=CarrierRules(
            callback_base_url=settings.public_url,
            secrets={c: g.callback_secret for c, g in settings.carrier_gateways.items()},
            quiet_after=timedelta(minutes=settings.carrier_quiet_minutes),
            # Every try of a call timing out, with the waits between them, and a margin.
            send_lease=timedelta(
                seconds=settings.carrier_timeout_s * settings.carrier_attempts * 2 + 60
            ),
        ),
        exchanges=journal,
    )
    return App(settings, engine, services, tokens, chosen)


def outbox_rules(settings: Settings) -> OutboxRules:
    """Retries, lease and merchant endpoints of the outbox, from the settings."""
    return OutboxRules(
        retry=RetryRules(
            settings.outbox_max_attempts,
            timedelta(seconds=settings.outbox_backoff_base_s),
            timedelta(seconds=settings.outbox_backoff_cap_s),
        ),
        lease=timedelta(seconds=settings.outbox_lease_s),
        endpoints={
            shop: WebhookEndpoint(hook.url, hook.secret)
            for shop, hook in settings.merchant_webhooks.items()
        },
    )


def make_carriers(
    settings: Settings, journal: ExchangeJournal, clock: Clock
) -> dict[str, CourierCompany]:
    """An HTTP gateway per courier company in the settings."""
    policy = HttpPolicy(timeout_s=settings.carrier_timeout_s, attempts=settings.carrier_attempts)
    return {
        carrier_id: HttpCourierCompany(
            carrier_id, gateway.url, gateway.api_key, journal, clock, policy
        )
        for carrier_id, gateway in settings.carrier_gateways.items()
    }


def configure_logging(settings: Settings) -> None:
    """structlog for this process: human-readable in development, JSON elsewhere;
    DOORSTEP_LOG_FORMAT (console or json) overrides."""
    fmt = settings.log_format or ("console" if settings.env == "development" else "json")
    logs.configure_logging(fmt, settings.log_level)


def pool_sizing(settings: Settings) -> PoolSizing:
    """The per-process connection pool the settings ask for."""
    return PoolSizing(
        size=settings.db_pool_size,
        overflow=settings.db_max_overflow,
        timeout_s=settings.db_pool_timeout_s,
        connect_timeout_s=settings.db_connect_timeout_s,
        lock_timeout_s=settings.db_lock_timeout_s,
    )


def make_throttle(settings: Settings) -> LimitsThrottle:
    """The attempt limits the services name, with the values the settings give."""
    storage: str | SqlLimitsStorage = settings.rate_limit_storage
    if storage == "database://":
        # An engine of its own: a wrong pickup code is counted while the visit's unit of work
        # holds one of the main pool's connections, so sharing that pool could starve it.
        pool = PoolSizing(size=THROTTLE_POOL_SIZE, timeout_s=settings.db_pool_timeout_s)
        storage = SqlLimitsStorage(make_engine(settings.database_url, pool=pool))
    return LimitsThrottle(
        storage,
        {
            identity.SIGN_IN_ADDRESS: settings.signin_limit_address,
            identity.SIGN_IN_ACCOUNT_ADDRESS: settings.signin_limit_account_address,
            identity.SIGN_IN_ACCOUNT: settings.signin_limit_account,
            courier.PICKUP_CODE: settings.pickup_code_limit,
        },
        remember_s={identity.KNOWN_ADDRESS: settings.signin_known_address_days * 86_400},
    )


def make_offering(settings: Settings, services: Services) -> SlotOffering:
    """The slot-offering policy the settings name."""
    if settings.slot_offering == "fixed":
        return FixedCapacityOffering()
    incentives = None
    if settings.slot_offering == "planned_incentive":
        incentives = IncentiveRules(
            settings.incentive_coupon_fen,
            settings.incentive_cheap_pct,
            settings.incentive_min_saving_s,
            coupon_per_min_fen=settings.incentive_coupon_per_min_fen,
            likely_saving_s=settings.incentive_likely_saving_s,
            reserve_s=settings.incentive_reserve_s,
            wanted_saving_s=settings.incentive_wanted_saving_s,
            wanted_shown=settings.incentive_wanted_shown,
            near_pct=settings.incentive_near_pct,
            show_within_s=settings.incentive_show_within_s,
        )
    # The forecast is read only when the rules price against it (``future_pct``), aim
    # coupons at the likely first choice (``likely_saving_s``) or keep room for it
    # (``reserve_s``).
    return PlannedOffering(services.travel, incentives, services.route_cache, HistoryForecast())


def seed_demo(app: App, now: datetime | None = None) -> dict[str, int]:
    """Load the demo dataset (idempotent: upserts); returns how many of each were loaded.

    Refused in production: the demo accounts have published passwords.
    """
    from doorstep.adapters.demo import demo_dataset
    from doorstep.services import catalog, exchanges, policies, self_send

    if app.settings.env == "production":
        raise DemoRefused(
            "demo data (accounts with published passwords) is never loaded in production"
        )

    svc = app.services
    data = demo_dataset(now or svc.clock.now())
    policies.ensure_policy(svc)
    for template in data.templates:
        catalog.upsert_template(svc, template)
    catalog.upsert_fleet(svc, data.carriers, data.couriers)
    for area in data.areas:
        catalog.upsert_area(svc, area)
    catalog.import_products(svc, data.products, None)
    catalog.upsert_buyers(svc, data.buyers)
    catalog.import_orders(svc, data.orders, None)
    self_send.upsert_places(svc, data.stations, data.warehouses)
    exchanges.upsert_stock(svc, data.stock)
    for user in data.users:
        identity.add_user(
            svc, f"U-{user.username}", user.username, user.password, user.role.value, user.actor_id
        )
    return {
        "areas": len(data.areas),
        "products": len(data.products),
        "orders": len(data.orders),
        "buyers": len(data.buyers),
        "couriers": len(data.couriers),
        "users": len(data.users),
    }
