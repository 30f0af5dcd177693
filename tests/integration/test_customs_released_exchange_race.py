"""An exchange released by a lost dispute before its replacement shipped gives its units'
annual quota (and their import tax) back, once (RULES.md §2: the goods went back into
customs' zone and nothing was imported in their place; docs/next.md, customs bullet), raced
on SQLite and PostgreSQL.

Bonded exchanges whose replacement waits for an unanswered collection are declared,
accepted, back in time and graded as failed (a dispute opens, the replacement still
reserved); half of their declarations are settled already (which gives an exchange nothing
back), half are not. Then, at once: each dispute decided against the buyer three times,
``settle(force=True)`` of each declaration, the buyer's withdrawal and two customs sweeps.
The decision locks the return, then (releasing the exchange) the order and the declaration
(``customs._lock``'s order), so a settlement either ran before it (and left the exchange
out: the decision gives the quota back, ``customs.restore_converted_quota``, and the tax,
``customs.pay_returned_tax``) or runs after it (and settles the released exchange like a
return): afterwards every return's units gave the quota and the tax back exactly once, and
``races.violations`` ("quota used by units that went back with nothing in their place",
"tax owed back not paid") and ``transfer_violations`` hold. Losers: ``illegal_transition``
only.
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
    LIP_PRICE,
    LIP_TAX,
    HeldCollections,
    dearer_exchanges,
    declaration_docs,
    declaration_of,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    race,
    transfer_violations,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.exchange import ExchangeStatus
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.services import customs, disputes, exchanges, returns, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-003"  # trust 600: no express refund, the replacement waits for the warehouse
PRICE, TAX = LIP_PRICE, LIP_TAX
EXCHANGES = 6  # 3 settled before the race, 3 not; 5 racers each, and 2 sweeps: 32 at once


@pytest.fixture
def payments() -> HeldCollections:
    return HeldCollections()


def _disputed_exchanges(svc: Services, n: int) -> list[tuple[str, str]]:
    """``n`` bonded orders of one lipstick, each exchanged for the dearer shade, declared,
    accepted, back in time and graded as failed with the replacement still reserved:
    (declaration id, return id) per order."""
    made = []
    for rid in dearer_exchanges(svc, n, tag="V", buyer=BUYER):
        cr_id = declaration_of(svc, rid)
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        warehouse.receive(svc, BONDED_WH, rid)
        graded = warehouse.grade(svc, BONDED_WH, rid, Grade.C, "scratched")
        assert graded.status is ReturnStatus.DISPUTED
        assert exchanges.get_exchange(svc, rid).status is ExchangeStatus.RESERVED
        made.append((cr_id, rid))
    return made


def _events(app: App, name: str) -> Counter[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT data FROM events WHERE name = :n"), {"n": name}).all()
    return Counter((d if isinstance(d, dict) else json.loads(d))["return_id"] for (d,) in rows)


def test_exchanges_released_by_lost_disputes_give_quota_and_tax_back_once(
    wired: App, payments: HeldCollections
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    pairs = _disputed_exchanges(svc, EXCHANGES)
    settled_before = pairs[: EXCHANGES // 2]
    for cr_id, _ in settled_before:
        cr = customs.settle(svc, cr_id, force=True)
        assert cr.status is CustomsStatus.SETTLED and cr.quota_restored_fen == 0
        assert cr.tax_refund_fen == 0
    used_before = customs.quota_of(svc, BUYER, 2026).used_fen
    payments.held = False

    calls: list[Any] = []
    for cr_id, rid in pairs:
        calls += [
            lambda r=rid: disputes.decide_dispute(
                svc, "ops-001", r, buyer_upheld=False, note="scratched by the buyer"
            )
        ] * 3
        calls += [
            lambda c=cr_id: customs.settle(svc, c, force=True),
            lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed_mind"),
        ]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    # One decision per dispute wins; its repeats and the withdrawal see what it did.
    assert outcome.codes == Counter({"illegal_transition": 3 * EXCHANGES}), outcome.codes
    transfers.retry_pending(svc)

    ids = [c for c, _ in pairs]
    docs = declaration_docs(wired, ids)
    assert {d["status"] for d in docs.values()} == {CustomsStatus.SETTLED.value}
    assert {exchanges.get_exchange(svc, r).status for _, r in pairs} == {ExchangeStatus.RELEASED}
    # Each return's units gave the annual total back once, whichever came first.
    restored = sum(1 for d in docs.values() if d.get("quota_restored_for"))
    assert customs.quota_of(svc, BUYER, 2026).used_fen == used_before - EXCHANGES * PRICE, (
        f"{restored} of {EXCHANGES} released exchanges gave their quota back"
    )
    assert {c: (d["quota_restored_fen"], d.get("quota_restored_for")) for c, d in docs.items()} == {
        c: (PRICE, [r]) for c, r in pairs
    }
    # And their tax, once: by the settlement that saw them released, or on their own.
    for cr_id, rid in pairs:
        by_settlement = payments.paid.get(f"customs-tax:{cr_id}", ("", 0))[1]
        on_its_own = payments.paid.get(f"customs-tax-return:{rid}", ("", 0))[1]
        assert by_settlement + on_its_own == TAX, (cr_id, by_settlement, on_its_own)
        assert docs[cr_id]["tax_refund_fen"] == TAX and docs[cr_id]["tax_paid_for"] == [rid]
        assert f"refund:{rid}" not in payments.paid  # a lost dispute: no goods refund
    assert all(n == 1 for n in _events(wired, "customs.quota_restored").values())
    assert all(n == 1 for n in _events(wired, "customs.tax_paid").values())
    assert {r for _, r in settled_before} <= set(_events(wired, "customs.tax_paid"))
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
