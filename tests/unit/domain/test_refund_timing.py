"""When a standard refund is overdue (issue 9 §2): 7 days after the warehouse received it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from doorstep.domain.clock import SHANGHAI, refund_due_by
from doorstep.domain.refund import Refund, RefundKind, RefundStatus
from doorstep.domain.refund_timing import OverdueStage, overdue_cutoff, overdue_refund, owed
from doorstep.domain.returns import Reason, ReturnKind, ReturnLine, ReturnRequest, ReturnStatus

RECEIVED = datetime(2026, 4, 1, 23, 30, tzinfo=SHANGHAI)
DUE = datetime(2026, 4, 8, 23, 59, 59, 999_999, tzinfo=SHANGHAI)


def received(status: ReturnStatus = ReturnStatus.RECEIVED, **kw: object) -> ReturnRequest:
    request = ReturnRequest(
        "R1", "B1", "O1", ReturnKind.REFUND, [ReturnLine("L1", "S", 1, Reason.NO_REASON)],
        RECEIVED - timedelta(days=5), status=status, received_at=RECEIVED,
    )  # fmt: skip
    return replace(request, **kw)  # type: ignore[arg-type]


def refund(status: RefundStatus) -> Refund:
    made = Refund.request("F1", "R1", "B1", RefundKind.STANDARD, 100, 0, RECEIVED)
    return replace(made, status=status)


def test_due_at_the_end_of_the_seventh_day_after_receipt() -> None:
    assert refund_due_by(RECEIVED, 7) == DUE
    assert overdue_refund(received(), None, DUE, days=7) is None
    late = overdue_refund(received(), None, DUE + timedelta(microseconds=1), days=7)
    assert late is not None and late.due_by == DUE and late.days_late == 1
    assert late.stage is OverdueStage.AWAITING_QC and not late.flagged
    much_later = overdue_refund(received(), None, DUE + timedelta(days=3), days=7)
    assert much_later is not None and much_later.days_late == 3


@pytest.mark.parametrize(
    ("status", "found", "stage"),
    [
        (ReturnStatus.INSPECTED, None, OverdueStage.NOT_STARTED),
        (ReturnStatus.INSPECTED, RefundStatus.PENDING, OverdueStage.PENDING),
        (ReturnStatus.INSPECTED, RefundStatus.FAILED, OverdueStage.FAILED),
        (ReturnStatus.RECEIVED, RefundStatus.PENDING, OverdueStage.PENDING),
    ],
)
def test_where_an_overdue_refund_is_stuck(
    status: ReturnStatus, found: RefundStatus | None, stage: OverdueStage
) -> None:
    late = overdue_refund(
        received(status), refund(found) if found else None, DUE + timedelta(hours=1), days=7
    )
    assert late is not None and late.stage is stage
    assert late.refund_id == ("F1" if found else None)


@pytest.mark.parametrize(
    "request_",
    [
        received(ReturnStatus.REFUNDED),
        received(ReturnStatus.DISPUTED),
        received(kind=ReturnKind.EXCHANGE, status=ReturnStatus.INSPECTED),
        received(received_at=None, status=ReturnStatus.IN_TRANSIT),
    ],
    ids=["refunded", "disputed", "exchange", "not_received"],
)
def test_nothing_owed_is_never_overdue(request_: ReturnRequest) -> None:
    assert overdue_refund(request_, None, DUE + timedelta(days=30), days=7) is None


def test_paid_express_refund_is_not_overdue() -> None:
    paid = refund(RefundStatus.SUCCEEDED)
    assert overdue_refund(received(), paid, DUE + timedelta(days=1), days=7) is None


def test_escalated_once() -> None:
    request = received()
    assert request.flag_refund_overdue(DUE + timedelta(hours=1), DUE, "awaiting_qc")
    assert not request.flag_refund_overdue(DUE + timedelta(hours=2), DUE, "awaiting_qc")
    assert [e.name for e in request.take_events()] == ["return.refund_overdue"]
    late = overdue_refund(request, None, DUE + timedelta(hours=3), days=7)
    assert late is not None and late.flagged


@pytest.mark.parametrize("days", [1, 7, 15])
def test_the_receipt_cutoff_agrees_with_the_due_time(days: int) -> None:
    """``received < overdue_cutoff(now)`` is ``now > refund_due_by(received)``: checked on
    receipt times every 17 minutes over four days against moments around midnight."""
    start = datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI)
    receipts = [start + timedelta(minutes=17 * i) for i in range(4 * 24 * 60 // 17)]
    for now in (
        DUE,
        DUE + timedelta(microseconds=1),
        datetime(2026, 4, 12, 12, 0, tzinfo=SHANGHAI),
        datetime(2026, 4, 5, 16, 0, 1, tzinfo=UTC),  # 00:00:01 in Shanghai
    ):
        cutoff = overdue_cutoff(now, days)
        for at in receipts:
            assert (at < cutoff) == (now > refund_due_by(at, days)), (now, at)


def test_only_received_refunds_that_still_owe_are_owed() -> None:
    assert owed(received()) and owed(received(ReturnStatus.INSPECTED))
    assert not owed(received(kind=ReturnKind.EXCHANGE))
    assert not owed(received(ReturnStatus.REFUNDED))
    assert not owed(received(received_at=None))
