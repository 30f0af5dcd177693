"""Overdue refunds (issue 9 §2): found for the dashboard and the API, pushed by the worker.

The worker's push pays what can be paid now (a graded return whose refund never started, a
refund still pending with the provider) and escalates the rest with a ``return.refund_overdue``
event, once per return, for ops to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.errors import Conflict
from doorstep.domain.policy import default_policy
from doorstep.domain.refund import RefundStatus
from doorstep.domain.refund_lead_time import LeadTimes
from doorstep.domain.refund_lead_time import lead_times as summarise_lead_times
from doorstep.domain.refund_timing import OWING, OverdueRefund, OverdueStage, overdue_refund
from doorstep.services import refunds
from doorstep.services.context import Services
from doorstep.services.refund_quotes import rule_or_default

# Received parcels whose money is still owed are a working set of days, not history.
_CAP = 5_000


def overdue_refunds(svc: Services) -> list[OverdueRefund]:
    """Every refund past its due time, the longest overdue first."""
    now = svc.clock.now()
    with svc.uow() as uow:
        policy = uow.policies.current() or default_policy(now)
        days = rule_or_default(policy, "refund_terms").param("refund_due_days")
        owing = [r for status in OWING for r in uow.returns.with_status(status.value, _CAP)]
        refunds_by_return = {
            f.return_id: f for f in uow.refunds.for_returns([r.return_id for r in owing])
        }
    found = [overdue_refund(r, refunds_by_return.get(r.return_id), now, days=days) for r in owing]
    return sorted((o for o in found if o is not None), key=lambda o: (o.due_by, o.return_id))


@dataclass(frozen=True)
class OverduePush:
    """What one push did: overdue found, paid now, escalated now."""

    overdue: int
    paid: int
    escalated: int


def push_overdue_refunds(svc: Services) -> OverduePush:
    """Pay what can be paid, escalate the rest once; safe to run from several workers."""
    overdue = overdue_refunds(svc)
    paid = escalated = 0
    for item in overdue:
        if _pay_now(svc, item):
            paid += 1
        elif not item.flagged and _escalate(svc, item):
            escalated += 1
    return OverduePush(len(overdue), paid, escalated)


def _pay_now(svc: Services, item: OverdueRefund) -> bool:
    try:
        if item.stage is OverdueStage.NOT_STARTED:
            refund = refunds.start_standard_refund(svc, item.return_id)
        elif item.stage is OverdueStage.PENDING and item.refund_id is not None:
            refund = refunds.pay_refund(svc, item.refund_id)
        else:
            return False
    except Conflict:
        return False  # changed under us: the next sweep looks again
    return refund.status is RefundStatus.SUCCEEDED


def _escalate(svc: Services, item: OverdueRefund) -> bool:
    with svc.uow() as uow:
        request = uow.returns.get_for_update(item.return_id)
        if request is None or not request.flag_refund_overdue(
            svc.clock.now(), item.due_by, item.stage.value
        ):
            return False
        uow.returns.save(request)
        uow.commit()
        return True


def lead_times(svc: Services, days: int = 30) -> LeadTimes:
    """How long buyers waited for money over the last ``days`` Shanghai days (request →
    money, pickup → money), overall and per day: one query, whatever the history."""
    now = svc.clock.now()
    start = datetime.combine(
        local(now).date() - timedelta(days=max(1, min(days, 366)) - 1), time(0), SHANGHAI
    )
    with svc.uow() as uow:
        paid = uow.refunds.paid_between(start, now + timedelta(seconds=1))
    return summarise_lead_times(paid)
