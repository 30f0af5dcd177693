"""A dearer exchange variant's import tax is collected with its difference and paid back with
it (RULES.md §2; docs/next.md, customs bullet), raced on SQLite and PostgreSQL.

Bonded orders of one lipstick, each exchanged for the dearer shade (its difference and the
tax on it collected at filing), self-shipped. Then, at once: each parcel's receipt (which
ships the replacement), the buyer's refund instead (twice) and withdrawal, and two exchange
sweeps. Whichever wins, the buyer paid the difference and its tax once: a shipped exchange
nets exactly that (``races.violations``, whose difference includes the tax), a released one
paid all of it back (``transfer_violations``). Losers: ``illegal_transition`` only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    LIP_2_PRICE,
    LIP_PRICE,
    LIP_TAX,
    dearer_exchanges,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.exchange import ExchangeStatus
from doorstep.services import exchanges, returns, transfers, warehouse

BUYER = "buyer-003"  # trust 600: the replacement ships at the warehouse's receipt
DIFFERENCE = LIP_2_PRICE - LIP_PRICE
OWED = DIFFERENCE + DIFFERENCE * LIP_TAX // LIP_PRICE  # 2,000 and 181 of tax
EXCHANGES = 6  # 4 racers each and 2 sweeps: 26 at once


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def test_a_dearer_variants_tax_is_collected_and_paid_back_with_its_difference(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    rids = dearer_exchanges(svc, EXCHANGES, tag="T", buyer=BUYER)
    calls: list[Any] = []
    for rid in rids:
        calls += [lambda r=rid: warehouse.receive(svc, BONDED_WH, r)]
        calls += [lambda r=rid: exchanges.refund_instead(svc, BUYER, r)] * 2
        calls += [lambda r=rid: returns.cancel_return(svc, BUYER, r, "changed_mind")]
    calls += [lambda: exchanges.advance_exchanges(svc)] * 2
    outcome = race(calls)
    assert set(outcome.codes) <= {"illegal_transition"}, outcome.codes
    transfers.retry_pending(svc)

    statuses = Counter(exchanges.get_exchange(svc, rid).status for rid in rids)
    assert set(statuses) <= {ExchangeStatus.SHIPPED, ExchangeStatus.RELEASED}, statuses
    for rid in rids:
        # The difference and its tax, collected once; all of it back if released.
        assert payments.collected[f"exchange-diff:{rid}"][1] == OWED
        back = payments.paid.get(f"exchange-diff-back:{rid}", ("", 0))[1]
        released = exchanges.get_exchange(svc, rid).status is ExchangeStatus.RELEASED
        assert back == (OWED if released else 0), (rid, back)
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
