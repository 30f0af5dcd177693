"""Declarations forced before migration 8a2f6d3c1e94 name no awaited returns: upgrading names
those neither received nor gone, so the customs sweep takes back the tax advanced for goods
that never came after day 45, once, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace

import sqlalchemy as sa
from alembic import command
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    PILLOW_TAX,
    in_transit,
)
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.adapters.ids import FixedClock
from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.services import customs, refunds, transfers

BEFORE = "7e1c4b9a2d58"
_DECLARATIONS = sa.table(
    "customs_returns", sa.column("customs_return_id", sa.String), sa.column("doc", sa.JSON)
)


def _forget_awaited(app: App, cr_id: str) -> None:
    """The document as the old code wrote it: no ``awaited``."""
    with app.engine.begin() as conn:
        raw = conn.execute(
            sa.select(_DECLARATIONS.c.doc).where(_DECLARATIONS.c.customs_return_id == cr_id)
        ).scalar_one()
        doc = dict(raw if isinstance(raw, dict) else json.loads(raw))
        doc.pop("awaited", None)
        conn.execute(
            sa.update(_DECLARATIONS)
            .where(_DECLARATIONS.c.customs_return_id == cr_id)
            .values(doc=doc)
        )


def test_old_forced_settlements_are_swept_after_day_45(
    wired: App, database_url: str, clock: FixedClock, payments: LocalPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    ((cr_id, return_id),) = in_transit(svc, 1, released_days_ago=5)
    assert refunds.start_express_refund(svc, return_id) is not None
    assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
    customs.settle(svc, cr_id, force=True)

    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    _forget_awaited(wired, cr_id)
    command.upgrade(cfg, "head")

    assert customs.get_customs_return(svc, cr_id).awaited == (return_id,)
    clock.advance(days=41)  # day 46
    assert customs.sweep_customs(svc).taken_back == 1
    assert customs.sweep_customs(svc).taken_back == 0
    transfers.retry_pending(svc)
    assert payments.clawed[f"tax-clawback:{return_id}"][1] == PILLOW_TAX
