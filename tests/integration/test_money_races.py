"""Clawbacks, claims and carrier charges raced by 24 units of work at once and with faults
injected at the payment port (timeout, failure, success reported twice, a crash between the
call and the commit), on SQLite and PostgreSQL; then the invariants in SQL
(tests/integration/races.py): exactly one clawback or compensation per purpose, nothing lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_races import (  # type: ignore[import-not-found]
    BUYER,
    SMALL,
    WH,
    _approved,
    _at_the_door,
    _each,
    _jpeg,
    _orders,
    _sf,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.claim import ClaimKind, ClaimStatus
from doorstep.domain.dispute import DisputeStatus
from doorstep.domain.refund import RefundKind, RefundStatus
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.domain.transfer import TransferStatus
from doorstep.services import claims, disputes, photos, returns, transfers, warehouse
from doorstep.services.claims import FileClaim
from doorstep.services.ports import PaymentResult

PRICE = 19_900  # under the express cap: paid at pickup to buyer-001 (trust 850)


class Crash(Exception):
    """The process died between the provider's answer and the commit."""


class FaultyPayments(RecordingPayments):
    """The local provider with faults queued per call: ``timeout`` (raises before moving),
    ``fail`` (declined for good), ``lost`` (moves, then the answer times out), ``crash``
    (moves, then the caller dies before committing)."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[str] = []
        self._faults_lock = threading.Lock()

    def _fault(self) -> str | None:
        with self._faults_lock:
            return self.faults.pop(0) if self.faults else None

    def _with_faults(self, move: Callable[[], PaymentResult]) -> PaymentResult:
        fault = self._fault()
        if fault == "timeout":
            raise TimeoutError("provider did not answer")
        if fault == "fail":
            return PaymentResult("", succeeded=False, retryable=False, reason="account_closed")
        result = move()
        if fault == "lost":
            raise TimeoutError("answer lost after the money moved")
        if fault == "crash":
            raise Crash
        return result

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        def move() -> PaymentResult:
            return super(FaultyPayments, self).clawback(
                idempotency_key, buyer_id, amount_fen, reference
            )

        return self._with_faults(move)

    def refund(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        if not idempotency_key.startswith("claim:"):
            return super().refund(idempotency_key, buyer_id, amount_fen, reference)

        def move() -> PaymentResult:
            return super(FaultyPayments, self).refund(
                idempotency_key, buyer_id, amount_fen, reference
            )

        return self._with_faults(move)


@pytest.fixture
def payments() -> FaultyPayments:
    return FaultyPayments()


def _clean(app: App, payments: RecordingPayments) -> None:
    assert violations(app, payments) == []


def _disputed_after_express(app: App, n: int) -> list[str]:
    """``n`` returns paid by express refund at pickup, received and failed QC."""
    svc = app.services
    rids = _approved(app, n, price=PRICE)
    for hour, rid in zip((10, 11, 12, 13, 14, 15), rids, strict=False):
        _at_the_door(app, rid, _sf(hour))()
    for rid in rids:
        [refund] = [r for r in _refunds(app, rid)]
        assert refund.kind is RefundKind.EXPRESS and refund.status is RefundStatus.SUCCEEDED
        warehouse.receive(svc, WH, rid)
        graded = warehouse.grade(svc, WH, rid, Grade.C, "scratched")
        assert graded.status is ReturnStatus.DISPUTED
    return rids


def _refunds(app: App, return_id: str) -> list[Any]:
    with app.services.uow() as uow:
        found = uow.refunds.by_key(f"refund:{return_id}")
    return [found] if found else []


def _decide(app: App, rid: str, *, buyer_upheld: bool = False) -> Callable[[], Any]:
    return lambda: disputes.decide_dispute(
        app.services, "ops-001", rid, buyer_upheld=buyer_upheld, note="raced"
    )


def test_reviewers_deciding_one_dispute_claw_back_once(
    wired: App, payments: FaultyPayments
) -> None:
    for rid in _disputed_after_express(wired, 3):
        out = race(_each(_decide(wired, rid), _decide(wired, rid, buyer_upheld=True)))
        assert len(out.won) == 1, out.codes
        assert set(out.codes) <= {"illegal_transition", "stale_write"}, out.codes
        [winner] = out.won
        if winner.dispute.status is DisputeStatus.QC_UPHELD:
            assert payments.clawed[f"clawback:{rid}"][1] == PRICE
        else:
            assert f"clawback:{rid}" not in payments.clawed
            assert returns.get_return(wired.services, rid).status is ReturnStatus.REFUNDED
    _clean(wired, payments)


def test_decision_and_retry_sweeps_together_claw_back_once(
    wired: App, payments: FaultyPayments
) -> None:
    svc = wired.services
    for rid in _disputed_after_express(wired, 2):
        payments.faults = ["timeout", "lost"]  # the first asks do not settle
        out = race(_each(_decide(wired, rid), lambda: transfers.retry_pending(svc)))
        assert sum(1 for w in out.won if not isinstance(w, int)) == 1, out.codes
        # What the worker does next: sweep until the provider's faults are spent (every
        # racing sweep may have run before the decision made the clawback, leaving "lost").
        for _ in range(len(payments.faults) + 1):
            transfers.retry_pending(svc)
        with svc.uow() as uow:
            clawback = uow.transfers.by_key(f"clawback:{rid}")
        assert clawback is not None and clawback.status is TransferStatus.SUCCEEDED
    assert len(payments.clawed) == 2
    _clean(wired, payments)


@pytest.mark.parametrize("fault", ["timeout", "fail", "lost", "crash", "twice"])
def test_faults_at_the_payment_port_move_a_clawback_once_and_lose_nothing(
    wired: App, payments: FaultyPayments, fault: str
) -> None:
    svc = wired.services
    [rid] = _disputed_after_express(wired, 1)
    if fault == "crash":
        payments.faults = ["crash"]
        with pytest.raises(Crash):
            _decide(wired, rid)()
    elif fault == "twice":
        _decide(wired, rid)()
        # The provider's success comes again (a retry and a duplicated answer, at once).
        with svc.uow() as uow:
            clawback = uow.transfers.by_key(f"clawback:{rid}")
        assert clawback is not None
        race(_each(lambda: transfers.pay_transfer(svc, clawback.transfer_id)))
    else:
        payments.faults = [fault]
        _decide(wired, rid)()
    # The decision is committed whatever the provider did; the sweep finishes the rest.
    with svc.uow() as uow:
        dispute = uow.disputes.get(f"D-{rid}")
        clawback = uow.transfers.by_key(f"clawback:{rid}")
    assert dispute is not None and dispute.status is DisputeStatus.QC_UPHELD
    assert clawback is not None
    race(_each(lambda: transfers.retry_pending(svc)))
    with svc.uow() as uow:
        settled = uow.transfers.by_key(f"clawback:{rid}")
    assert settled is not None
    if fault == "fail":
        assert settled.status is TransferStatus.FAILED and payments.clawed == {}
    else:
        assert settled.status is TransferStatus.SUCCEEDED
        assert payments.clawed[f"clawback:{rid}"][1] == PRICE and len(payments.clawed) == 1
    _clean(wired, payments)


def _claim_cmd(app: App, order_id: str, kind: ClaimKind) -> FileClaim:
    shot = photos.upload_photo(app.services, BUYER, _jpeg()).photo_id
    return FileClaim(BUYER, order_id, kind, (("L1", 1),), "crushed", (shot,))


def test_filing_one_claim_many_times_at_once_files_one(
    wired: App, payments: FaultyPayments
) -> None:
    for order in _orders(wired, 2):
        cmd = _claim_cmd(wired, order.order_id, ClaimKind.DAMAGE_ON_ARRIVAL)
        out = race(_each(lambda c=cmd: claims.file_claim(wired.services, c)))
        assert len(out.won) == 1 and set(out.codes) == {"claim_exists"}, out.codes
    _clean(wired, payments)


def test_merchant_answers_and_silence_sweeps_pay_a_claim_once(
    wired: App, payments: FaultyPayments, clock: FixedClock
) -> None:
    svc = wired.services
    orders = _orders(wired, 2)
    answered = claims.file_claim(
        svc, _claim_cmd(wired, orders[0].order_id, ClaimKind.DAMAGE_ON_ARRIVAL)
    )
    silent = claims.file_claim(
        svc, _claim_cmd(wired, orders[1].order_id, ClaimKind.DAMAGE_ON_ARRIVAL)
    )
    payments.faults = ["lost", "timeout"]
    out = race(
        _each(
            lambda: claims.answer_claim(
                svc, answered.claim_id, accept=True, text="sorry", shop_id=None
            ),
            lambda: claims.sweep_claims(svc),
        )
    )
    assert set(out.codes) <= {"illegal_transition", "stale_write"}, out.codes
    clock.advance(hours=25)  # the merchant said nothing about the second claim
    race(_each(lambda: claims.sweep_claims(svc)))
    claims.sweep_claims(svc)
    for claim in (answered, silent):
        assert claims.get_claim(svc, claim.claim_id).status is ClaimStatus.COMPENSATED
        assert payments.paid[f"claim:{claim.claim_id}"][1] == SMALL
    assert sum(1 for k in payments.paid if k.startswith("claim:")) == 2
    _clean(wired, payments)


def test_grading_transit_damage_at_once_charges_the_carrier_once(
    wired: App, payments: FaultyPayments
) -> None:
    svc = wired.services
    rids = _approved(wired, 2, price=400_000)  # above the express cap: refunded after QC
    for hour, rid in zip((10, 12), rids, strict=True):
        _at_the_door(wired, rid, _sf(hour))()
        warehouse.receive(svc, WH, rid)
        out = race(
            _each(
                lambda r=rid: warehouse.grade(svc, WH, r, Grade.C, "crushed", ("QC",), damaged=True)
            )
        )
        assert len(out.won) == 1  # grading needs a received parcel: one grade, once
        assert set(out.codes) <= {"illegal_transition", "stale_write"}, out.codes
        assert returns.get_return(svc, rid).status is ReturnStatus.REFUNDED
    settlement = claims.carrier_settlement(svc, "sf")
    assert len(settlement.entries) == 2
    assert settlement.total_fen == -2 * svc.refunds.claims.carrier_cap_fen
    _clean(wired, payments)


def test_counterfeit_decided_by_reviewers_at_once_pays_the_multiple_once(
    wired: App, payments: FaultyPayments, clock: FixedClock
) -> None:
    svc = wired.services
    [order] = _orders(wired, 1)
    claim = claims.file_claim(svc, _claim_cmd(wired, order.order_id, ClaimKind.COUNTERFEIT))
    clock.advance(hours=25)
    claims.sweep_claims(svc)  # silence sends a counterfeit claim to ops
    assert claims.get_claim(svc, claim.claim_id).status is ClaimStatus.IN_REVIEW
    payments.faults = ["lost"]  # the winner's payment answer is lost: the sweep settles it
    out = race(
        _each(
            lambda: claims.decide_claim(svc, "ops-001", claim.claim_id, approve=True, note="fake")
        )
    )
    assert len(out.won) == 1 and set(out.codes) <= {"illegal_transition", "stale_write"}
    claims.sweep_claims(svc)
    assert claims.get_claim(svc, claim.claim_id).status is ClaimStatus.COMPENSATED
    assert payments.paid[f"claim:{claim.claim_id}"][1] == SMALL * 4
    _clean(wired, payments)
