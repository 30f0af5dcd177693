"""orders.signed_at, orders.adcode; returns.created_at, slot_capacity.day indexes: the
return wave's reads

Revision ID: d41a7e9c2b63
Revises: c8e2a5d41f07
Create Date: 2026-12-03 22:40:00

The ops outlook forecasts a coming day's pickups from the orders already signed for
(domain/return_wave.py): it counts signings per district and Shanghai day, and the returns of
those orders by their lag, in grouped reads. The signing moment and the shipping district
were only in the order's document; they become columns, filled from the documents on
upgrade (one pass over the orders), with an index on (signed_at, adcode). Requests opened and
bookings counted over recent days are read by new indexes on returns.created_at and
slot_capacity.day. Downgrading drops them; the documents are untouched.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import doorstep.adapters.db.tables

revision = "d41a7e9c2b63"
down_revision = "c8e2a5d41f07"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    moment = doorstep.adapters.db.tables.AwareDateTime(timezone=True)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_at", moment, nullable=True))
        batch_op.add_column(sa.Column("adcode", sa.String(length=6), nullable=True))
        batch_op.create_index("ix_orders_signed_at", ["signed_at", "adcode"], unique=False)
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index("ix_returns_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("slot_capacity", schema=None) as batch_op:
        batch_op.create_index("ix_slot_capacity_day", ["day"], unique=False)
    orders = sa.table(
        "orders",
        sa.column("order_id", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("signed_at", moment),
        sa.column("adcode", sa.String),
    )
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(orders.c.order_id, orders.c.doc)
            .where(orders.c.order_id > after)
            .order_by(orders.c.order_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = []
        for order_id, doc in rows:
            doc = _json(doc)
            signed = doc.get("signed_at")
            values.append(
                {
                    "b_id": order_id,
                    "b_signed": datetime.fromisoformat(signed) if signed else None,
                    "b_adcode": (doc.get("shipping_address") or {}).get("adcode"),
                }
            )
        # One statement per batch, executed for each of its orders.
        conn.execute(
            sa.update(orders)
            .where(orders.c.order_id == sa.bindparam("b_id"))
            .values(signed_at=sa.bindparam("b_signed"), adcode=sa.bindparam("b_adcode")),
            values,
        )
        after = rows[-1].order_id


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def downgrade() -> None:
    with op.batch_alter_table("slot_capacity", schema=None) as batch_op:
        batch_op.drop_index("ix_slot_capacity_day")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_created_at")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_signed_at")
        batch_op.drop_column("adcode")
        batch_op.drop_column("signed_at")
