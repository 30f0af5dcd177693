"""carrier_ledger.uninsured_fen: transit damage above what the courier company owed

Revision ID: b5e3c7a9d1f2
Revises: 8a2f6d3c1e94
Create Date: 2026-12-03 16:00:00

A courier company's pickup order now declares the parcel's value (保价) and the company is
charged for transit damage at most the part of it for the damaged return; the loss above
that is doorstep's, kept beside the charge so the settlement shows both. Entries written
before were charged the whole loss up to the flat cap, and what the cap held back was not
kept: they get 0. Downgrading drops the column; the claims' documents keep their fields,
which older code ignores.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b5e3c7a9d1f2"
down_revision = "8a2f6d3c1e94"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("uninsured_fen", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("carrier_ledger", schema=None) as batch_op:
        batch_op.drop_column("uninsured_fen")
