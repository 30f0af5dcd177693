"""The overdue-refund push's paying branch raced with retries and grading, checked in SQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_refund_money import (  # type: ignore[import-not-found]
    WH,
    _received,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.refund_timing import OverdueStage
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.services import refund_timing, refunds, returns, warehouse
from doorstep.services.refund_timing import OverduePush

PRICE = 39_900  # the pillow of ``_received``; its order has no coupon or reduction
EACH = 3  # overdue returns per stage


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _graded_refund_never_started(app: App, return_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Grade A through the warehouse's path, the process dying before the refund starts."""

    def dies(svc: Any, rid: str) -> Any:
        raise RuntimeError("the process died after the grade's commit")

    with monkeypatch.context() as patched:
        patched.setattr(warehouse, "start_standard_refund", dies)
        with pytest.raises(RuntimeError):
            warehouse.grade(app.services, WH, return_id, Grade.A, "as new")


def _rows(app: App, sql: str) -> list[tuple[Any, ...]]:
    with app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


# Overdue returns wait in the three stages a push meets: graded with no refund started,
# refunds pending with the provider, parcels not graded. Pushes on several workers pay the
# first two and escalate the rest while the retry sweep pays the pending ones and graders
# grade; the provider times out now and then, so some payments stay pending for later.
def test_pushes_raced_with_retries_and_grading_pay_each_overdue_refund_once(
    wired: App, clock: FixedClock, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = wired.services
    # One-hour SF windows of capacity 4: two visits at most in one.
    received = [_received(wired, hour=9 + i % 9) for i in range(3 * EACH + 2)]
    not_started, pending, ungraded, left = (
        received[:EACH],
        received[EACH : 2 * EACH],
        received[2 * EACH : 3 * EACH],
        received[3 * EACH :],  # not graded in the race: every push escalates them at once
    )
    for rid in not_started:
        _graded_refund_never_started(wired, rid, monkeypatch)
    for rid in pending:
        payments.fail_next = 1  # the grade's payment times out: the refund stays pending
        warehouse.grade(svc, WH, rid, Grade.A, "as new")
    assert payments.paid == {}
    clock.advance(days=9)
    stages = {o.return_id: o.stage for o in refund_timing.overdue_refunds(svc).shown}
    assert stages == (
        dict.fromkeys(not_started, OverdueStage.NOT_STARTED)
        | dict.fromkeys(pending, OverdueStage.PENDING)
        | dict.fromkeys(ungraded + left, OverdueStage.AWAITING_QC)
    )

    payments.fail_next = 2  # a few payments time out in the race: those stay pending
    calls: list[Callable[[], Any]] = [
        lambda rid=rid: warehouse.grade(svc, WH, rid, Grade.A, "as new")
        for rid in ungraded
        for _ in range(2)
    ]
    calls += [lambda: refunds.retry_pending_refunds(svc)] * 6
    calls += [lambda: refund_timing.push_overdue_refunds(svc)] * (RACERS - len(calls))
    out = race(calls)
    # A second grader of one parcel finds it graded; pushes and retries never raise.
    assert set(out.codes) <= {"illegal_transition"}, out.codes
    assert out.codes["illegal_transition"] <= len(ungraded), out.codes
    pushed = [p for p in out.won if isinstance(p, OverduePush)]
    # Only a push starts a refund that never started: its paying branch ran.
    assert sum(p.paid for p in pushed) >= 1, pushed

    # What the next sweeps pay of what timed out in the race.
    refunds.retry_pending_refunds(svc)
    refund_timing.push_overdue_refunds(svc)
    paid = not_started + pending + ungraded
    for rid in paid:
        assert returns.get_return(svc, rid).status is ReturnStatus.REFUNDED, rid
    still = refund_timing.overdue_refunds(svc).shown
    assert {(o.return_id, o.stage, o.flagged) for o in still} == {
        (rid, OverdueStage.AWAITING_QC, True) for rid in left
    }

    per_return = dict(_rows(wired, "SELECT return_id, COUNT(*) FROM refunds GROUP BY return_id"))
    assert per_return == dict.fromkeys(paid, 1)
    stored = {
        key: (amount, status)
        for key, amount, status in _rows(
            wired, "SELECT idempotency_key, amount_fen, status FROM refunds"
        )
    }
    # The provider paid each key once (its ledger keeps one payment per key), for the
    # refund's amount, and only the refunds' keys.
    assert {key: amount for key, (_ref, amount) in payments.paid.items()} == {
        key: amount for key, (amount, _status) in stored.items()
    }
    assert set(stored.values()) == {(PRICE, "succeeded")}
    assert {amount for _key, amount in payments.log} == {PRICE}
    # Refunded never above what was paid for the order (one unit, one refund).
    over = _rows(
        wired,
        "SELECT r.order_id, SUM(f.amount_fen) FROM refunds f JOIN returns r "
        "ON r.return_id = f.return_id GROUP BY r.order_id "
        f"HAVING SUM(f.amount_fen) > {PRICE}",
    )
    assert over == []
    escalated = _rows(
        wired,
        "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'return.refund_overdue' "
        "GROUP BY aggregate_id",
    )
    assert all(n == 1 for _rid, n in escalated), escalated
    assert set(left) <= {rid for rid, _n in escalated} <= set(received)
    assert violations(wired, payments) == []
