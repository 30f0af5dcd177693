"""slot_capacity: a partial index on the windows holding more visits than their capacity

Revision ID: 6e2f0b9c4d17
Revises: a41d0e6c2b93
Create Date: 2026-12-02 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "6e2f0b9c4d17"
down_revision = "a41d0e6c2b93"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_slot_capacity_over",
        "slot_capacity",
        ["day", "start", "adcode", "carrier_id"],
        unique=False,
        postgresql_where=sa.text("booked > capacity"),
        sqlite_where=sa.text("booked > capacity"),
    )


def downgrade() -> None:
    op.drop_index("ix_slot_capacity_over", table_name="slot_capacity")
