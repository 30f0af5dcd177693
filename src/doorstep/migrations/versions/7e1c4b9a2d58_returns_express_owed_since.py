"""returns.express_owed_since: express refunds still to decide, read by an index

Revision ID: 7e1c4b9a2d58
Revises: 5f3b8d2a9c61
Create Date: 2026-12-03 06:40:00

An express refund starts after the pickup's commit; a process that died in between left a
trusted buyer's return picked up without it, and nothing looked for that. The return now
keeps ``express_due_since`` (in its document, set by the pickup) until the decision is made,
and this column (``ReturnRequest.express_owed_since``) lets the worker's sweep find the
undecided ones. Upgrading marks every refund that left the buyer, is not graded yet and has
no refund (picked up, in transit, received), since its first ``return.picked_up`` event:
the sweep decides each once (pays the trusted, records the rest as declined), which also
mends the returns earlier crashes and the 409 company callbacks of session 8 left unpaid.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

import doorstep.adapters.db.tables

revision = "7e1c4b9a2d58"
down_revision = "5f3b8d2a9c61"
branch_labels = None
depends_on = None

_STAGES = ("picked_up", "in_transit", "received")


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "express_owed_since",
                doorstep.adapters.db.tables.AwareDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            "ix_returns_express_owed", ["express_owed_since", "return_id"], unique=False
        )
    moment = doorstep.adapters.db.tables.AwareDateTime(timezone=True)
    returns = sa.table(
        "returns",
        sa.column("return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("express_owed_since", moment),
    )
    events = sa.table(
        "events",
        sa.column("aggregate_id", sa.String),
        sa.column("name", sa.String),
        sa.column("occurred_at", moment),
    )
    refunds = sa.table("refunds", sa.column("return_id", sa.String))
    conn = op.get_bind()
    picked_up = (
        sa.select(events.c.aggregate_id, sa.func.min(events.c.occurred_at).label("at"))
        .where(events.c.name == "return.picked_up")
        .group_by(events.c.aggregate_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(returns.c.return_id, returns.c.doc, picked_up.c.at)
        .join(picked_up, picked_up.c.aggregate_id == returns.c.return_id)
        .where(
            returns.c.status.in_(_STAGES),
            ~sa.select(refunds.c.return_id)
            .where(refunds.c.return_id == returns.c.return_id)
            .exists(),
        )
    ).all()
    for return_id, raw, at in rows:
        doc: dict[str, Any] = dict(raw if isinstance(raw, dict) else json.loads(raw))
        if doc.get("kind") != "refund" or doc.get("refund_id"):
            continue
        when = moment.process_result_value(at, conn.dialect)
        assert when is not None
        doc["express_due_since"] = when.isoformat()
        conn.execute(
            sa.update(returns)
            .where(returns.c.return_id == return_id)
            .values(doc=doc, express_owed_since=when)
        )


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_express_owed")
        batch_op.drop_column("express_owed_since")
