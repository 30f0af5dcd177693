"""How long buyers wait for their money (issue 9, dashboard): request → money and
pickup → money, as medians and 90th percentiles in hours, overall and per Shanghai day.

The figures are read from a tally, not from the refunds: each refund adds one to its
(pay day, kind, wait, bucket of 0.1 h) count when it is paid (``waits_of``), so a figure
reads a number of rows fixed by the days and the spread of waits, exact however many
refunds there are. A percentile of the buckets is the percentile of the waits rounded
(half up) to 0.1 h.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
    bucket_h: float = 0.1  # the resolution the waits are counted to (BUCKET, 6 minutes)


# The resolution of the tally: 0.1 h. A wait is counted in the bucket nearest to it.
BUCKET = timedelta(minutes=6)
# The two waits counted (WaitCount.measure).
REQUEST = "request"  # filing the return → money
PICKUP = "pickup"  # the courier taking the parcel → money


@dataclass(frozen=True)
class WaitCount:
    """``n`` refunds of ``kind`` paid on ``day`` (Shanghai) after a wait of ``measure``
    that rounds to ``bucket`` tenths of an hour."""

    day: date
    kind: str
    measure: str
    bucket: int
    n: int = 1


def bucket(start: datetime, end: datetime) -> int:
    """The wait from ``start`` to ``end`` in tenths of an hour, rounded half up (never
    negative), in integers so a tally and a recount agree to the microsecond."""
    micros = max(end - start, timedelta(0)) // timedelta(microseconds=1)
    step = BUCKET // timedelta(microseconds=1)
    return (micros + step // 2) // step


def waits_of(paid: PaidRefund) -> list[WaitCount]:
    """What one paid refund adds to the tally: its wait from filing, and from the pickup
    when there was one."""
    day = local(paid.paid_at).date()
    out = [WaitCount(day, paid.kind, REQUEST, bucket(paid.requested_at, paid.paid_at))]
    if paid.picked_up_at is not None:
        out.append(WaitCount(day, paid.kind, PICKUP, bucket(paid.picked_up_at, paid.paid_at)))
    return out


def _bucket_percentile(histogram: Counter[int], pct: int) -> float:
    """Nearest-rank percentile of a histogram of buckets, in hours."""
    total = sum(histogram.values())
    rank = max(1, -(-pct * total // 100))
    seen = 0
    for b in sorted(histogram):
        seen += histogram[b]
        if seen >= rank:
            return b / 10
    raise ValueError("empty histogram")  # pragma: no cover - callers check the count


def from_histogram(histogram: Counter[int]) -> LeadTime:
    """Median and 90th percentile of a histogram of waits (bucket → refunds)."""
    total = sum(histogram.values())
    if not total:
        return LeadTime(0, None, None)
    return LeadTime(total, _bucket_percentile(histogram, 50), _bucket_percentile(histogram, 90))


def lead_times_of(counts: Iterable[WaitCount]) -> LeadTimes:
    """Both waits over every count and per Shanghai day of payment, oldest day first."""
    overall: dict[str, Counter[int]] = {REQUEST: Counter(), PICKUP: Counter()}
    by_day: dict[date, dict[str, Counter[int]]] = defaultdict(
        lambda: {REQUEST: Counter(), PICKUP: Counter()}
    )
    for c in counts:
        overall[c.measure][c.bucket] += c.n
        by_day[c.day][c.measure][c.bucket] += c.n
    days = tuple(
        DayLeadTime(day, from_histogram(by_day[day][REQUEST]), from_histogram(by_day[day][PICKUP]))
        for day in sorted(by_day)
    )
    return LeadTimes(from_histogram(overall[REQUEST]), from_histogram(overall[PICKUP]), days)


def lead_times(paid: list[PaidRefund]) -> LeadTimes:
    """Both waits over these refunds and per Shanghai day of payment, as the tally of
    their waits would give them."""
    return lead_times_of(c for p in paid for c in waits_of(p))
