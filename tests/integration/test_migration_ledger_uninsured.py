"""Revision b5e3c7a9d1f2 on SQLite and PostgreSQL: the carrier ledger gains ``uninsured_fen``
(transit damage above what the courier company owed); entries charged before get 0, the code
reads and sums them, and the downgrade drops the column and keeps the charges."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from doorstep.adapters.db.engine import make_engine
from doorstep.adapters.db.money import LedgerRepo
from doorstep.bootstrap import ALEMBIC_DIR
from doorstep.domain.claim import LedgerEntry

BEFORE = "8a2f6d3c1e94"
AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _alembic(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    return cfg


def test_old_charges_have_no_uninsured_loss_and_the_downgrade_keeps_them(
    database_url: str,
) -> None:
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO carrier_ledger (entry_id, carrier_id, claim_id, amount_fen,"
                    " created_at, note) VALUES ('L-1', 'sbx', 'C-1', -39900, :at,"
                    " 'transit_damage R-1')"
                ),
                {"at": AT},
            )
        command.upgrade(cfg, "head")
        with engine.begin() as conn:
            ledger = LedgerRepo(conn)
            assert ledger.for_carrier("sbx") == [
                LedgerEntry("L-1", "sbx", "C-1", -39_900, AT, "transit_damage R-1", 0)
            ]
            new = LedgerEntry("L-2", "sbx", "C-2", -30_000, AT, "transit_damage R-2", 9_900)
            assert ledger.charge(new)
            assert ledger.totals() == {"sbx": (-69_900, 9_900)}
        command.downgrade(cfg, BEFORE)
        columns = {c["name"] for c in inspect(engine).get_columns("carrier_ledger")}
        assert "uninsured_fen" not in columns
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT claim_id, amount_fen FROM carrier_ledger")).all()
        assert sorted(tuple(r) for r in rows) == [("C-1", -39_900), ("C-2", -30_000)]
    finally:
        command.upgrade(cfg, "head")
        engine.dispose()
