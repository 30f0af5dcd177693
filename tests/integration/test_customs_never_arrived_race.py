"""Tax an express refund advanced for goods a forced settlement left out on their way is taken
back once day 45 passes, whether they never come (the customs sweep) or come late (the
receipt), raced on SQLite and PostgreSQL (RULES.md §2; docs/next.md, customs bullet).

Bonded pillows, one return each, refunded at pickup with the tax advanced, declared and
accepted; ops force each settlement while the parcels are on their way. On day 46, at once:
half the parcels received twice each (late), and the customs sweep many times. The sweep
and the receipt both lock the return first (``customs._lock``'s order), so one of them takes
the tax back and the other sees it: afterwards every return's tax was taken back exactly
once (one ``tax-clawback:`` transfer), no declaration still awaits anything, and
``races.violations`` / ``transfer_violations`` hold. Losers: the repeated receipts only
(``illegal_transition``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import bindparam, text
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    PILLOW_PRICE,
    PILLOW_TAX,
    declaration_docs,
    in_transit,
    kept_tax,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.services import customs, refunds, transfers, warehouse

ORDERS = 8  # 4 parcels received twice late, 16 sweeps: 24 at once


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _clawbacks(app: App, return_ids: list[str]) -> dict[str, list[int]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT subject_id, amount_fen FROM transfers WHERE purpose = 'tax_clawback'"
                " AND subject_id IN :ids ORDER BY subject_id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": return_ids},
        ).all()
    out: dict[str, list[int]] = {r: [] for r in return_ids}
    for subject, amount in rows:
        out[subject].append(int(amount))
    return out


def _awaited(app: App, ids: list[str]) -> dict[str, list[str]]:
    return {i: list(d.get("awaited", [])) for i, d in declaration_docs(app, ids).items()}


def test_advanced_tax_of_goods_left_out_is_taken_back_once_by_sweeps_and_late_receipts(
    wired: App, clock: FixedClock, payments: RecordingPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    pairs = in_transit(svc, ORDERS, released_days_ago=5)
    for cr_id, return_id in pairs:
        paid = refunds.start_express_refund(svc, return_id)
        assert paid is not None and paid.tax_fen == PILLOW_TAX  # advanced at pickup
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        settled = customs.settle(svc, cr_id, force=True)  # the parcel still on its way
        assert settled.status is CustomsStatus.SETTLED and settled.tax_refund_fen == 0
    clock.advance(days=41)  # day 46 of release: none came back in time

    late = [r for _, r in pairs[: ORDERS // 2]]
    calls: list[Any] = [lambda r=r: warehouse.receive(svc, BONDED_WH, r) for r in late] * 2
    calls += [lambda: customs.sweep_customs(svc)] * (RACERS - len(calls))
    outcome = race(calls)
    assert outcome.codes == {"illegal_transition": len(late)}, outcome.codes
    customs.sweep_customs(svc)
    transfers.retry_pending(svc)

    rids = [r for _, r in pairs]
    clawed = _clawbacks(wired, rids)
    taken = sum(len(v) for v in clawed.values())
    assert clawed == {r: [PILLOW_TAX] for r in rids}, f"{taken} clawbacks for {len(rids)} returns"
    assert kept_tax(payments, rids) == {r: PILLOW_PRICE for r in rids}
    assert _awaited(wired, [c for c, _ in pairs]) == {c: [] for c, _ in pairs}
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
