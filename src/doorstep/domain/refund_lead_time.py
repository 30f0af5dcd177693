"""How long buyers wait for their money (issue 9, dashboard): request → money and
pickup → money, as medians and 90th percentiles in hours, overall and per Shanghai day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from doorstep.domain.clock import local


@dataclass(frozen=True)
class PaidRefund:
    """One refund paid: when the return was filed, picked up (None: no pickup, e.g. a
    refund-only request or a drop-off) and paid."""

    requested_at: datetime
    picked_up_at: datetime | None
    paid_at: datetime
    kind: str = "standard"  # RefundKind's value: express (at the door) or standard


@dataclass(frozen=True)
class LeadTime:
    count: int
    p50_h: float | None
    p90_h: float | None


@dataclass(frozen=True)
class DayLeadTime:
    day: date
    request_to_money: LeadTime
    pickup_to_money: LeadTime


@dataclass(frozen=True)
class LeadTimes:
    request_to_money: LeadTime
    pickup_to_money: LeadTime
    days: tuple[DayLeadTime, ...]
    # More refunds were paid in the period than one read takes: the figures cover only the
    # most recent ones, paid from ``covers_from`` on (the earlier days are left out, and that
    # day itself is partial). None: every refund of the period is counted.
    covers_from: datetime | None = None


def _percentile(sorted_hours: list[float], pct: int) -> float:
    """Nearest-rank percentile: the value at rank ceil(pct/100 * n)."""
    rank = max(1, -(-pct * len(sorted_hours) // 100))
    return sorted_hours[rank - 1]


def lead_time(hours: list[float]) -> LeadTime:
    """Median and 90th percentile of waits in hours (None without data)."""
    if not hours:
        return LeadTime(0, None, None)
    ordered = sorted(hours)
    return LeadTime(
        len(ordered), round(_percentile(ordered, 50), 1), round(_percentile(ordered, 90), 1)
    )


def _hours(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 3600)


def lead_times(paid: list[PaidRefund], covers_from: datetime | None = None) -> LeadTimes:
    """Both waits over all refunds and per Shanghai day of payment, oldest day first;
    ``covers_from`` says the refunds given are only those paid from then on."""
    by_day: dict[date, list[PaidRefund]] = defaultdict(list)
    for refund in paid:
        by_day[local(refund.paid_at).date()].append(refund)

    def summary(items: list[PaidRefund]) -> tuple[LeadTime, LeadTime]:
        return (
            lead_time([_hours(r.requested_at, r.paid_at) for r in items]),
            lead_time([_hours(r.picked_up_at, r.paid_at) for r in items if r.picked_up_at]),
        )

    overall = summary(paid)
    days = tuple(DayLeadTime(day, *summary(by_day[day])) for day in sorted(by_day))
    return LeadTimes(overall[0], overall[1], days, covers_from)
