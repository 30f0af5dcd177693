"""events: index the account events by the buyer their account acted as

Revision ID: e5b7c3a9d142
Revises: d41a7e9c2b63
Create Date: 2026-12-03 22:55:00

The retention sweep erases a departed buyer's username from their account events
(``user.*``), found by the ``actor_id`` in the event's data: the account rows are deleted by
then, and the events' ``aggregate_id`` is the account. A partial expression index on that
field of the account events makes the read one index search per buyer instead of a read of
every account event; the expression is the one the sweep's query compiles to on each
dialect, so the planner uses it (EXPLAIN checked on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5b7c3a9d142"
down_revision = "d41a7e9c2b63"
branch_labels = None
depends_on = None


def upgrade() -> None:
    events = sa.table("events", sa.column("aggregate_type", sa.String), sa.column("data", sa.JSON))
    op.create_index(
        "ix_events_user_actor",
        "events",
        [events.c.data["actor_id"].as_string()],
        postgresql_where=events.c.aggregate_type == "user",
        sqlite_where=events.c.aggregate_type == "user",
    )


def downgrade() -> None:
    op.drop_index("ix_events_user_actor", table_name="events")
