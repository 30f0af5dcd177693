"""returns.refund_owed_since: overdue refunds read by an index

Revision ID: a41d0e6c2b93
Revises: 3c5e9a1f7b20
Create Date: 2026-12-02 12:35:00
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import doorstep.adapters.db.tables

revision = "a41d0e6c2b93"
down_revision = "3c5e9a1f7b20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refund_owed_since",
                doorstep.adapters.db.tables.AwareDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            "ix_returns_refund_owed", ["refund_owed_since", "return_id"], unique=False
        )
    # Returns already received and still owing (as ``refund_timing.owed``): their receipt time.
    returns = sa.table(
        "returns",
        sa.column("return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("refund_owed_since", doorstep.adapters.db.tables.AwareDateTime(timezone=True)),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(returns.c.return_id, returns.c.doc).where(
            returns.c.status.in_(("received", "inspected"))
        )
    ).all()
    for return_id, doc in rows:
        body = doc if isinstance(doc, dict) else json.loads(doc)
        if body.get("kind") == "exchange" or not body.get("received_at"):
            continue
        conn.execute(
            sa.update(returns)
            .where(returns.c.return_id == return_id)
            .values(refund_owed_since=datetime.fromisoformat(body["received_at"]))
        )


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_refund_owed")
        batch_op.drop_column("refund_owed_since")
