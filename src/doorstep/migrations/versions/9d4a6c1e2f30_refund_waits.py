"""refund_waits: the tally refund lead times are read from

Revision ID: 9d4a6c1e2f30
Revises: 6e2f0b9c4d17
Create Date: 2026-12-02 19:10:00

Refund lead times read at most the 20,000 most recently paid refunds of the days shown (and
said from when they counted). From now on each refund adds its waits to ``refund_waits`` in
the transaction that settles it (services/refunds.py, domain/refund_lead_time.py). The
refunds already paid are counted once here, the way the live path counts them: the Shanghai
day of ``settled_at``, the refund's kind, the wait from the return's filing and from its first
``return.picked_up`` event, each in tenths of an hour rounded half up. The arithmetic is
written out here rather than imported, so a later change to the domain does not change what
this revision wrote.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "9d4a6c1e2f30"
down_revision = "6e2f0b9c4d17"
branch_labels = None
depends_on = None

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEP_US = 360_000_000  # 0.1 h in microseconds
BATCH = 5_000


def _bucket(start: datetime, end: datetime) -> int:
    micros = max(end - start, timedelta(0)) // timedelta(microseconds=1)
    return int((micros + STEP_US // 2) // STEP_US)


def upgrade() -> None:
    op.create_table(
        "refund_waits",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("measure", sa.String(8), primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True),
        sa.Column("shard", sa.SmallInteger(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    conn = op.get_bind()
    refunds = sa.table(
        "refunds",
        sa.column("return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("settled_at", AwareDateTime()),
        sa.column("doc", sa.JSON),
    )
    returns = sa.table(
        "returns", sa.column("return_id", sa.String), sa.column("created_at", AwareDateTime())
    )
    events = sa.table(
        "events",
        sa.column("aggregate_id", sa.String),
        sa.column("name", sa.String),
        sa.column("occurred_at", AwareDateTime()),
    )
    picked = (
        sa.select(sa.func.min(events.c.occurred_at))
        .where(events.c.aggregate_id == refunds.c.return_id, events.c.name == "return.picked_up")
        .scalar_subquery()
    )
    paid = (
        sa.select(returns.c.created_at, picked, refunds.c.settled_at, refunds.c.doc)
        .join(returns, returns.c.return_id == refunds.c.return_id)
        .where(refunds.c.status == "succeeded", refunds.c.settled_at.is_not(None))
    )
    counts: Counter[tuple[date, str, str, int]] = Counter()
    for requested, picked_up, settled, doc in conn.execute(paid):
        kind = str((doc if isinstance(doc, dict) else json.loads(doc)).get("kind", "standard"))
        day = settled.astimezone(SHANGHAI).date()
        counts[(day, kind, "request", _bucket(requested, settled))] += 1
        if picked_up is not None:
            counts[(day, kind, "pickup", _bucket(picked_up, settled))] += 1
    table = sa.table(
        "refund_waits",
        sa.column("day", sa.Date),
        sa.column("kind", sa.String),
        sa.column("measure", sa.String),
        sa.column("bucket", sa.Integer),
        sa.column("shard", sa.SmallInteger),
        sa.column("n", sa.BigInteger),
    )
    rows = [
        {"day": d, "kind": k, "measure": m, "bucket": b, "shard": 0, "n": n}
        for (d, k, m, b), n in sorted(counts.items())
    ]
    for i in range(0, len(rows), BATCH):
        conn.execute(sa.insert(table), rows[i : i + BATCH])


def downgrade() -> None:
    op.drop_table("refund_waits")
