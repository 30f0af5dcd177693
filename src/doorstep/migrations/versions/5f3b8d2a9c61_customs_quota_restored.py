"""customs_quota: keep what settled returns gave back, not a frozen used total

Revision ID: 5f3b8d2a9c61
Revises: b2e8c4f1a7d5
Create Date: 2026-12-02 23:10:00

The row used to hold the buyer's used total, seeded from the year's orders at the first
restore and lowered by each later one; orders placed after that were never counted again
(``customs.quota_of`` read the row). It now holds only what settled customs returns gave
back (``restored_fen``); the used total is always the year's cross-border orders less that.
Upgrading derives ``restored_fen`` from the settled declarations (their ``quota_restored_fen``,
in the Shanghai year their order was placed, where the order counted); downgrading writes the
old used total back as the orders less the restores, never below zero.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "5f3b8d2a9c61"
down_revision = "b2e8c4f1a7d5"
branch_labels = None
depends_on = None

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANNUAL_QUOTA_FEN = 2_600_000  # the setting's default, for rows written back on downgrade


def _doc(value: Any) -> dict[str, Any]:
    return dict(value if isinstance(value, dict) else json.loads(value))


def _year(text: str) -> int:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(SHANGHAI).year


def _orders(conn: sa.Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.text("SELECT order_id, doc FROM orders")).all()
    return {order_id: _doc(doc) for order_id, doc in rows}


def _restored(conn: sa.Connection, orders: dict[str, dict[str, Any]]) -> Counter[tuple[str, int]]:
    """What settled declarations gave back, per buyer and year of their order."""
    out: Counter[tuple[str, int]] = Counter()
    rows = conn.execute(sa.text("SELECT doc FROM customs_returns WHERE status = 'settled'")).all()
    for (raw,) in rows:
        doc = _doc(raw)
        order = orders.get(doc["order_id"])
        when = order["placed_at"] if order else doc["released_at"]
        if doc.get("quota_restored_fen"):
            out[(doc["buyer_id"], _year(when))] += int(doc["quota_restored_fen"])
    return out


def upgrade() -> None:
    conn = op.get_bind()
    restored = _restored(conn, _orders(conn))
    op.drop_table("customs_quota")
    table = op.create_table(
        "customs_quota",
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("restored_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("restored_fen >= 0", name="ck_customs_quota_restored"),
        sa.PrimaryKeyConstraint("buyer_id", "year", name=op.f("pk_customs_quota")),
    )
    if restored:
        op.bulk_insert(
            table,
            [
                {"buyer_id": buyer, "year": year, "restored_fen": amount}
                for (buyer, year), amount in sorted(restored.items())
            ],
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT buyer_id, year, restored_fen FROM customs_quota")).all()
    orders = _orders(conn)
    used: Counter[tuple[str, int]] = Counter()
    for doc in orders.values():
        if doc.get("channel") in ("bonded", "direct_mail"):
            paid = sum(int(ln["unit_price_fen"]) * int(ln["quantity"]) for ln in doc["lines"])
            used[(doc["buyer_id"], _year(doc["placed_at"]))] += paid
    op.drop_table("customs_quota")
    table = op.create_table(
        "customs_quota",
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("limit_fen", sa.BigInteger(), nullable=False),
        sa.Column("used_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("used_fen >= 0", name="ck_customs_quota_used"),
        sa.PrimaryKeyConstraint("buyer_id", "year", name=op.f("pk_customs_quota")),
    )
    if rows:
        op.bulk_insert(
            table,
            [
                {
                    "buyer_id": buyer,
                    "year": year,
                    "limit_fen": ANNUAL_QUOTA_FEN,
                    "used_fen": max(used[(buyer, year)] - restored, 0),
                }
                for buyer, year, restored in rows
            ],
        )
