"""Goods still on their way when ops force their declaration's settlement get its annual
quota back when they arrive by day 45 (RULES.md §2; docs/next.md, customs bullet), raced
on SQLite and PostgreSQL.

Bonded orders of two lipsticks, each returned in two refunds (own waybills), declared and
accepted, both parcels on their way. Then, at once: each parcel received twice (by return
and by waybill scan, or twice by return), ``settle(force=True)`` of each declaration and
two customs sweeps. The receipt locks the return, then the order and the declaration (the
order of ``customs._lock``), so a settlement either counted the parcel as arrived or left
it out, and then the receipt gives its quota back (``customs.settle_arrival``): afterwards
every return's units gave the quota back exactly once, and, once graded, the tax went back
once per return (with the goods refund, or by the settlement that saw it back), and
``races.violations`` / ``transfer_violations`` hold. Losers: the repeated receipts only
(``illegal_transition``, ``waybill_already_received``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    LIP_1,
    LIP_PRICE,
    LIP_TAX,
    bonded_orders,
    declaration_docs,
    declaration_of,
    self_shipped,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import Grade
from doorstep.services import customs, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-003"  # trust 600: no express refund, the refund starts at QC
PRICE, TAX = LIP_PRICE, LIP_TAX
ORDERS = 5  # two returns each: 4 receipts and a forced settlement per order, 2 sweeps: 27


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _on_their_way(svc: Services, n: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """``n`` bonded orders of two lipsticks, each line returned in its own refund, self-
    shipped under its own waybill, the declaration accepted: (declaration id, [(return id,
    waybill)]) per order."""
    orders = bonded_orders(svc, n, tag="F", buyer=BUYER, sku=LIP_1, price=PRICE, tax=TAX, lines=2)
    made = []
    for order in orders:
        parcels = [self_shipped(svc, order, (line,)) for line in ("L1", "L2")]
        cr_id = declaration_of(svc, parcels[-1][0])
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        made.append((cr_id, parcels))
    return made


def test_parcels_received_while_forced_settlements_run_give_each_quota_back_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    made = _on_their_way(svc, ORDERS)
    used_before = customs.quota_of(svc, BUYER, 2026).used_fen

    calls: list[Any] = []
    for cr_id, ((first, _), (second, waybill)) in made:
        calls += [lambda r=first: warehouse.receive(svc, BONDED_WH, r)] * 2
        calls += [
            lambda r=second: warehouse.receive(svc, BONDED_WH, r),
            lambda w=waybill: warehouse.receive_waybill(svc, BONDED_WH, w),
            lambda c=cr_id: customs.settle(svc, c, force=True),
        ]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    # One receipt per parcel wins; its repeat finds the parcel in.
    assert sum(outcome.codes.values()) == 2 * ORDERS, outcome.codes
    assert set(outcome.codes) <= {"illegal_transition", "waybill_already_received"}, outcome.codes

    ids = [c for c, _ in made]
    docs = declaration_docs(wired, ids)
    assert {d["status"] for d in docs.values()} == {CustomsStatus.SETTLED.value}
    # Each return's units gave the annual total back once, whichever came first.
    assert customs.quota_of(svc, BUYER, 2026).used_fen == used_before - 2 * ORDERS * PRICE
    assert {
        c: (d["quota_restored_fen"], sorted(d["quota_restored_for"])) for c, d in docs.items()
    } == {c: (2 * PRICE, sorted(r for r, _ in parcels)) for c, parcels in made}
    for _, parcels in made:
        for rid, _ in parcels:
            warehouse.grade(svc, BONDED_WH, rid, Grade.A, "ok")
    transfers.retry_pending(svc)
    # The tax went back once per return: with its goods refund or by the settlement.
    for cr_id, parcels in made:
        in_refunds = sum(payments.paid[f"refund:{rid}"][1] - PRICE for rid, _ in parcels)
        by_customs = payments.paid.get(f"customs-tax:{cr_id}", ("", 0))[1]
        assert in_refunds + by_customs == 2 * TAX, (cr_id, in_refunds, by_customs)
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
