"""buyers.erase_due, buyers.erased_at: departed buyers' records erased after retention

Revision ID: c8e2a5d41f07
Revises: b5e3c7a9d1f2
Create Date: 2026-12-03 19:05:00

A buyer whose last account was deleted keeps their records for the retention period after
their last transaction completed, then loses the personal fields (domain/retention.py). The
worker's sweep reads ``erase_due`` by its index; ``erased_at`` counts the erased for the ops
view. Upgrading marks the buyers whose last account was deleted before this revision (a
``user.deleted`` event of a buyer account, none left acting as that buyer) as departed at
that deletion, so the sweep weighs them too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import doorstep.adapters.db.tables

revision = "c8e2a5d41f07"
down_revision = "b5e3c7a9d1f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = doorstep.adapters.db.tables.AwareDateTime(timezone=True)
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erase_due", moment, nullable=True))
        batch_op.add_column(sa.Column("erased_at", moment, nullable=True))
        batch_op.create_index("ix_buyers_erase_due", ["erase_due", "buyer_id"], unique=False)
    buyers = sa.table(
        "buyers",
        sa.column("buyer_id", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("erase_due", moment),
    )
    events = sa.table(
        "events",
        sa.column("aggregate_type", sa.String),
        sa.column("name", sa.String),
        sa.column("occurred_at", moment),
        sa.column("data", sa.JSON),
    )
    users = sa.table("users", sa.column("role", sa.String), sa.column("actor_id", sa.String))
    conn = op.get_bind()
    left: dict[str, datetime] = {}
    deleted = sa.select(events.c.occurred_at, events.c.data).where(
        events.c.aggregate_type == "user", events.c.name == "user.deleted"
    )
    for at, data in conn.execute(deleted):
        data = _json(data)
        if data.get("role") == "buyer" and data.get("actor_id"):
            left[data["actor_id"]] = max(at, left.get(data["actor_id"], at))
    if not left:
        return
    still = {
        r.actor_id for r in conn.execute(sa.select(users.c.actor_id).where(users.c.role == "buyer"))
    }
    wanted = sorted(set(left) - still)
    rows = conn.execute(
        sa.select(buyers.c.buyer_id, buyers.c.doc).where(buyers.c.buyer_id.in_(wanted))
    ).all()
    for buyer_id, doc in rows:
        doc = dict(_json(doc))
        at = left[buyer_id].isoformat()
        doc["departed_at"] = doc["erase_due"] = at
        conn.execute(
            sa.update(buyers)
            .where(buyers.c.buyer_id == buyer_id)
            .values(doc=doc, erase_due=left[buyer_id])
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def downgrade() -> None:
    with op.batch_alter_table("buyers", schema=None) as batch_op:
        batch_op.drop_index("ix_buyers_erase_due")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("erase_due")
