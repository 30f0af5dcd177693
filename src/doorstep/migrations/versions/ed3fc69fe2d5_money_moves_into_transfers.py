"""money_moves into transfers: one table for every payment to or from a buyer

Revision ID: ed3fc69fe2d5
Revises: c3d9a41f27e5
Create Date: 2026-12-02 05:30:00.000000

Exchange differences and customs tax refunds (``money_moves``) become transfers with a purpose
(domain/transfer.py), beside clawbacks and claim payouts. Ids, idempotency keys, amounts,
statuses and provider references are kept as they are: the providers hold payments under
these keys, and exchanges point at their difference by id (the documents' field is renamed
``difference_move_id`` -> ``difference_transfer_id``). Downgrade moves all of it back.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from doorstep.adapters.db.tables import AwareDateTime

revision = "ed3fc69fe2d5"
down_revision = "c3d9a41f27e5"
branch_labels = None
depends_on = None

# (money move purpose, direction) <-> transfer purpose; anything else stops the migration.
PURPOSES = {
    ("exchange_difference", "collect"): "exchange_collect",
    ("exchange_difference", "pay_out"): "exchange_refund",
    ("exchange_difference_back", "pay_out"): "exchange_payback",
    ("customs_tax", "pay_out"): "customs_tax",
}
BACK = {purpose: old for old, purpose in PURPOSES.items()}
# Both documents carry these fields under the same names.
SHARED = (
    "buyer_id",
    "amount_fen",
    "idempotency_key",
    "created_at",
    "status",
    "provider_ref",
    "settled_at",
    "failure",
    "attempts",
)

transfers = sa.table(
    "transfers",
    sa.column("transfer_id", sa.String),
    sa.column("purpose", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("buyer_id", sa.String),
    sa.column("idempotency_key", sa.String),
    sa.column("amount_fen", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("created_at", AwareDateTime(timezone=True)),
    sa.column("doc", sa.JSON),
)

exchanges = sa.table("exchanges", sa.column("return_id", sa.String), sa.column("doc", sa.JSON))


def _rename_in_exchanges(old: str, new: str) -> None:
    conn = op.get_bind()
    for return_id, doc in conn.execute(sa.select(exchanges.c.return_id, exchanges.c.doc)).all():
        body = _body(doc)
        if old not in body:
            continue
        body[new] = body.pop(old)
        conn.execute(
            sa.update(exchanges).where(exchanges.c.return_id == return_id).values(doc=body)
        )


money_moves = sa.table(
    "money_moves",
    sa.column("move_id", sa.String),
    sa.column("idempotency_key", sa.String),
    sa.column("reference", sa.String),
    sa.column("direction", sa.String),
    sa.column("amount_fen", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("created_at", AwareDateTime(timezone=True)),
    sa.column("doc", sa.JSON),
)


def _body(doc: Any) -> dict[str, Any]:
    return dict(doc) if isinstance(doc, dict) else dict(json.loads(doc))


def upgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(money_moves)).all():
        doc = _body(row.doc)
        purpose = PURPOSES.get((str(doc.get("purpose")), row.direction))
        if purpose is None:
            raise RuntimeError(
                f"money move {row.move_id}: purpose {doc.get('purpose')!r} going "
                f"{row.direction!r} has no transfer purpose; migrate it by hand first"
            )
        new_doc = {
            "transfer_id": row.move_id,
            "purpose": purpose,
            "subject_id": row.reference,
            **{name: doc.get(name) for name in SHARED},
            "_v": 1,
        }
        # The unique key of transfers refuses a key both tables held: the upgrade stops.
        conn.execute(
            sa.insert(transfers).values(
                transfer_id=row.move_id,
                purpose=purpose,
                subject_id=row.reference,
                buyer_id=doc["buyer_id"],
                idempotency_key=row.idempotency_key,
                amount_fen=row.amount_fen,
                status=row.status,
                created_at=row.created_at,
                doc=new_doc,
            )
        )
    with op.batch_alter_table("money_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_money_moves_status"))
        batch_op.drop_index(batch_op.f("ix_money_moves_reference"))
    op.drop_table("money_moves")
    _rename_in_exchanges("difference_move_id", "difference_transfer_id")


def downgrade() -> None:
    _rename_in_exchanges("difference_transfer_id", "difference_move_id")
    # As revision 1b124e399bff created it.
    op.create_table(
        "money_moves",
        sa.Column("move_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", AwareDateTime(timezone=True), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("move_id", name=op.f("pk_money_moves")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_money_moves_idempotency_key")),
    )
    with op.batch_alter_table("money_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_money_moves_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_money_moves_status"), ["status"], unique=False)
    conn = op.get_bind()
    wanted = transfers.c.purpose.in_(list(BACK))
    for row in conn.execute(sa.select(transfers).where(wanted)).all():
        doc = _body(row.doc)
        purpose, direction = BACK[row.purpose]
        old_doc = {
            "move_id": row.transfer_id,
            "direction": direction,
            "purpose": purpose,
            "reference": row.subject_id,
            **{name: doc.get(name) for name in SHARED},
            "_v": 1,
        }
        conn.execute(
            sa.insert(money_moves).values(
                move_id=row.transfer_id,
                idempotency_key=row.idempotency_key,
                reference=row.subject_id,
                direction=direction,
                amount_fen=row.amount_fen,
                status=row.status,
                created_at=row.created_at,
                doc=old_doc,
            )
        )
    conn.execute(sa.delete(transfers).where(wanted))
