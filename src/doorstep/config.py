"""Settings from the environment (DOORSTEP_*); the only place that reads it besides bootstrap."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    """Runtime settings; secrets must be real outside development."""

    model_config = SettingsConfigDict(env_prefix="DOORSTEP_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/doorstep.db"
    # PostgreSQL connections kept open per process (serve --workers N opens N times these);
    # the sum over every process must stay below the server's max_connections (100 by
    # default, 3 reserved). Overflow connections are closed on return: churn under load.
    db_pool_size: int = Field(10, ge=1, le=200)
    db_max_overflow: int = Field(0, ge=0, le=200)
    db_pool_timeout_s: float = Field(30.0, gt=0, le=600)
    db_connect_timeout_s: int = Field(5, ge=1, le=120)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secret_key: str = _DEV_SECRET
    token_ttl_seconds: int = Field(8 * 3600, ge=60, le=7 * 24 * 3600)
    express_refund_min_trust: int = Field(700, ge=0, le=1000)
    express_refund_max_fen: int = Field(300_000, ge=0)
    # Refund-only (仅退款) is paid without a review only up to this amount, to trusted buyers.
    refund_only_instant_max_fen: int = Field(5_000, ge=0, le=1_000_000)
    refund_only_min_trust: int = Field(700, ge=0, le=1000)
    booking_horizon_days: int = Field(3, ge=1, le=14)
    booking_close_before_end_minutes: int = Field(120, ge=0, le=24 * 60)
    booking_same_day_until: str = Field("17:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    max_upload_bytes: int = Field(8_000_000, ge=1_000, le=50_000_000)
    warehouse_id: str = "wh-sh-bonded"
    # None: Secure session cookies over https and in production; set to force either way
    # (e.g. true behind a TLS-terminating proxy that forwards plain http).
    secure_cookies: bool | None = None
    # fixed: a count per window (what couriers do today); planned: only windows the routes can
    # still absorb, cheapest first; planned_incentive: planned plus coupons on green windows.
    slot_offering: Literal["fixed", "planned", "planned_incentive"] = "planned_incentive"
    incentive_coupon_fen: int = Field(300, ge=0, le=100_000)
    incentive_cheap_pct: int = Field(90, ge=0, le=100)
    incentive_min_saving_s: int = Field(0, ge=0, le=7200)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env != "development" and (
            self.secret_key == _DEV_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "DOORSTEP_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development"
            )
        return self
