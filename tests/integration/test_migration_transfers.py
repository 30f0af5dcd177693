"""Revision ed3fc69fe2d5 on SQLite and PostgreSQL: rows of the old ``money_moves`` table become
transfers (ids, keys, amounts, statuses, provider references kept; exchanges' pointers renamed),
the code reads them, the keys stay unique, and the downgrade gives back exactly what was there."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from doorstep.adapters.db.codec import from_doc
from doorstep.adapters.db.engine import make_engine
from doorstep.bootstrap import ALEMBIC_DIR
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus

BEFORE = "c3d9a41f27e5"
AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def _move(
    move_id: str, key: str, purpose: str, direction: str, ref: str, status: str
) -> dict[str, Any]:
    """A money move as the old code stored it (domain/money_move.py before the merge)."""
    settled = status != "pending"
    return {
        "move_id": move_id,
        "idempotency_key": key,
        "direction": direction,
        "buyer_id": "buyer-001",
        "amount_fen": 2_000,
        "purpose": purpose,
        "reference": ref,
        "created_at": AT.isoformat(),
        "status": status,
        "provider_ref": "LX00000001" if status == "succeeded" else None,
        "settled_at": AT.isoformat() if settled else None,
        "failure": "account_closed" if status == "failed" else None,
        "attempts": 1,
        "_v": 1,
    }


MOVES = [
    _move("M-1", "exchange-diff:R-1", "exchange_difference", "collect", "R-1", "succeeded"),
    _move("M-2", "exchange-diff-back:R-1", "exchange_difference_back", "pay_out", "R-1", "pending"),
    _move("M-3", "exchange-diff:R-2", "exchange_difference", "pay_out", "R-2", "failed"),
    _move("M-4", "customs-tax:CR-1", "customs_tax", "pay_out", "CR-1", "succeeded"),
]
CLAWBACK = {
    "transfer_id": "T-1",
    "purpose": "clawback",
    "subject_id": "R-3",
    "buyer_id": "buyer-001",
    "amount_fen": 9_900,
    "idempotency_key": "clawback:R-3",
    "created_at": AT.isoformat(),
    "status": "succeeded",
    "provider_ref": "LC00000001",
    "settled_at": AT.isoformat(),
    "failure": None,
    "attempts": 0,
    "_v": 1,
}
EXCHANGE = {"return_id": "R-1", "difference_move_id": "M-1", "status": "released"}


def _doc(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else dict(json.loads(value))


def _seed_old_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        for m in MOVES:
            conn.execute(
                text(
                    "INSERT INTO money_moves (move_id, idempotency_key, reference, direction,"
                    " amount_fen, status, created_at, doc) VALUES (:id, :key, :ref, :dir,"
                    " :amount, :status, :at, :doc)"
                ),
                {
                    "id": m["move_id"],
                    "key": m["idempotency_key"],
                    "ref": m["reference"],
                    "dir": m["direction"],
                    "amount": m["amount_fen"],
                    "status": m["status"],
                    "at": AT,
                    "doc": json.dumps(m),
                },
            )
        conn.execute(
            text(
                "INSERT INTO transfers (transfer_id, purpose, subject_id, buyer_id,"
                " idempotency_key, amount_fen, status, created_at, doc) VALUES ('T-1',"
                " 'clawback', 'R-3', 'buyer-001', 'clawback:R-3', 9900, 'succeeded', :at, :doc)"
            ),
            {"at": AT, "doc": json.dumps(CLAWBACK)},
        )
        conn.execute(
            text(
                "INSERT INTO exchanges (return_id, buyer_id, status, version, doc)"
                " VALUES ('R-1', 'buyer-001', 'released', 1, :doc)"
            ),
            {"doc": json.dumps(EXCHANGE)},
        )


def _transfers(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT transfer_id, purpose, subject_id, buyer_id, idempotency_key, amount_fen,"
                " status, doc FROM transfers"
            )
        ).all()
    return {row[0]: (*row[1:7], _doc(row[7])) for row in rows}


def test_money_moves_become_transfers_and_come_back(database_url: str) -> None:
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    engine = make_engine(database_url)
    try:
        _seed_old_rows(engine)
        command.upgrade(cfg, "head")
        rows = _transfers(engine)
        assert {k: v[:6] for k, v in rows.items()} == {
            "M-1": ("exchange_collect", "R-1", "buyer-001", "exchange-diff:R-1", 2_000, "succeeded"),
            "M-2": ("exchange_payback", "R-1", "buyer-001", "exchange-diff-back:R-1", 2_000, "pending"),
            "M-3": ("exchange_refund", "R-2", "buyer-001", "exchange-diff:R-2", 2_000, "failed"),
            "M-4": ("customs_tax", "CR-1", "buyer-001", "customs-tax:CR-1", 2_000, "succeeded"),
            "T-1": ("clawback", "R-3", "buyer-001", "clawback:R-3", 9_900, "succeeded"),
        }  # fmt: skip
        # The code reads every migrated document as the transfer it was.
        read = {k: from_doc(Transfer, v[6]) for k, v in rows.items()}
        assert read["M-1"].purpose is TransferPurpose.EXCHANGE_COLLECTION
        assert read["M-1"].provider_ref == "LX00000001" and read["M-1"].settled_at == AT
        assert read["M-2"].awaited_key == "exchange-diff:R-1"
        assert read["M-3"].status is TransferStatus.FAILED
        assert read["M-3"].failure == "account_closed" and read["M-3"].attempts == 1
        assert all(x.idempotency_key == rows[k][3] for k, x in read.items())
        with engine.connect() as conn:
            exchange = _doc(
                conn.execute(text("SELECT doc FROM exchanges WHERE return_id = 'R-1'")).scalar_one()
            )
            assert exchange["difference_transfer_id"] == "M-1"
            assert "difference_move_id" not in exchange
            # One table, one unique key for every purpose.
            with pytest.raises(IntegrityError):
                conn.execute(
                    text(
                        "INSERT INTO transfers (transfer_id, purpose, subject_id, buyer_id,"
                        " idempotency_key, amount_fen, status, created_at, doc) VALUES"
                        " ('T-9', 'clawback', 'R-1', 'b', 'exchange-diff:R-1', 1, 'pending',"
                        " :at, '{}')"
                    ),
                    {"at": AT},
                )
            conn.rollback()

        command.downgrade(cfg, BEFORE)
        with engine.connect() as conn:
            moves = conn.execute(
                text(
                    "SELECT move_id, idempotency_key, reference, direction, amount_fen, status,"
                    " doc FROM money_moves ORDER BY move_id"
                )
            ).all()
            exchange = _doc(conn.execute(text("SELECT doc FROM exchanges")).scalar_one())
        assert [(*m[:6], _doc(m[6])) for m in moves] == [
            (
                m["move_id"],
                m["idempotency_key"],
                m["reference"],
                m["direction"],
                m["amount_fen"],
                m["status"],
                m,
            )
            for m in MOVES
        ]
        assert exchange == EXCHANGE
        assert list(_transfers(engine)) == ["T-1"]
        assert _transfers(engine)["T-1"][6] == CLAWBACK
        command.upgrade(cfg, "head")
        assert len(_transfers(engine)) == 5
    finally:
        engine.dispose()
