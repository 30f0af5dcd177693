"""Refund timing (issue 9 §2): the seller refunds within 7 days of receiving the parcel.

A standard refund is due by the end of the ``days``-th Shanghai day after the warehouse
received the returned goods (RULES.md §1). Until the money has gone back, a return that
passed that moment is overdue, whatever holds it: the parcel not graded yet, the refund not
started, still pending with the provider, or failed. A return disputed after QC owes nothing
until the dispute is decided, and an exchange owes no money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from doorstep.domain.clock import local, refund_due_by, start_of_day
from doorstep.domain.refund import Refund, RefundStatus
from doorstep.domain.returns import ReturnKind, ReturnRequest, ReturnStatus


class OverdueStage(StrEnum):
    """Where an overdue refund is stuck."""

    AWAITING_QC = "awaiting_qc"  # received, not graded
    NOT_STARTED = "not_started"  # graded, no refund created
    PENDING = "pending"  # the provider has not confirmed yet
    FAILED = "failed"  # the provider refused for good: ops must act


@dataclass(frozen=True)
class OverdueRefund:
    return_id: str
    order_id: str
    buyer_id: str
    received_at: datetime
    due_by: datetime
    days_late: int  # Shanghai calendar days after the due day
    stage: OverdueStage
    refund_id: str | None
    flagged: bool  # already escalated with a ``return.refund_overdue`` event


# The states in which a received parcel's money is still owed.
OWING = (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED)


def overdue_refund(
    request: ReturnRequest, refund: Refund | None, now: datetime, *, days: int
) -> OverdueRefund | None:
    """The return's refund if it is overdue at ``now``, else None."""
    if (
        request.kind is ReturnKind.EXCHANGE
        or request.received_at is None
        or request.status not in OWING
        or (refund is not None and refund.status is RefundStatus.SUCCEEDED)
    ):
        return None
    due = refund_due_by(request.received_at, days)
    if now <= due:
        return None
    if request.status is ReturnStatus.RECEIVED and refund is None:
        stage = OverdueStage.AWAITING_QC
    elif refund is None:
        stage = OverdueStage.NOT_STARTED
    elif refund.status is RefundStatus.FAILED:
        stage = OverdueStage.FAILED
    else:
        stage = OverdueStage.PENDING
    return OverdueRefund(
        request.return_id,
        request.order_id,
        request.buyer_id,
        request.received_at,
        due,
        (local(now).date() - local(due).date()).days,
        stage,
        refund.refund_id if refund else None,
        request.refund_overdue_at is not None,
    )


def owed(request: ReturnRequest) -> bool:
    """Whether the return may owe a standard refund now (received, not paid back, not an
    exchange); stored beside it so overdue ones are found by an index."""
    return (
        request.kind is not ReturnKind.EXCHANGE
        and request.received_at is not None
        and request.status in OWING
    )


def overdue_cutoff(now: datetime, days: int) -> datetime:
    """Returns received before this moment are overdue at ``now`` (due by the end of the
    ``days``-th Shanghai day after receipt), later ones are not: ``received < cutoff`` is
    ``now > refund_due_by(received, days)``, so the query can use the receipt time alone."""
    return start_of_day(local(now).date() - timedelta(days=days))
