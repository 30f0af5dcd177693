"""customs_returns: tax_paid_for for declarations settled before it existed

Revision ID: b2e8c4f1a7d5
Revises: 9d4a6c1e2f30
Create Date: 2026-12-02 19:20:00

A settled declaration names the returns whose withheld tax its settlement paid
(``CustomsReturn.tax_paid_for``), so that their goods refunds leave the tax out. Declarations
settled before the field existed have none: a return graded after such a settlement would be
quoted the tax again. This revision derives it the way the settlement chose it then
(services/customs.py ``_settlement``): from the ``customs.settled`` event (when, and how much
tax went back) and the declaration's returns received by day 45 and before that moment, less
the tax their own refunds, created before it, already carried. It is written only where
those returns' tax adds up to exactly the tax the event says was paid; a declaration where it
does not is left as it was and named in the log, for ops to look at (none is known to exist:
no production data predates the field). Settled declarations that paid no tax get an empty
list. Downgrading leaves the documents as they are (the field is harmless to older code).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "b2e8c4f1a7d5"
down_revision = "9d4a6c1e2f30"
branch_labels = None
depends_on = None

GONE = {"cancelled", "rejected"}
log = logging.getLogger("alembic.runtime.migration")


def _doc(value: Any) -> dict[str, Any]:
    return dict(value if isinstance(value, dict) else json.loads(value))


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def upgrade() -> None:
    conn = op.get_bind()
    customs = sa.table(
        "customs_returns",
        sa.column("customs_return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("doc", sa.JSON),
    )
    events = sa.table(
        "events",
        sa.column("seq", sa.Integer),
        sa.column("aggregate_id", sa.String),
        sa.column("name", sa.String),
        sa.column("occurred_at", AwareDateTime()),
        sa.column("data", sa.JSON),
    )
    returns = sa.table("returns", sa.column("return_id", sa.String), sa.column("doc", sa.JSON))
    refunds = sa.table(
        "refunds",
        sa.column("return_id", sa.String),
        sa.column("status", sa.String),
        sa.column("created_at", AwareDateTime()),
        sa.column("doc", sa.JSON),
    )
    settled = conn.execute(
        sa.select(customs.c.customs_return_id, customs.c.doc).where(customs.c.status == "settled")
    ).all()
    for customs_return_id, raw in settled:
        doc = _doc(raw)
        if "tax_paid_for" in doc:
            continue  # settled since the field exists: it says what was paid
        event = conn.execute(
            sa.select(events.c.occurred_at, events.c.data)
            .where(events.c.aggregate_id == customs_return_id, events.c.name == "customs.settled")
            .order_by(events.c.seq)
            .limit(1)
        ).first()
        if event is None:
            log.warning(
                "customs return %s: settled without a customs.settled event", customs_return_id
            )
            continue
        settled_at, data = event[0], _doc(event[1])
        tax = int(data.get("tax_refund_fen", doc.get("tax_refund_fen", 0)))
        paid_for = _paid_for(conn, returns, refunds, doc, settled_at, tax) if tax else []
        if paid_for is None:
            log.warning(
                "customs return %s: the returns received in time do not add up to the %d fen "
                "of tax settled; tax_paid_for left unset",
                customs_return_id,
                tax,
            )
            continue
        doc["tax_paid_for"] = paid_for
        conn.execute(
            customs.update().where(customs.c.customs_return_id == customs_return_id).values(doc=doc)
        )


def _paid_for(
    conn: sa.Connection,
    returns: sa.TableClause,
    refunds: sa.TableClause,
    doc: dict[str, Any],
    settled_at: datetime,
    tax: int,
) -> list[str] | None:
    """The returns whose tax the settlement paid, or None when they do not add up to ``tax``."""
    lines = doc.get("lines") or []
    ids = list(dict.fromkeys(str(ln["return_id"]) for ln in lines))
    arrival_by = _at(doc.get("arrival_by"))
    found = {
        rid: _doc(d)
        for rid, d in conn.execute(
            sa.select(returns.c.return_id, returns.c.doc).where(returns.c.return_id.in_(ids))
        )
    }
    in_time = []
    for rid in ids:
        request = found.get(rid)
        received = _at(request.get("received_at")) if request else None
        if request is None or request.get("status") in GONE or received is None:
            continue
        if arrival_by is not None and received <= arrival_by and received <= settled_at:
            in_time.append(rid)
    already: dict[str, int] = {}
    for rid, status, created, refund in conn.execute(
        sa.select(refunds.c.return_id, refunds.c.status, refunds.c.created_at, refunds.c.doc).where(
            refunds.c.return_id.in_(in_time)
        )
    ):
        if status != "failed" and created <= settled_at:
            already[rid] = already.get(rid, 0) + int(_doc(refund).get("tax_fen", 0))
    due = {}
    for rid in in_time:
        owed = sum(int(ln.get("tax_fen", 0)) for ln in lines if ln["return_id"] == rid)
        if owed - already.get(rid, 0) > 0:
            due[rid] = owed - already.get(rid, 0)
    return sorted(due) if sum(due.values()) == tax else None


def downgrade() -> None:
    pass  # the field is read by today's code only; older code ignores it
