"""Declarations settled before ``CustomsReturn.tax_paid_for`` existed (docs/next.md): the
data migration b2e8c4f1a7d5 derives it from the ``customs.settled`` event and the returns
received in time, so a goods refund graded after such a settlement leaves the tax out (it
was quoted again before), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, bindparam, text
from tests.integration.test_after_sales_races import (  # type: ignore[import-not-found]
    CollectOutage,
    _arrived,
    _file,
    _orders,
)
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import Grade, ReturnKind, ReturnStatus
from doorstep.domain.transfer import TransferPurpose, transfer_key
from doorstep.services import customs, returns, warehouse

BEFORE = "9d4a6c1e2f30"
WH = "wh-sh-bonded"
JACKET = "JP-DOWN-JACKET-M"
PRICE, TAX = 79_900, 7_270


@pytest.fixture
def payments() -> CollectOutage:
    return CollectOutage()


def _declared(app: App, return_id: str) -> str:
    (item,) = [c for c in customs.queue(app.services) if return_id in c.customs_return.return_ids]
    cr_id = str(item.customs_return.customs_return_id)
    assert customs.declare(app.services, cr_id).status is CustomsStatus.ACCEPTED
    return cr_id


def _docs(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT customs_return_id, doc FROM customs_returns WHERE customs_return_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        )
        return {i: d if isinstance(d, dict) else json.loads(d) for i, d in rows}


def _as_before_the_field(engine: Engine, ids: list[str]) -> None:
    """The settled documents and their events as a settlement wrote them before the field."""
    docs = _docs(engine, ids)
    with engine.begin() as conn:
        for cr_id, doc in docs.items():
            doc.pop("tax_paid_for")
            conn.execute(
                text("UPDATE customs_returns SET doc = :doc WHERE customs_return_id = :id"),
                {"doc": json.dumps(doc), "id": cr_id},
            )
        for seq, data in conn.execute(
            text(
                "SELECT seq, data FROM events WHERE name = 'customs.settled'"
                " AND aggregate_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        ).all():
            body = data if isinstance(data, dict) else json.loads(data)
            body.pop("tax_paid_for")
            conn.execute(
                text("UPDATE events SET data = :data WHERE seq = :seq"),
                {"data": json.dumps(body), "seq": seq},
            )


def test_a_refund_graded_after_an_old_settlement_no_longer_quotes_the_tax_twice(
    wired: App, database_url: str, payments: CollectOutage
) -> None:
    svc = wired.services
    settled_first, graded_first = _orders(wired, 2, JACKET, bonded=True)
    # Settled at receipt, before QC: the settlement paid the tax.
    early = _file(wired, settled_first, ReturnKind.REFUND)
    early_cr = _declared(wired, early)
    _arrived(wired, early)
    assert customs.settle(svc, early_cr).tax_paid_for == (early,)
    # Graded first: its refund carried the tax, the settlement paid none.
    late = _file(wired, graded_first, ReturnKind.REFUND)
    late_cr = _declared(wired, late)
    _arrived(wired, late)
    assert warehouse.grade(svc, WH, late, Grade.A, "ok").status is ReturnStatus.REFUNDED
    assert customs.settle(svc, late_cr).tax_refund_fen == 0

    _as_before_the_field(wired.engine, [early_cr, late_cr])
    # As stored before the field, the settlement is not seen to have paid the tax.
    with svc.uow() as uow:
        (old,) = uow.customs.for_returns([early])
    assert old.status is CustomsStatus.SETTLED and not old.paid_tax_of(early)

    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    command.upgrade(cfg, "head")
    docs = _docs(wired.engine, [early_cr, late_cr])
    assert docs[early_cr]["tax_paid_for"] == [early] and docs[late_cr]["tax_paid_for"] == []

    graded = warehouse.grade(svc, WH, early, Grade.A, "ok")
    assert graded.status is ReturnStatus.REFUNDED
    quote = returns.get_return(svc, early).quote
    assert quote is not None and quote.tax.status.value == "customs_settled"
    assert quote.tax_fen == 0 and quote.goods_fen == PRICE
    tax_key = transfer_key(TransferPurpose.CUSTOMS_TAX, early_cr)
    assert payments.paid[tax_key][1] == TAX
    assert payments.paid[f"refund:{early}"][1] == PRICE  # goods once, tax once
