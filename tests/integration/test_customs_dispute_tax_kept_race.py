"""A lost dispute's clawback leaves with the buyer the import tax customs gives back for goods
back by day 45 on an accepted declaration (RULES.md §2: the tax follows the goods, whatever
QC finds; docs/next.md, customs bullet), raced on SQLite and PostgreSQL.

Bonded pillows of buyer-001 (trust 850: refunded at pickup, the tax advanced with the
refund), each returned alone and failed at QC, so each has a dispute recording the whole
advance. Four kinds of declaration when the disputes are decided:

- settled already (its goods were back by day 45; the refund's tax counted as paid);
- accepted, not settled yet (the forced settlement or the sweep settles it in the race);
- still open, never declared (the sweep declares it, customs accepts, it settles);
- accepted, but its goods came back after day 45 (customs gives no tax back: the whole
  advance is taken back, once, by the decision or the settlement's tax clawback, whichever
  comes first).

At once: each dispute decided three times (QC upheld, the default amount), the buyer's
withdrawal of each return, ``settle(force=True)`` of each declaration and two customs sweeps.
Afterwards a buyer whose goods were back by day 45 kept exactly the tax (the refund less
what was taken back, nothing paid again by the settlement); one whose goods were late kept
nothing, and nothing was taken twice; ``races.violations`` ("tax customs gave back taken
back by a lost dispute") and ``transfer_violations`` hold. Losers: ``illegal_transition``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    PILLOW,
    PILLOW_PRICE,
    PILLOW_TAX,
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
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.services import customs, disputes, refunds, returns, transfers, warehouse
from doorstep.services.context import Services

BUYER = "buyer-001"
PER_KIND = 2  # 4 kinds: 8 returns, 5 racers each and 2 sweeps: 42 at once


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _express(svc: Services, released_days_ago: int, n: int) -> list[tuple[str, str]]:
    """``n`` bonded pillows sent back with the tax advanced by an express refund: (declaration
    id, return id) each."""
    orders = bonded_orders(
        svc,
        n,
        tag="K",
        buyer=BUYER,
        sku=PILLOW,
        price=PILLOW_PRICE,
        tax=PILLOW_TAX,
        released_days_ago=released_days_ago,
    )
    made = []
    for order in orders:
        rid, _ = self_shipped(svc, order)
        paid = refunds.start_express_refund(svc, rid)
        assert paid is not None and paid.tax_fen == PILLOW_TAX
        made.append((declaration_of(svc, rid), rid))
    return made


def _failed(svc: Services, return_id: str) -> None:
    warehouse.receive(svc, BONDED_WH, return_id)
    graded = warehouse.grade(svc, BONDED_WH, return_id, Grade.C, "scratched")
    assert graded.status is ReturnStatus.DISPUTED


def _kept(payments: RecordingPayments, return_id: str) -> int:
    """What the buyer holds of the express refund now (and of any tax paid on its own)."""
    given = sum(
        payments.paid.get(f"{p}:{return_id}", ("", 0))[1] for p in ("refund", "customs-tax-return")
    )
    taken = sum(
        payments.clawed.get(f"{p}:{return_id}", ("", 0))[1] for p in ("clawback", "tax-clawback")
    )
    return given - taken


def test_lost_disputes_leave_the_tax_customs_gave_back_with_the_buyer(
    wired: App, clock: FixedClock, payments: RecordingPayments
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    # All filed and refunded at pickup now (within the days a buyer may return without a
    # reason); the late ones' declaration is filed on day 28 of their release.
    late = _express(svc, 28, PER_KIND)
    settled = _express(svc, 5, PER_KIND)
    accepted = _express(svc, 5, PER_KIND)
    undeclared = _express(svc, 5, PER_KIND)
    for cr_id, _ in late + settled + accepted:
        assert customs.declare(svc, cr_id).status is CustomsStatus.ACCEPTED  # on their way
    clock.advance(days=18)  # day 46 of the late ones' release, day 23 of the others'
    for _, rid in late + settled + accepted + undeclared:
        _failed(svc, rid)
    for cr_id, _ in settled:
        assert customs.settle(svc, cr_id).status is CustomsStatus.SETTLED
    in_time = settled + accepted + undeclared
    everyone = in_time + late
    for _, rid in everyone:
        opened = disputes.get_dispute(svc, rid)
        assert opened.advanced_fen == PILLOW_PRICE + PILLOW_TAX

    calls: list[Any] = []
    for cr_id, rid in everyone:
        calls += [
            lambda r=rid: disputes.decide_dispute(
                svc, "ops-001", r, buyer_upheld=False, note="scratched"
            )
        ] * 3
        calls += [
            lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed_mind"),
            lambda c=cr_id: customs.settle(svc, c, force=True),
        ]
    calls += [lambda: customs.sweep_customs(svc)] * 2
    outcome = race(calls)
    # One decision per dispute wins; its repeats and the withdrawal find it decided, graded.
    assert outcome.codes == Counter({"illegal_transition": 3 * len(everyone)}), outcome.codes
    transfers.retry_pending(svc)
    customs.sweep_customs(svc)
    transfers.retry_pending(svc)

    docs = declaration_docs(wired, [c for c, _ in everyone])
    assert {c: d["status"] for c, d in docs.items()} == {
        c: CustomsStatus.SETTLED.value for c, _ in everyone
    }
    kept = {r: _kept(payments, r) for _, r in in_time}
    got = sum(1 for v in kept.values() if v == PILLOW_TAX)
    assert kept == {r: PILLOW_TAX for _, r in in_time}, f"{got} of {len(in_time)} kept their tax"
    for cr_id, rid in in_time:
        # The refund's tax was the tax customs gave back: nothing more was paid for it.
        assert docs[cr_id]["tax_refund_fen"] == 0 and not docs[cr_id].get("tax_paid_for")
        assert f"customs-tax:{cr_id}" not in payments.paid
        assert f"customs-tax-return:{rid}" not in payments.paid
        assert f"tax-clawback:{rid}" not in payments.clawed
        decided = disputes.get_dispute(svc, rid).decision
        assert decided is not None and decided.clawback_fen == PILLOW_PRICE
        assert decided.tax_kept_fen == PILLOW_TAX
    for _, rid in late:
        assert _kept(payments, rid) == 0  # the tax once, by the decision or the settlement
        decided = disputes.get_dispute(svc, rid).decision
        assert decided is not None and decided.tax_kept_fen == 0
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
