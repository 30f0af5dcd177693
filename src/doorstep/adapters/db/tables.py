"""The schema: one JSON document per aggregate plus the columns that queries filter on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)


class AwareDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _doc_table(name: str, key: str, *columns: Column[Any] | Index, **kw: Any) -> Table:
    return Table(
        name,
        metadata,
        Column(key, String(64), primary_key=True),
        *columns,
        Column("doc", JSON, nullable=False),
        **kw,
    )


products = _doc_table("products", "sku", Column("shop_id", String(64), nullable=False, index=True))
buyers = _doc_table(
    "buyers",
    "buyer_id",
    # Retention (domain/retention.py): when the sweep is next to weigh a departed buyer
    # (NULL for buyers with an account and once erased), and when the record was erased.
    Column("erase_due", AwareDateTime, nullable=True),
    Column("erased_at", AwareDateTime, nullable=True),
    Index("ix_buyers_erase_due", "erase_due", "buyer_id"),
)
orders = _doc_table(
    "orders",
    "order_id",
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("shop_id", String(64), nullable=False, index=True),
    # When the buyer signed for the parcel and the district it went to: the return wave
    # (domain/return_wave.py) counts signings per district and day by this index.
    Column("signed_at", AwareDateTime, nullable=True),
    Column("adcode", String(6), nullable=True),
    Index("ix_orders_signed_at", "signed_at", "adcode"),
)
service_areas = _doc_table("service_areas", "adcode")
slot_templates = _doc_table("slot_templates", "template_id")
carriers = _doc_table("carriers", "carrier_id")
couriers = _doc_table("couriers", "courier_id", Column("carrier_id", String(64), nullable=False))

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("doc", JSON, nullable=False),
)

returns = _doc_table(
    "returns",
    "return_id",
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("updated_at", AwareDateTime, nullable=False),
    # The warehouse receives a parcel by scanning its waybill (several returns may share one).
    Column("waybill_no", String(32), nullable=True, index=True),
    # A station takes the parcel by its drop-off code: unique, so a code names one return.
    Column("dropoff_code", String(8), nullable=True, index=True, unique=True),
    # When the parcel of a return that still owes a standard refund was received (NULL once
    # paid, for exchanges, and before receipt): overdue refunds are read by this index.
    Column("refund_owed_since", AwareDateTime, nullable=True),
    Index("ix_returns_refund_owed", "refund_owed_since", "return_id"),
    # Since when a refund that left the buyer waits for its express refund to be decided
    # (NULL once decided, started or graded): the worker's sweep reads this index.
    Column("express_owed_since", AwareDateTime, nullable=True),
    Index("ix_returns_express_owed", "express_owed_since", "return_id"),
    # Requests opened over recent days (the return wave's pickup share) are read by this.
    Index("ix_returns_created_at", "created_at"),
    # The pickup it is booked on (the document's; NULL before booking, once released or
    # cancelled): the return wave's booking lead joins a request to its window's day by it.
    Column("appointment_id", String(64), nullable=True),
    Index("ix_returns_appointment_id", "appointment_id"),
)

appointments = _doc_table(
    "appointments",
    "appointment_id",
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("courier_id", String(64), nullable=True, index=True),
    Column("adcode", String(6), nullable=False),
    Column("carrier_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("status", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    # A contactless pickup's review (issue 8 §8): the silence sweep and the ops queue.
    Column("review_status", String(16), nullable=True),
    Column("review_due_at", AwareDateTime, nullable=True),
    Index("ix_appointments_area_day", "adcode", "day"),
    Index("ix_appointments_carrier_day", "carrier_id", "day"),
    Index("ix_appointments_review", "review_status", "review_due_at"),
)

# A courier's day-route: what booking locks and offering reads (domain/route.py). The stops
# live in ``doc`` as columns of numbers (adapters/db/routes.py) so a long route decodes fast.
routes = Table(
    "routes",
    metadata,
    Column("route_id", String(80), primary_key=True),
    Column("courier_id", String(64), nullable=False),
    Column("carrier_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
    Index("ix_routes_carrier_day", "carrier_id", "day"),
)

slot_capacity = Table(
    "slot_capacity",
    metadata,
    Column("adcode", String(6), primary_key=True),
    Column("carrier_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("start", String(5), primary_key=True),
    Column("capacity", Integer, nullable=False),
    Column("booked", Integer, nullable=False, default=0),
    # The return wave reads the bookings of the last four weeks by day (services/outlook.py);
    # the key starts with the district.
    Index("ix_slot_capacity_day", "day"),
    # Windows holding more visits than their capacity (an edit lowered it below them): few,
    # so a partial index lists them soonest first at any number of counters.
    Index(
        "ix_slot_capacity_over",
        "day",
        "start",
        "adcode",
        "carrier_id",
        postgresql_where=text("booked > capacity"),
        sqlite_where=text("booked > capacity"),
    ),
)

events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("aggregate_type", String(32), nullable=False),
    Column("aggregate_id", String(64), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("occurred_at", AwareDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("published_at", AwareDateTime, nullable=True),
    # The outbox dispatcher looks for events not fanned out yet (published_at IS NULL).
    Index("ix_events_published_at", "published_at"),
)
# The retention sweep finds a departed buyer's account events by the buyer their accounts
# acted as (the account rows are gone by then, and ``aggregate_id`` is the account): without
# this, each erasing pass read every account event ever written.
Index(
    "ix_events_user_actor",
    events.c.data["actor_id"].as_string(),
    postgresql_where=events.c.aggregate_type == "user",
    sqlite_where=events.c.aggregate_type == "user",
)

# The console's day-by-day counts (domain/figures.py), added to in the transaction that stores
# the events they come from: a chart reads days x keys rows, not every return.
daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("figure", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    # Spread over a few rows per count, so returns filed at once do not queue on one row lock.
    Column("shard", SmallInteger, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

# Refund waits (domain/refund_lead_time.py): one more per refund paid, added in the transaction
# that settles it, so lead times read days x waits rows, not every refund paid.
refund_waits = Table(
    "refund_waits",
    metadata,
    Column("day", Date, primary_key=True),  # Shanghai day the money went back
    Column("kind", String(16), primary_key=True),  # express or standard
    Column("measure", String(8), primary_key=True),  # request or pickup → money
    Column("bucket", Integer, primary_key=True),  # the wait in tenths of an hour
    # Spread over a few rows per count, like daily_counts, so refunds paid at once with the
    # same wait do not queue on one row lock.
    Column("shard", SmallInteger, primary_key=True),
    Column("n", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("session_generation", Integer, nullable=False, default=0, server_default="0"),
)

# Tokens signed out before they expire; rows past expires_at are pruned on later sign-outs.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("expires_at", AwareDateTime, nullable=False, index=True),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", String(64), primary_key=True),
    Column("return_id", String(64), nullable=False, index=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("doc", JSON, nullable=False),
    # When the money went back: the dashboard's lead times read refunds paid in a period.
    Column("settled_at", AwareDateTime, nullable=True, index=True),
)

photos = Table(
    "photos",
    metadata,
    Column("photo_id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("media_type", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

disruptions = _doc_table(
    "disruptions",
    "disruption_id",
    Column("starts_at", AwareDateTime, nullable=False),
    Column("ends_at", AwareDateTime, nullable=False, index=True),
    Column("active", Boolean, nullable=False),
)

# Money moved to or from a buyer besides a refund (domain/transfer.py): exchange differences,
# customs tax, clawbacks and claim compensations, one row per idempotency key.
transfers = Table(
    "transfers",
    metadata,
    Column("transfer_id", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False, index=True),
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", AwareDateTime, nullable=False),
    Column("doc", JSON, nullable=False),
)

disputes = _doc_table(
    "disputes",
    "dispute_id",
    Column("return_id", String(64), nullable=False, unique=True),
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("respond_by", AwareDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

claims = _doc_table(
    "claims",
    "claim_id",
    Column("kind", String(32), nullable=False),
    Column("order_id", String(64), nullable=False, index=True),
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("answer_by", AwareDateTime, nullable=True),
    Column("filed_at", AwareDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# What each courier company (or the own fleet) is charged for claims; one entry per claim.
carrier_ledger = Table(
    "carrier_ledger",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    Column("carrier_id", String(64), nullable=False, index=True),
    Column("claim_id", String(64), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("note", String(200), nullable=False),
    # Transit damage above what the carrier owed (its cap, or the value declared to it):
    # doorstep's own loss, beside the charge, never part of it.
    Column("uninsured_fen", BigInteger, nullable=False, server_default="0"),
)

# The outbox (services/outbox.py): one row per event and receiver with its delivery state.
# ``order_key`` groups what must arrive in order (a buyer's events: every return's events are
# among them); ``lease_*`` mark a row a dispatcher is sending right now.
deliveries = Table(
    "deliveries",
    metadata,
    Column("event_seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("receiver", String(80), nullable=False),
    Column("order_key", String(64), nullable=False),
    Column("event_name", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", AwareDateTime, nullable=False),
    Column("lease_until", AwareDateTime, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("last_error", String(500), nullable=False),
    Column("created_at", AwareDateTime, nullable=False),
    Column("delivered_at", AwareDateTime, nullable=True),
    Column("payload", JSON, nullable=False),
    PrimaryKeyConstraint("event_seq", "receiver"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_order", "receiver", "order_key", "event_seq"),
)

# What the development sink "sent" (adapters/notify/sink.py): the ops console lists it.
sent_messages = Table(
    "sent_messages",
    metadata,
    Column("message_id", String(100), primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", AwareDateTime, nullable=False, index=True),
)

# --- exchanges, customs returns, drop-off and self-ship (issue 9 §6-8) ------------------------

# Stock the shop can send as replacements; the check holds what every reservation relies on.
stock = Table(
    "stock",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("family", String(64), nullable=False, index=True),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, default=0),
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_stock_reserved"),
)

exchanges = _doc_table(
    "exchanges",
    "return_id",
    Column("buyer_id", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("version", Integer, nullable=False),
)

customs_returns = _doc_table(
    "customs_returns",
    "customs_return_id",
    Column("declaration_no", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("next_due", AwareDateTime, nullable=True, index=True),
    Column("version", Integer, nullable=False),
    # A settled declaration's day 45 while returns it left out are still on their way (NULL
    # once none is): the customs sweep reads this index for those that never came.
    Column("awaited_by", AwareDateTime, nullable=True),
    Index("ix_customs_returns_awaited", "awaited_by", "customs_return_id"),
)

# Which declaration a return's lines are on (a return is declared once).
customs_links = Table(
    "customs_links",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("customs_return_id", String(64), nullable=False, index=True),
)

# What settled customs returns gave back of a buyer's cross-border annual total (财关税
# 〔2018〕49号); the used total is always the year's orders less this (services/customs.py).
customs_quota = Table(
    "customs_quota",
    metadata,
    Column("buyer_id", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("restored_fen", BigInteger, nullable=False),
    CheckConstraint("restored_fen >= 0", name="ck_customs_quota_restored"),
)

stations = _doc_table(
    "stations",
    "station_id",
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    # Staff of an operator work at all of its stations (domain/places.Station).
    Column("operator_id", String(64), nullable=False, index=True),
    Index("ix_stations_lat_lon", "lat", "lon"),
)
return_warehouses = _doc_table(
    "return_warehouses", "warehouse_id", Column("bonded", Boolean, nullable=False)
)

# Pickup orders at courier companies (domain/carrier_order.py): the worker finds the ones with
# something to send (next_send_at) and the ones whose callbacks went quiet (status, heard_at).
pickup_orders = Table(
    "pickup_orders",
    metadata,
    Column("out_order_no", String(80), primary_key=True),
    Column("carrier_id", String(64), nullable=False),
    Column("appointment_id", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False, index=True),
    Column("next_send_at", AwareDateTime, nullable=True, index=True),
    Column("last_heard_at", AwareDateTime, nullable=True),
    Column("waybill_no", String(32), nullable=True, index=True),
    # A cancel the company refused: its order there is still live, so the worker polls it.
    Column("cancel_refused", Boolean, nullable=False, server_default=false(), index=True),
    # Since when returns a pickup that overtook our cancel left behind wait for ops (NULL:
    # nothing waits): the ops list reads these in this order.
    Column("awaits_ops_since", AwareDateTime, nullable=True, index=True),
    Column("version", Integer, nullable=False),
    Column("doc", JSON, nullable=False),
)

# Company events already taken, by the company's own event id: a duplicate callback finds its
# row and is acknowledged without being applied twice (the primary key decides under races).
carrier_inbox = Table(
    "carrier_inbox",
    metadata,
    Column("carrier_id", String(64), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("out_order_no", String(80), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("received_at", AwareDateTime, nullable=False),
)

# Every request to and answer from a courier company, and every callback, for support: bodies
# are stored with secrets and phone numbers masked (adapters/carriers/journal.py).
carrier_exchanges = Table(
    "carrier_exchanges",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("carrier_id", String(64), nullable=False),
    Column("out_order_no", String(80), nullable=True, index=True),
    Column("operation", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("at", AwareDateTime, nullable=False, index=True),
    Column("request", JSON, nullable=False),
    Column("response", JSON, nullable=True),
)

# Attempt limits kept in the database (adapters/auth/sql_limits.py, rate_limit_storage =
# database://): one row per limit key. Times are epoch seconds (floats) because they are the
# ``limits`` library's own clock (time.time()), compared only with each other.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(512), primary_key=True),
    # A moving window's hits, newest first, at most the limit's amount.
    Column("hits", JSON, nullable=False),
    # A plain counter (a remembered sign-in address).
    Column("counter", Integer, nullable=False),
    # After it the row counts nothing and may be purged.
    Column("expires_at", Float, nullable=False, index=True),
)
