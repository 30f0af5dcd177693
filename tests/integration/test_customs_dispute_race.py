"""Customs taking advanced import tax back, against a dispute's decision and against a crash,
on SQLite and PostgreSQL (docs/next.md, customs bullet).

- A dispute's decision (QC upheld: the express refund taken back) and customs' rejection of
  the same return's declaration (its advanced tax taken back) at the same instant: both lock
  the return first (refunds' order: the return, then the order), so the second sees the
  first's clawback and together they never take back more than the refund paid (SQL:
  ``races.violations``, "taken back more than the refund paid").
- A crash between the tax clawback and the return's re-quote without the tax: they are one
  transaction, so either both happened or neither did, and the sweep's next declaration
  does both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    PILLOW_PRICE,
    PILLOW_TAX,
    in_transit,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.adapters.customs.local import LocalCustomsBroker
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.returns import Grade, ReturnRequest, ReturnStatus
from doorstep.services import customs, disputes, refunds, returns, transfers, warehouse


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _clawed(payments: RecordingPayments, return_id: str) -> int:
    return sum(
        payments.clawed.get(f"{prefix}:{return_id}", ("", 0))[1]
        for prefix in ("clawback", "tax-clawback")
    )


def test_dispute_decisions_raced_with_customs_rejection_take_back_the_refund_once(
    wired: App, payments: RecordingPayments
) -> None:
    broker = LocalCustomsBroker("pending")
    svc = replace(wired.services, customs_broker=broker)
    pairs = in_transit(svc, RACERS // 2, released_days_ago=5)
    for cr_id, return_id in pairs:
        paid = refunds.start_express_refund(svc, return_id)
        assert paid is not None and paid.tax_fen == PILLOW_TAX  # advanced at pickup
        assert customs.declare(svc, cr_id).status is CustomsStatus.SUBMITTED
        warehouse.receive(svc, BONDED_WH, return_id)
        graded = warehouse.grade(svc, BONDED_WH, return_id, Grade.C, "scratched")
        assert graded.status is ReturnStatus.DISPUTED
    broker.mode = "reject"

    calls: list[Any] = [lambda c=c: customs.poll(svc, c) for c, _ in pairs]
    calls += [
        lambda r=r: disputes.decide_dispute(svc, "ops-001", r, buyer_upheld=False, note="raced")
        for _, r in pairs
    ]
    outcome = race(calls)
    # Queued on the return's row, each sees what the other did: nobody loses.
    assert not outcome.codes, outcome.codes
    assert len(outcome.won) == len(calls)
    transfers.retry_pending(svc)

    assert violations(wired, payments) == []
    for _, return_id in pairs:
        # The buyer lost the dispute: what was advanced is taken back, once, never more.
        assert _clawed(payments, return_id) == PILLOW_PRICE + PILLOW_TAX
        # The quote says the tax is gone exactly when it was taken back (a decision first
        # took it all: nothing was left for customs to take).
        request = returns.get_return(svc, return_id)
        assert request.quote is not None
        taxed_back = f"tax-clawback:{return_id}" in payments.clawed
        assert (request.quote.tax_fen == 0) is taxed_back


class Crash(Exception):
    """The process dying between two steps (injected)."""


def test_a_crash_before_the_requote_leaves_nothing_half_done(
    wired: App, clock: FixedClock, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = replace(wired.services, customs_broker=LocalCustomsBroker())
    [(cr_id, return_id)] = in_transit(svc, 1, released_days_ago=27)
    paid = refunds.start_express_refund(svc, return_id)
    assert paid is not None and paid.tax_fen == PILLOW_TAX
    clock.advance(days=4)  # day 31: nobody declared it in time, the tax is taken back

    def crash(self: ReturnRequest, *args: Any, **kwargs: Any) -> None:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(ReturnRequest, "set_quote", crash)
        with pytest.raises(Crash):
            customs.declare(svc, cr_id)

    with svc.uow() as uow:  # neither the clawback nor the lapse without the re-quote
        assert uow.transfers.by_key(f"tax-clawback:{return_id}") is None
        lapsed = uow.customs.get(cr_id)
        assert lapsed is not None and lapsed.status is CustomsStatus.OPEN
    request = returns.get_return(svc, return_id)
    assert request.quote is not None and request.quote.tax_fen == PILLOW_TAX

    customs.declare(svc, cr_id)  # the sweep's next pass
    transfers.retry_pending(svc)
    assert payments.clawed[f"tax-clawback:{return_id}"][1] == PILLOW_TAX
    request = returns.get_return(svc, return_id)
    assert request.quote is not None and request.quote.tax_fen == 0
    assert violations(wired, payments) == []
