"""Overdue refunds (issue 9 §2): found for the dashboard and the API, pushed by the worker.

The worker's push pays what can be paid now (a graded return whose refund never started, a
refund still pending with the provider) and escalates the rest with a ``return.refund_overdue``
event, once per return, for ops to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from doorstep.domain.clock import local
from doorstep.domain.errors import Conflict
from doorstep.domain.policy import default_policy
from doorstep.domain.refund import RefundStatus
from doorstep.domain.refund_lead_time import LeadTimes, lead_times_of
from doorstep.domain.refund_timing import (
    OverdueRefund,
    OverdueStage,
    overdue_cutoff,
    overdue_refund,
)
from doorstep.services import refunds
from doorstep.services.context import Services
from doorstep.services.ports import UnitOfWork
from doorstep.services.refund_quotes import rule_or_default

# How many overdue refunds one read loads: the dashboard and the API show the first ones and
# the count; the worker's push pages through all of them by (received_at, return_id).
PAGE = 500


@dataclass(frozen=True)
class OverdueRefunds:
    """The longest overdue refunds (up to the limit asked) and how many are overdue in all."""

    shown: list[OverdueRefund]
    total: int


def overdue_refunds(svc: Services, limit: int = 100) -> OverdueRefunds:
    """The ``limit`` longest overdue refunds (oldest receipt first) and the count of all:
    the policy, two indexed reads and the refunds of those shown, whatever the number owed."""
    now = svc.clock.now()
    with svc.uow() as uow:
        shown, _, cutoff = _page(uow, now, None, limit)
        total = uow.returns.count_owed_before(cutoff)
    return OverdueRefunds(shown, total)


Key = tuple[datetime, str]  # (received_at, return_id): the order overdue refunds are read in


def _page(
    uow: UnitOfWork, now: datetime, after: Key | None, limit: int
) -> tuple[list[OverdueRefund], Key | None, datetime]:
    """One page of overdue refunds after the key ``after``, the key to read the next page
    after (None on the last page) and the receipt cutoff used."""
    policy = uow.policies.current() or default_policy(now)
    days = int(rule_or_default(policy, "refund_terms").param("refund_due_days"))
    cutoff = overdue_cutoff(now, days)
    owing = uow.returns.owed_before(cutoff, after, limit)
    refunds_by_return = {
        f.return_id: f for f in uow.refunds.for_returns([r.return_id for r in owing])
    }
    found = [overdue_refund(r, refunds_by_return.get(r.return_id), now, days=days) for r in owing]
    following = None
    if len(owing) == limit:
        received = owing[-1].received_at
        assert received is not None  # owed_before finds received returns only
        following = (received, owing[-1].return_id)
    # None: no longer owed (its refund succeeded a moment ago, between two writes).
    return [o for o in found if o is not None], following, cutoff


@dataclass(frozen=True)
class OverduePush:
    """What one push did: overdue found, paid now, escalated now."""

    overdue: int
    paid: int
    escalated: int


def push_overdue_refunds(svc: Services, batch: int = PAGE) -> OverduePush:
    """Pay what can be paid, escalate the rest once, page by page until every overdue
    refund was seen; safe to run from several workers."""
    now = svc.clock.now()
    found = paid = escalated = 0
    after: Key | None = None
    while True:
        with svc.uow() as uow:
            items, after, _ = _page(uow, now, after, batch)
        # Keyset paging: a return paid meanwhile leaves the set without moving the key.
        for item in items:
            found += 1
            if _pay_now(svc, item):
                paid += 1
            elif not item.flagged and _escalate(svc, item):
                escalated += 1
        if after is None:
            return OverduePush(found, paid, escalated)


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
    money, pickup → money), overall and per day, to 0.1 h: one read of the tally of waits,
    exact however many refunds were paid."""
    today = local(svc.clock.now()).date()
    first = today - timedelta(days=max(1, min(days, 366)) - 1)
    with svc.uow() as uow:
        return lead_times_of(uow.refunds.waits(first, today))
