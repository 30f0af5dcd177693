"""Goods a forced settlement left out on their way that come back by day 45 and then fail QC
get their import tax back, once (RULES.md §2: the tax follows the goods back into customs'
zone, not the refund; docs/next.md, customs bullet), raced on SQLite and PostgreSQL.

Bonded orders of two lipsticks, each line returned in its own refund by a buyer who gets no
express refund, declared and accepted. The first parcel is received, then ops force the
settlement (it pays the first return's tax) while the second is on its way; the second comes
back by day 45 (its quota comes back at the receipt, its tax was left to its goods refund).
Then, at once: the second return graded as failed twice, the first graded as failed, the
buyer's withdrawal of the second, ``settle(force=True)`` again and two customs sweeps. A
failed grade gives no refund, so the grading transaction pays the tax the settlement would
have paid, locking the return, then the order and the declaration (``customs._lock``'s
order), under ``customs-tax-return:<return_id>``, and the declaration names the return
in ``tax_paid_for``. Then each dispute is decided three times at once (the buyer upheld for
half, so their goods refund is quoted without the tax, ``customs_settled``). Afterwards each
return's tax went back exactly once, and ``races.violations`` ("tax owed back not paid")
and ``transfer_violations`` hold. Losers: ``illegal_transition`` only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text
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
from doorstep.domain.refund_amount import TaxStatus
from doorstep.domain.returns import Grade
from doorstep.services import customs, disputes, returns, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-003"  # trust 600: no express refund, the refund starts at QC
PRICE, TAX = LIP_PRICE, LIP_TAX
ORDERS = 6  # 5 racers per order and 2 sweeps: 32 at once; then 4 per order and 2: 26


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _left_out(svc: Services, n: int) -> list[tuple[str, str, str]]:
    """``n`` bonded orders of two lipsticks, one refund per line, declared and accepted; the
    first parcel in when ops force the settlement, the second on its way then and received
    after it, by day 45: (declaration id, settled return id, left-out return id)."""
    orders = bonded_orders(svc, n, tag="G", buyer=BUYER, sku=LIP_1, price=PRICE, tax=TAX, lines=2)
    made = []
    for order in orders:
        (first, _), (second, _) = [self_shipped(svc, order, (line,)) for line in ("L1", "L2")]
        cr_id = declaration_of(svc, second)
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        warehouse.receive(svc, BONDED_WH, first)
        settled = customs.settle(svc, cr_id, force=True)
        assert settled.tax_paid_for == (first,) and settled.awaited == (second,)
        warehouse.receive(svc, BONDED_WH, second)
        made.append((cr_id, first, second))
    return made


def _tax_events(app: App) -> Counter[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT data FROM events WHERE name = 'customs.tax_paid'")).all()
    return Counter((d if isinstance(d, dict) else json.loads(d))["return_id"] for (d,) in rows)


def test_left_out_goods_failing_qc_get_their_tax_back_once(
    wired: App, payments: RecordingPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    made = _left_out(svc, ORDERS)

    calls: list[Any] = []
    for cr_id, first, second in made:
        calls += [lambda r=second: warehouse.grade(svc, BONDED_WH, r, Grade.C, "scratched")] * 2
        calls += [
            lambda r=first: warehouse.grade(svc, BONDED_WH, r, Grade.C, "scratched"),
            lambda r=second: returns.cancel_return(svc, BUYER, r, "changed_mind"),
            lambda c=cr_id: customs.settle(svc, c, force=True),
        ]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    # One grade per return wins; its repeat and the withdrawal find it graded.
    assert outcome.codes == Counter({"illegal_transition": 2 * ORDERS}), outcome.codes
    transfers.retry_pending(svc)

    lefts = [second for _, _, second in made]
    given = {r: payments.paid.get(f"customs-tax-return:{r}", ("", 0))[1] for r in lefts}
    got = sum(1 for v in given.values() if v == TAX)
    assert given == {r: TAX for r in lefts}, f"{got} of {len(lefts)} got the tax back"
    assert _tax_events(wired) == Counter(lefts)
    docs = declaration_docs(wired, [c for c, _, _ in made])
    assert {c: (d["tax_refund_fen"], sorted(d["tax_paid_for"])) for c, d in docs.items()} == {
        c: (2 * TAX, sorted([first, second])) for c, first, second in made
    }
    for cr_id, _, _ in made:
        assert payments.paid[f"customs-tax:{cr_id}"][1] == TAX  # the first's, by settlement
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []

    # The disputes decided three times at once: found for the buyer, the goods refund is
    # quoted without the tax customs already gave back.
    upheld = {second for i, (_, _, second) in enumerate(made) if i % 2 == 0}
    calls = []
    for _, first, second in made:
        calls += [
            lambda r=second: disputes.decide_dispute(
                svc, "ops-001", r, buyer_upheld=r in upheld, note="decided"
            )
        ] * 3
        calls += [
            lambda r=first: disputes.decide_dispute(
                svc, "ops-001", r, buyer_upheld=False, note="no"
            )
        ]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    assert outcome.codes == Counter({"illegal_transition": 2 * ORDERS}), outcome.codes
    transfers.retry_pending(svc)

    for rid in upheld:
        assert payments.paid[f"refund:{rid}"][1] == PRICE  # the goods, not the tax again
        quote = returns.get_return(svc, rid).quote
        assert quote is not None and quote.tax.status is TaxStatus.CUSTOMS_SETTLED
        assert quote.tax_fen == 0
    for rid in set(lefts) - upheld:
        assert f"refund:{rid}" not in payments.paid
    given = {r: payments.paid.get(f"customs-tax-return:{r}", ("", 0))[1] for r in lefts}
    assert given == {r: TAX for r in lefts}
    assert _tax_events(wired) == Counter(lefts)
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
