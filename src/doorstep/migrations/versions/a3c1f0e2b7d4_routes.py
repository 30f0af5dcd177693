"""routes: one record per courier-day, the unit bookings serialise on

Revision ID: a3c1f0e2b7d4
Revises: d67486ba9735
Create Date: 2026-12-01 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a3c1f0e2b7d4"
down_revision = "d67486ba9735"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routes",
        sa.Column("route_id", sa.String(length=80), nullable=False),
        sa.Column("courier_id", sa.String(length=64), nullable=False),
        sa.Column("carrier_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("route_id", name=op.f("pk_routes")),
    )
    op.create_index("ix_routes_carrier_day", "routes", ["carrier_id", "day"], unique=False)
    op.create_index(
        "ix_appointments_carrier_day", "appointments", ["carrier_id", "day"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_carrier_day", table_name="appointments")
    op.drop_index("ix_routes_carrier_day", table_name="routes")
    op.drop_table("routes")
