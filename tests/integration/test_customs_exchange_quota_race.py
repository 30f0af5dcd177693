"""An exchange turned into a refund after its customs declaration settled gets its annual
quota back (RULES.md §2; docs/next.md, customs bullet), raced on SQLite and PostgreSQL.

Bonded exchanges whose replacement waits for an unanswered collection are declared,
accepted, back in time and graded; half of their declarations are settled already (which
gives an exchange nothing back), half are not. Then, at once: each buyer's refund instead
(twice), ``settle(force=True)`` of each declaration, the customs sweep, and the buyer's
withdrawal. The refund instead locks the return, then the order and the declaration (the
order of ``customs._lock``), so a settlement either ran before it (and left the exchange
out: the refund instead gives the quota back) or runs after it (and settles a refund):
afterwards every return's units gave the quota back exactly once, the tax went back once
(with the goods refund), and ``races.violations`` holds (``_quota_restored`` counts both
ways). Losers: ``illegal_transition`` only.
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
from doorstep.services import customs, exchanges, returns, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-003"  # trust 600: no express refund, the refund starts at refund instead
PRICE, TAX = LIP_PRICE, LIP_TAX
EXCHANGES = 6  # 3 settled before the race, 3 not; 4 racers each, and 2 sweeps: 26 at once


@pytest.fixture
def payments() -> HeldCollections:
    return HeldCollections()


def _graded_exchanges(svc: Services, n: int) -> list[tuple[str, str]]:
    """``n`` bonded orders of one lipstick, each exchanged for the dearer shade, declared,
    accepted, back in time and graded A with the replacement still reserved: (declaration
    id, return id) per order."""
    made = []
    for rid in dearer_exchanges(svc, n, tag="Q", buyer=BUYER):
        cr_id = declaration_of(svc, rid)
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED
        warehouse.receive(svc, BONDED_WH, rid)
        assert warehouse.grade(svc, BONDED_WH, rid, Grade.A, "ok").status is ReturnStatus.INSPECTED
        assert exchanges.get_exchange(svc, rid).status is ExchangeStatus.RESERVED
        made.append((cr_id, rid))
    return made


def _quota_events(app: App) -> Counter[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM events WHERE name = 'customs.quota_restored'")
        ).all()
    return Counter((d if isinstance(d, dict) else json.loads(d))["return_id"] for (d,) in rows)


def test_refund_instead_raced_with_settlements_gives_each_quota_back_once(
    wired: App, payments: HeldCollections
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    pairs = _graded_exchanges(svc, EXCHANGES)
    settled_before = pairs[: EXCHANGES // 2]
    for cr_id, _ in settled_before:
        cr = customs.settle(svc, cr_id, force=True)
        assert cr.status is CustomsStatus.SETTLED and cr.quota_restored_fen == 0
    used_before = customs.quota_of(svc, BUYER, 2026).used_fen
    payments.held = False

    calls: list[Any] = []
    for cr_id, rid in pairs:
        calls += [lambda r=rid: exchanges.refund_instead(svc, BUYER, r)] * 2
        calls += [lambda c=cr_id: customs.settle(svc, c, force=True)]
        calls += [lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed_mind")]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    # One refund instead per return wins; its repeat and the withdrawal see what it did.
    assert outcome.codes == Counter({"illegal_transition": 2 * EXCHANGES}), outcome.codes
    transfers.retry_pending(svc)

    ids = [c for c, _ in pairs]
    docs = declaration_docs(wired, ids)
    assert {d["status"] for d in docs.values()} == {CustomsStatus.SETTLED.value}
    # Each return's units gave the annual total back once, whichever came first.
    assert customs.quota_of(svc, BUYER, 2026).used_fen == used_before - EXCHANGES * PRICE
    assert {c: (d["quota_restored_fen"], d.get("quota_restored_for")) for c, d in docs.items()} == {
        c: (PRICE, [r]) for c, r in pairs
    }
    events = _quota_events(wired)
    assert all(n == 1 for n in events.values()), events
    assert {r for _, r in settled_before} <= set(events)
    # The tax went back once per return: in its goods refund, never also by the settlement.
    for cr_id, rid in pairs:
        assert payments.paid[f"refund:{rid}"][1] == PRICE + TAX
        assert f"customs-tax:{cr_id}" not in payments.paid
        assert docs[cr_id]["tax_refund_fen"] == 0
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
