"""returns.appointment_id: the return wave's booking lead

Revision ID: a3c6e8f1d259
Revises: e5b7c3a9d142
Create Date: 2026-12-03 23:00:00

A request opened on one day books a pickup window on that day or a later one; the ops outlook
learns how many days later (domain/return_wave.py, the booking lead) by joining each request to
the day of the appointment it is booked on. The appointment was named only in the return's
document; it becomes an indexed column, filled from the documents on upgrade (one statement
per batch of 1,000 returns). Downgrading drops it; the documents are untouched.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "a3c6e8f1d259"
down_revision = "e5b7c3a9d142"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appointment_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_returns_appointment_id", ["appointment_id"], unique=False)
    returns = sa.table(
        "returns",
        sa.column("return_id", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("appointment_id", sa.String),
    )
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(returns.c.return_id, returns.c.doc)
            .where(returns.c.return_id > after)
            .order_by(returns.c.return_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"b_id": return_id, "b_appt": _json(doc).get("appointment_id")}
            for return_id, doc in rows
        ]
        # Returns never booked keep NULL: only the others are written.
        booked = [v for v in values if v["b_appt"]]
        if booked:
            conn.execute(
                sa.update(returns)
                .where(returns.c.return_id == sa.bindparam("b_id"))
                .values(appointment_id=sa.bindparam("b_appt")),
                booked,
            )
        after = rows[-1].return_id


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_appointment_id")
        batch_op.drop_column("appointment_id")
