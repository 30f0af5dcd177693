"""stations.operator_id: staff of one operator work at all of its stations

Revision ID: 3c5e9a1f7b20
Revises: 67cd0729e8c8
Create Date: 2026-12-02 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3c5e9a1f7b20"
down_revision = "67cd0729e8c8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operator_id", sa.String(length=64), nullable=True))
    # Every station stored so far ran on its own: it is its own operator (domain/places.py),
    # which keeps each existing staff account (actor_id = the station's id) where it was.
    op.execute("UPDATE stations SET operator_id = station_id")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.alter_column("operator_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_stations_operator_id"), ["operator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stations_operator_id"))
        batch_op.drop_column("operator_id")
