"""customs_returns.awaited_by: settled declarations still waiting for goods, read by an index

Revision ID: 8a2f6d3c1e94
Revises: 7e1c4b9a2d58
Create Date: 2026-12-03 14:00:00

A settlement ops force before day 45 leaves out the returns still on their way; one that
never arrives kept the tax an express refund advanced for it (only a receipt took it back).
The declaration now names them (``CustomsReturn.awaited``) and this column holds its day 45
while it does, so the customs sweep finds those past it (``customs.take_back_unarrived``).
Upgrading names, for every settled declaration, its returns neither received nor gone: the
sweep looks at each once after day 45 and takes back only tax not taken back already (a
settlement after day 45 took it), so a declaration settled normally costs one pass.
Downgrading drops the column; the field left in documents is harmless to older code.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "8a2f6d3c1e94"
down_revision = "7e1c4b9a2d58"
branch_labels = None
depends_on = None

# Not on their way: gone (services/customs.py GONE) or arrived (ARRIVED).
_SETTLED_FOR = {
    "cancelled",
    "rejected",
    "received",
    "inspected",
    "refunded",
    "exchanged",
    "closed",
    "disputed",
}


def _doc(raw: Any) -> dict[str, Any]:
    return dict(raw if isinstance(raw, dict) else json.loads(raw))


def upgrade() -> None:
    with op.batch_alter_table("customs_returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaited_by", AwareDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_customs_returns_awaited", ["awaited_by", "customs_return_id"], unique=False
        )
    declarations = sa.table(
        "customs_returns",
        sa.column("customs_return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("doc", sa.JSON),
        sa.column("awaited_by", AwareDateTime(timezone=True)),
    )
    returns = sa.table(
        "returns",
        sa.column("return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("doc", sa.JSON),
    )
    links = sa.table(
        "customs_links",
        sa.column("return_id", sa.String),
        sa.column("customs_return_id", sa.String),
    )
    conn = op.get_bind()
    settled = conn.execute(
        sa.select(declarations.c.customs_return_id, declarations.c.doc).where(
            declarations.c.status == "settled"
        )
    ).all()
    for customs_return_id, raw in settled:
        doc = _doc(raw)
        rows = conn.execute(
            sa.select(returns.c.return_id, returns.c.status, returns.c.doc)
            .join(links, links.c.return_id == returns.c.return_id)
            .where(links.c.customs_return_id == customs_return_id)
        ).all()
        awaited = sorted(
            rid
            for rid, status, r in rows
            if status not in _SETTLED_FOR and not _doc(r).get("received_at")
        )
        if not awaited:
            continue
        doc["awaited"] = awaited
        conn.execute(
            sa.update(declarations)
            .where(declarations.c.customs_return_id == customs_return_id)
            .values(doc=doc, awaited_by=datetime.fromisoformat(doc["arrival_by"]))
        )


def downgrade() -> None:
    with op.batch_alter_table("customs_returns", schema=None) as batch_op:
        batch_op.drop_index("ix_customs_returns_awaited")
        batch_op.drop_column("awaited_by")
