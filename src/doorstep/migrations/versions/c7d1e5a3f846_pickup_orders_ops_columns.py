"""pickup_orders.cancel_refused and awaits_ops_since: the ops list of overtaken cancels

Revision ID: c7d1e5a3f846
Revises: a3c6e8f1d259
Create Date: 2026-12-04 19:30:00

Session 18 made a pickup that overtook doorstep's cancel follow the company; the returns it
left behind (withdrawn, booked again or self-sent meanwhile) are left to ops. Ops now list
them (``awaits_ops_since``, indexed), and the worker finds refused cancels by a column
instead of reading every cancelled order's document (``cancel_refused``, indexed).

Filled from the documents and the orders' events on upgrade, one read of each per batch of
1,000 orders:
- ``cancel_refused`` from the document;
- ``cancelled_by_us`` (document only) for orders cancelled before session 18 recorded it,
  from their ``carrier_order.cancelled`` event with ``by: doorstep``: a pickup the company
  reports for them later is then followed, as for newer orders;
- ``needs_ops``/``needs_ops_at`` (document) and ``awaits_ops_since`` from the
  ``carrier_order.cancel_overtaken`` event of orders overtaken before this revision.
Downgrading drops the columns; the documents keep what was added (older code ignores it).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "c7d1e5a3f846"
down_revision = "a3c6e8f1d259"
branch_labels = None
depends_on = None

_BATCH = 1000

_orders = sa.table(
    "pickup_orders",
    sa.column("out_order_no", sa.String),
    sa.column("status", sa.String),
    sa.column("doc", sa.JSON),
    sa.column("cancel_refused", sa.Boolean),
    sa.column("awaits_ops_since", AwareDateTime()),
)
_events = sa.table(
    "events",
    sa.column("seq", sa.BigInteger),
    sa.column("aggregate_type", sa.String),
    sa.column("aggregate_id", sa.String),
    sa.column("name", sa.String),
    sa.column("occurred_at", AwareDateTime()),
    sa.column("data", sa.JSON),
)


def upgrade() -> None:
    with op.batch_alter_table("pickup_orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_refused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("awaits_ops_since", AwareDateTime(), nullable=True))
        batch_op.create_index("ix_pickup_orders_cancel_refused", ["cancel_refused"])
        batch_op.create_index("ix_pickup_orders_awaits_ops_since", ["awaits_ops_since"])
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(_orders.c.out_order_no, _orders.c.status, _orders.c.doc)
            .where(_orders.c.out_order_no > after)
            .order_by(_orders.c.out_order_no)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        events = _events_of(conn, [r.out_order_no for r in rows])
        changed = []
        for number, status, stored in rows:
            doc = dict(_json(stored))  # a copy: the driver may hand back its own dict
            filled = _fill(doc, status, events.get(number, []))
            since = _waiting_since(doc)
            if filled or since is not None or doc.get("cancel_refused"):
                changed.append(
                    {
                        "b_no": number,
                        "b_doc": doc,
                        "b_refused": bool(doc.get("cancel_refused")),
                        "b_since": since,
                    }
                )
        if changed:
            conn.execute(
                sa.update(_orders)
                .where(_orders.c.out_order_no == sa.bindparam("b_no"))
                .values(
                    doc=sa.bindparam("b_doc"),
                    cancel_refused=sa.bindparam("b_refused"),
                    awaits_ops_since=sa.bindparam("b_since"),
                ),
                changed,
            )
        after = rows[-1].out_order_no


def _events_of(conn: sa.Connection, numbers: list[str]) -> dict[str, list[Any]]:
    """The cancels and overtakings of these orders, oldest first."""
    found: dict[str, list[Any]] = {}
    for row in conn.execute(
        sa.select(_events.c.aggregate_id, _events.c.name, _events.c.occurred_at, _events.c.data)
        .where(
            _events.c.aggregate_type == "carrier_order",
            _events.c.aggregate_id.in_(numbers),
            _events.c.name.in_(["carrier_order.cancelled", "carrier_order.cancel_overtaken"]),
        )
        .order_by(_events.c.seq)
    ):
        found.setdefault(row.aggregate_id, []).append(row)
    return found


def _fill(doc: dict[str, Any], status: str, events: list[Any]) -> bool:
    """Complete ``doc`` from its events; whether anything was added."""
    filled = False
    ours = any(
        e.name == "carrier_order.cancelled" and _json(e.data).get("by") == "doorstep"
        for e in events
    )
    if status == "cancelled" and not doc.get("cancelled_by_us") and ours:
        doc["cancelled_by_us"] = filled = True
    overtaken = [e for e in events if e.name == "carrier_order.cancel_overtaken"]
    left = _json(overtaken[-1].data).get("needs_ops") if overtaken else None
    if left and not doc.get("needs_ops"):
        doc["needs_ops"] = list(left)
        doc["needs_ops_at"] = overtaken[-1].occurred_at.isoformat()
        filled = True
    return filled


def _waiting_since(doc: dict[str, Any]) -> datetime | None:
    """Since when the order's left-behind returns wait for ops, if they still do."""
    if doc.get("needs_ops") and not doc.get("ops_settled_at"):
        return datetime.fromisoformat(doc["needs_ops_at"])
    return None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def downgrade() -> None:
    with op.batch_alter_table("pickup_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_pickup_orders_awaits_ops_since")
        batch_op.drop_index("ix_pickup_orders_cancel_refused")
        batch_op.drop_column("awaits_ops_since")
        batch_op.drop_column("cancel_refused")
