"""Settings from the environment (DOORSTEP_*); the only place that reads it besides bootstrap."""

from __future__ import annotations

import hmac
from typing import Literal

from limits import parse_many
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
# The sandbox courier company's development credentials (serve --demo starts it with these).
SANDBOX_CARRIER_ID = "sbx"
SANDBOX_DEV_API_KEY = "sandbox-dev-api-key-0123456789abcdef"
SANDBOX_DEV_CALLBACK_SECRET = "sandbox-dev-callback-secret-0123456789abcdef"


class CarrierGateway(BaseModel):
    """One courier company's API: where it is, our key there, and its callback secret."""

    url: str = Field(pattern=r"^https?://[^\s]{1,200}$")
    api_key: str = Field(min_length=1, max_length=200)
    callback_secret: str = Field(min_length=1, max_length=200)


class MerchantWebhook(BaseModel):
    """One merchant's (shop's) webhook endpoint and the secret its events are signed with."""

    url: str = Field(pattern=r"^https?://[^\s]{1,2000}$")
    secret: str = Field(min_length=16, max_length=256)


# Settings whose only values are stand-ins shipped with doorstep (see ``payments``).
STAND_INS = ("payments", "customs_broker_mode", "notifications")


class Settings(BaseSettings):
    """Runtime settings; secrets must be real outside development."""

    model_config = SettingsConfigDict(env_prefix="DOORSTEP_", extra="ignore")

    # Production unless development is asked for: a forgotten variable must not leave a server
    # signing tokens with the public development secret or loading demo accounts.
    env: Literal["development", "test", "production"] = "production"
    database_url: str = "sqlite:///var/doorstep.db"
    # PostgreSQL connections kept open per process (serve --workers N opens N times these);
    # the sum over every process must stay below the server's max_connections (100 by
    # default, 3 reserved). Overflow connections are closed on return: churn under load.
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(0, ge=0, le=200)
    db_pool_timeout_s: float = Field(30.0, gt=0, le=600)
    db_connect_timeout_s: int = Field(5, ge=1, le=120)
    # PostgreSQL's lock_timeout on the app's connections: a wait beyond it is a 409.
    db_lock_timeout_s: int = Field(60, ge=1, le=3600)
    host: str = "127.0.0.1"
    # None: human-readable logs in development, one JSON object a line elsewhere.
    log_format: Literal["console", "json"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str = DEV_SECRET
    # Signs the verification URL in the pickup receipt's QR code (issue 8 §7). Unset, a key
    # derived from secret_key is used; set it to rotate session keys without voiding the
    # receipts already printed.
    receipt_secret: str | None = None
    # How long the buyer has to confirm or dispute a contactless pickup; silence confirms.
    contactless_confirm_hours: int = Field(24, ge=1, le=24 * 14)
    token_ttl_seconds: int = Field(8 * 3600, ge=60, le=7 * 24 * 3600)
    # Years a departed buyer's records keep their personal information after the last
    # completed transaction (domain/retention.py): E-Commerce Law art. 31 asks at least 3.
    retention_years: int = Field(3, ge=3, le=30)
    express_refund_min_trust: int = Field(700, ge=0, le=1000)
    express_refund_max_fen: int = Field(300_000, ge=0)
    # Refund-only (仅退款) is paid without a review only up to this amount, to trusted buyers.
    refund_only_instant_max_fen: int = Field(5_000, ge=0, le=1_000_000)
    refund_only_min_trust: int = Field(700, ge=0, le=1000)
    refund_only_lost_after_days: int = Field(15, ge=1, le=120)
    booking_horizon_days: int = Field(3, ge=1, le=14)
    booking_close_before_end_minutes: int = Field(120, ge=0, le=24 * 60)
    booking_same_day_until: str = Field("17:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # Seconds of driving a booking counts against giving its visit to a courier with nothing
    # else that day (BookingRules.call_out_s; 0: the cheapest drive wins). Off: at 3600 the
    # incentive offering prices an idle courier's windows as dear and hides them: 7.6 points
    # more buyers than fixed capacity went unserved on held-out seeds (docs/benchmarks.md,
    # session 20).
    booking_call_out_s: int = Field(0, ge=0, le=36_000)
    max_upload_bytes: int = Field(8_000_000, ge=1_000, le=50_000_000)
    # Photos decoded at once per process (each takes ~1 s of a core and up to ~200 MB).
    image_workers: int = Field(2, ge=1, le=32)
    warehouse_id: str = "wh-sh-bonded"
    # None: Secure session cookies over https and in production; set to force either way
    # (e.g. true behind a TLS-terminating proxy that forwards plain http).
    secure_cookies: bool | None = None
    # fixed: a count per window (what couriers do today); planned: only windows the routes can
    # still absorb, cheapest first; planned_incentive: planned plus coupons on green windows.
    slot_offering: Literal["fixed", "planned", "planned_incentive"] = "planned_incentive"
    incentive_coupon_fen: int = Field(300, ge=0, le=100_000)
    incentive_cheap_pct: int = Field(100, ge=0, le=100)
    incentive_min_saving_s: int = Field(0, ge=0, le=7200)
    # 0: every coupon is incentive_coupon_fen; else fen per minute of driving a green window
    # saves against the median one, in ¥0.50 steps, at most incentive_coupon_fen
    # (IncentiveRules.coupon_per_min_fen; measured in docs/benchmarks.md, "Session 10").
    incentive_coupon_per_min_fen: int = Field(0, ge=0, le=10_000)
    # 0: off; else a green window keeps its coupon only where the buyers it pulls off their
    # likely first choice (the same area, weekday and window of past weeks) save that many
    # seconds of driving each on average (IncentiveRules.likely_saving_s; "Session 12").
    incentive_likely_saving_s: int = Field(0, ge=0, le=7200)
    # 0: off; else a window whose room (remaining capacity, routes that can still take a
    # pickup in it) is at or below the bookings the forecast still expects for it carries no
    # coupon and is ranked as if it cost that many seconds more per expected booking beyond
    # its room (IncentiveRules.reserve_s; docs/benchmarks.md, "Session 13").
    incentive_reserve_s: int = Field(0, ge=0, le=7200)
    # 0: off; else, when the buyer says when suits them, the routable window nearest that
    # moment is never hidden and coupons sit only where a move off it saves at least that
    # many seconds of driving (IncentiveRules.wanted_saving_s; "Session 14").
    incentive_wanted_saving_s: int = Field(0, ge=0, le=7200)
    # 1: the stated first choice is never hidden (with incentive_wanted_saving_s); 0: the
    # hiding rules apply to it too (IncentiveRules.wanted_shown).
    incentive_wanted_shown: int = Field(1, ge=0, le=1)
    # The hiding rule (IncentiveRules.near_pct, show_within_s): a window whose insertion
    # costs more than near_pct % of the median window's is not shown (0: nothing hidden),
    # unless it adds at most show_within_s of driving. 130 / 1800 saved 8.6-8.7 % km on two
    # held-out seed sets at route capacity 20 but was not the declared search's pick
    # (docs/benchmarks.md, "Session 16: hiding more once the routes set the capacity").
    incentive_near_pct: int = Field(150, ge=0, le=10_000)
    incentive_show_within_s: int = Field(2400, ge=0, le=7200)
    # peak: every route leg priced at the evening peak; timed (the default since session 20,
    # which keeps plan_duration_weight's packed days inside their windows): each leg at the
    # slowest hour it can be driven in (planning.timed), in the day plan and the booking path.
    travel_pricing: Literal["peak", "timed"] = "timed"
    # Timed pricing only. Legs off the slowest hours are priced travel_leg_margin times their
    # bucket, plus travel_leg_reserve_s for every leg into a window;
    # and the chain reserve: a promise must hold at travel_chain_z standard deviations of
    # the delay gathered along back-to-back legs (relative sd travel_leg_sd of a drive,
    # travel_door_sd of a door's time; measure them from couriers' scans). 0 turns it off.
    # Margin 1.2, reserve 120 s, z 2.33 are session 4's values: they kept every pickup inside
    # its window on the simulator's seeds 101-120. Session 5's pick on tuning seeds 1-3
    # (1.0 / 0 / 1.64; those seeds never bind the chain) left one visit late on seeds 106 and
    # 118 (docs/benchmarks.md, "Issue 11 §3-4"). sd's are the simulator's noise.
    travel_leg_margin: float = Field(1.2, ge=1, le=3)
    travel_leg_reserve_s: int = Field(120, ge=0, le=3600)
    # How long before a window opens a leg into it may start (timed pricing): a leg is priced
    # at the slowest bucket from this long before the window to its close. 0 prices every
    # leg at the day's slowest bucket, as peak pricing does, keeping the chain reserve
    # (travel_chain_z): peak pricing with the chain check (docs/benchmarks.md, session 11).
    travel_leg_lead_s: int = Field(3600, ge=0, le=4 * 3600)
    travel_leg_sd: float = Field(0.25, ge=0, le=1)
    travel_door_sd: float = Field(0.2, ge=0, le=1)
    travel_chain_z: float = Field(2.33, ge=0, le=5)
    # Price a leg only at the hours it can really be driven in: before its window closes and
    # not before the window of the stop it leaves opens (planning.timed.DRIVEN_HOURS).
    travel_driven_hours: bool = False
    # The job queue (PostgreSQL only; ``doorstep worker``): workers write a heartbeat this
    # often, a worker silent for queue_stalled_after_s is taken for dead and its running job is
    # queued again; finished jobs are kept queue_keep_hours for inspection; a stopping worker
    # waits this long for its running job.
    queue_heartbeat_s: float = Field(10.0, gt=0, le=600)
    queue_stalled_after_s: float = Field(60.0, gt=0, le=86_400)
    queue_keep_hours: int = Field(72, ge=1, le=24 * 90)
    queue_shutdown_s: float = Field(120.0, gt=0, le=3600)
    # The background re-plan of one carrier-day searches this long, or this many iterations
    # when set (then a re-plan is reproducible whatever the machine's load: benchmarks).
    replan_time_limit_s: float = Field(1.0, gt=0, le=600)
    replan_max_iterations: int | None = Field(None, ge=1, le=10_000_000)
    # Cost units (metres) per second of a courier's paid day in the day plan: from the first
    # departure to the later of the return and the same-day booking cutoff (a courier who has
    # driven waits for same-day bookings). 0: distance only. 10 since session 20, with timed
    # pricing: +14-18 % pickups per courier-hour, every visit inside on held-out seeds
    # 301-320, km per pickup +10-12 %; with peak pricing it left 7 of 40 runs late
    # (docs/benchmarks.md, "Session 20").
    plan_duration_weight: int = Field(10, ge=0, le=1000)
    # The weight for the later days' plans (None: plan_duration_weight). Their routes are
    # tentative while buyers book onto them, and a packed paid day leaves a later booking no
    # room there; today's plan, the one driven, pays the courier's day either way.
    plan_duration_weight_ahead: int | None = Field(None, ge=0, le=1000)
    # Abuse limits (``limits`` notation, several separated by ";"). memory:// holds them in this
    # process only; with several API processes point them all at one redis://host:port/db, or
    # at database:// (table rate_limits of database_url; PostgreSQL only: on SQLite a wrong
    # pickup code is counted while the visit's transaction holds the one write lock).
    rate_limit_storage: str = Field(
        "memory://", pattern=r"^((memory|redis|rediss|redis\+unix)://|database://$)"
    )
    # Failed sign-ins from one client address, whatever the account.
    signin_limit_address: str = "30/minute;300/hour"
    # Sign-in attempts on one account from one address; a success clears it.
    signin_limit_account_address: str = "5/5minutes"
    # Sign-in attempts on one account from addresses it has not signed in from recently.
    signin_limit_account: str = "10/10minutes"
    # How long an address that signed in to an account stays exempt from the account limit, so
    # that attempts from elsewhere cannot lock the owner out.
    signin_known_address_days: int = Field(30, ge=0, le=365)
    # Pickup-code tries per appointment; past them the courier calls the buyer and waits.
    pickup_code_limit: str = "5/10minutes"
    # Argon2id hashes computed at once (each takes argon2_memory_kib), and sign-ins allowed to
    # wait for one; more than that are told to retry (503) instead of piling up threads.
    password_hash_concurrency: int = Field(2, ge=1, le=64)
    password_hash_queue: int = Field(8, ge=0, le=1000)
    # OWASP's first Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    argon2_memory_kib: int = Field(19_456, ge=8_192, le=262_144)
    argon2_time_cost: int = Field(2, ge=1, le=10)
    # The outbox (services/outbox.py). Merchant webhooks by shop id, as JSON:
    # {"shop-1": {"url": "https://...", "secret": "..."}}; events of their returns are posted
    # there, signed (domain/signature.py). Texts and e-mails to buyers go to the development
    # sink (stored, shown on the console) until a provider is wired; "off" sends none.
    merchant_webhooks: dict[str, MerchantWebhook] = Field(default_factory=dict)
    webhook_timeout_s: float = Field(5.0, gt=0, le=60)
    notifications: Literal["sink", "off"] = "sink"
    outbox_max_attempts: int = Field(8, ge=1, le=50)
    outbox_backoff_base_s: int = Field(30, ge=1, le=3600)
    outbox_backoff_cap_s: int = Field(3600, ge=1, le=7 * 24 * 3600)
    outbox_lease_s: int = Field(300, ge=10, le=3600)
    # Customs returns (issue 9 §7): how the local broker answers (accept, reject, timeout,
    # pending), how many days before a deadline ops are alerted, the annual cross-border limit.
    customs_broker_mode: Literal["accept", "reject", "timeout", "pending"] = "accept"
    # Where refunds, clawbacks, compensations and tax go back. doorstep ships one provider,
    # "local": a ledger that honours idempotency keys but moves no money (finance pays what
    # it records). Outside development and tests it must be named, as must the customs broker
    # and the notifications, so no deployment runs on a stand-in without saying so.
    payments: Literal["local"] = "local"
    customs_alert_days: int = Field(3, ge=0, le=30)
    customs_annual_quota_fen: int = Field(2_600_000, ge=0, le=100_000_000)

    # Courier companies whose own couriers serve areas (issue 8), as JSON, e.g.
    # {"sf": {"url": "https://...", "api_key": "...", "callback_secret": "..."}}.
    carrier_gateways: dict[str, CarrierGateway] = Field(default_factory=dict)
    # The address companies call back: {public_url}/carriers/{carrier_id}/callbacks.
    public_url: str = Field("http://127.0.0.1:8000", pattern=r"^https?://[^\s]{1,200}$")
    carrier_timeout_s: float = Field(5.0, gt=0, le=60)
    carrier_attempts: int = Field(3, ge=1, le=10)
    # Open company orders not heard of for this long are polled by the worker.
    carrier_quiet_minutes: int = Field(15, ge=1, le=24 * 60)

    @field_validator(
        "signin_limit_address",
        "signin_limit_account_address",
        "signin_limit_account",
        "pickup_code_limit",
    )
    @classmethod
    def _parse_limit(cls, value: str) -> str:
        parse_many(value)  # raises ValueError with the library's message
        return value

    @property
    def receipt_key(self) -> bytes:
        """The receipt's HMAC key: the configured secret, or one derived from secret_key
        (a key of its own, so a receipt signature never doubles as a session token's)."""
        if self.receipt_secret is not None:
            return self.receipt_secret.encode()
        return hmac.new(self.secret_key.encode(), b"doorstep receipt key", "sha256").digest()

    @property
    def uses_dev_secret(self) -> bool:
        """Tokens are signed with the public development secret (development only)."""
        return self.secret_key == DEV_SECRET

    @model_validator(mode="after")
    def _reserve_within_lead(self) -> Settings:
        if self.travel_leg_reserve_s > self.travel_leg_lead_s:
            raise ValueError(
                "DOORSTEP_TRAVEL_LEG_RESERVE_S must not exceed DOORSTEP_TRAVEL_LEG_LEAD_S "
                "(the reserve is part of the lead before a window)"
            )
        return self

    @model_validator(mode="after")
    def _limits_in_postgresql_only(self) -> Settings:
        if self.rate_limit_storage == "database://" and not self.database_url.startswith(
            "postgresql"
        ):
            raise ValueError(
                "DOORSTEP_RATE_LIMIT_STORAGE=database:// needs a PostgreSQL DOORSTEP_DATABASE_URL "
                "(on SQLite use memory:// with one worker, or redis://)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env != "development" and (
            self.secret_key == DEV_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "DOORSTEP_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (DOORSTEP_ENV=development for a local demo)"
            )
        if self.env != "development":
            weak = [shop for shop, hook in self.merchant_webhooks.items() if len(hook.secret) < 32]
            if weak:
                raise ValueError(
                    "merchant webhook secrets must have at least 32 characters outside "
                    f"development: {', '.join(sorted(weak))}"
                )
        if (
            self.env != "development"
            and self.receipt_secret is not None
            and (len(self.receipt_secret) < 32 or len(set(self.receipt_secret)) < 10)
        ):
            # Anyone who knows the key can print genuine-looking receipts.
            raise ValueError(
                "DOORSTEP_RECEIPT_SECRET must be a random value of at least 32 characters "
                "outside development (DOORSTEP_ENV=development for a local demo)"
            )
        if self.outbox_backoff_cap_s < self.outbox_backoff_base_s:
            raise ValueError("DOORSTEP_OUTBOX_BACKOFF_CAP_S must not be below the base")
        if self.env != "development":
            for carrier_id, gateway in self.carrier_gateways.items():
                secret = gateway.callback_secret
                if len(secret) < 32 or secret == SANDBOX_DEV_CALLBACK_SECRET:
                    raise ValueError(
                        f"the callback secret of carrier {carrier_id} must be a random value "
                        "of at least 32 characters outside development"
                    )
        return self

    @model_validator(mode="after")
    def _refuse_silent_stand_ins(self) -> Settings:
        unnamed = [
            f"DOORSTEP_{name.upper()}"
            for name in STAND_INS
            if self.env == "production" and name not in self.model_fields_set
        ]
        if unnamed:
            raise ValueError(
                f"{', '.join(unnamed)} must be set in production: doorstep ships only local "
                "stand-ins for them (a payments ledger that moves no money, a customs broker "
                "that answers by itself, a notification sink shown on the console); name "
                "them to run on them knowingly (docs/deploy.md)"
            )
        return self
