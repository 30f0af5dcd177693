"""daily_counts: the console's day-by-day figures, counted as events are stored

Revision ID: 4b7d2e91c0a3
Revises: ed3fc69fe2d5
Create Date: 2026-12-02 09:00:00.000000

The dashboard and its trend charts counted returns by reading up to 5,000 documents per
status on every view (and stopped counting there). From now on the event store adds to
``daily_counts`` in the transaction that stores each event (domain/figures.py). What is
already stored is counted once here: returns filed, from their ``return.submitted`` events;
the rules that held, restricted or refused a return, from each return's current decision
(older decision events do not say which findings were binding).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "4b7d2e91c0a3"
down_revision = "ed3fc69fe2d5"
branch_labels = None
depends_on = None

SHANGHAI = ZoneInfo("Asia/Shanghai")
BINDING = {"reject", "review", "restrict"}


def upgrade() -> None:
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("figure", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("shard", sa.SmallInteger(), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    conn = op.get_bind()
    counts: Counter[tuple[date, str, str]] = Counter()
    events = sa.table(
        "events",
        sa.column("name", sa.String),
        sa.column("occurred_at", AwareDateTime()),
        sa.column("data", sa.JSON),
    )
    submitted = sa.select(events.c.occurred_at, events.c.data).where(
        events.c.name == "return.submitted"
    )
    for at, data in conn.execute(submitted):
        lines = (data or {}).get("lines") or []
        if lines:
            counts[(at.astimezone(SHANGHAI).date(), "filed", str(lines[0]["reason"])[:64])] += 1
    returns = sa.table("returns", sa.column("doc", sa.JSON))
    for (doc,) in conn.execute(sa.select(returns.c.doc)):
        for key in _held_by((doc or {}).get("decision")):
            counts[key] += 1
    table = sa.table(
        "daily_counts",
        sa.column("day", sa.Date),
        sa.column("figure", sa.String),
        sa.column("key", sa.String),
        sa.column("shard", sa.SmallInteger),
        sa.column("n", sa.BigInteger),
    )
    rows = [
        {"day": day, "figure": figure, "key": key, "shard": 0, "n": n}
        for (day, figure, key), n in sorted(counts.items())
    ]
    if rows:
        conn.execute(sa.insert(table), rows)


def _held_by(decision: dict[str, Any] | None) -> list[tuple[date, str, str]]:
    if not decision or not decision.get("decided_at"):
        return []
    day = datetime.fromisoformat(decision["decided_at"]).astimezone(SHANGHAI).date()
    return [
        (day, "held_by", f"{f['rule']}/{f['reason']}"[:64])
        for f in decision.get("findings", ())
        if f.get("verdict") in BINDING
    ]


def downgrade() -> None:
    op.drop_table("daily_counts")
