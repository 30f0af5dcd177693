"""returns dropoff_code unique

Revision ID: c3d9a41f27e5
Revises: b660b0e77970
Create Date: 2026-12-02 04:20:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "c3d9a41f27e5"
down_revision = "b660b0e77970"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dropoff_code", sa.String(length=8), nullable=True))
    # Codes issued before this revision are in the documents; the first return holding a
    # code keeps it (a later duplicate could not be told apart at a station anyway, and its
    # buyer gets a fresh one by asking again).
    returns = sa.table(
        "returns",
        sa.column("return_id", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("dropoff_code", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(returns.c.return_id, returns.c.doc)).all()
    taken: set[str] = set()
    for return_id, doc in rows:
        body = doc if isinstance(doc, dict) else json.loads(doc)
        code = (body.get("dropoff") or {}).get("code")
        if code and code not in taken:
            taken.add(code)
            conn.execute(
                sa.update(returns).where(returns.c.return_id == return_id).values(dropoff_code=code)
            )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_dropoff_code"), ["dropoff_code"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_dropoff_code"))
        batch_op.drop_column("dropoff_code")
