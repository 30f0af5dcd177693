"""Time rules: every rule about days and deadlines is reckoned in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(moment: datetime) -> datetime:
    """The same instant on the Shanghai wall clock; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: doorstep only handles timezone-aware times")
    return moment.astimezone(SHANGHAI)


def end_of_day(day: date) -> datetime:
    """23:59:59.999999 of a Shanghai calendar day."""
    return datetime.combine(day, time.max, tzinfo=SHANGHAI)


def start_of_day(day: date) -> datetime:
    """00:00 of a Shanghai calendar day."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def day_after(moment: datetime, days: int) -> date:
    """The Shanghai calendar date ``days`` after the day of ``moment``."""
    return local(moment).date() + timedelta(days=days)


def return_deadline(signed_at: datetime, days: int) -> datetime:
    """Last moment of a return window of ``days`` counted from the day after signing.

    The Interim Measures start the clock on 签收次日 and end it at 23:59 of the last day, so
    a parcel signed for at 23:59 on 1 March may be returned until the end of 8 March.
    """
    return end_of_day(day_after(signed_at, days))


def customs_deadline(released_at: datetime, days: int) -> datetime:
    """End of the ``days``-th day after customs release (announcement 2020 No. 45)."""
    return end_of_day(day_after(released_at, days))


def refund_due_by(received_at: datetime, days: int) -> datetime:
    """When a standard refund is due: the seller refunds within ``days`` (7 by the Interim
    Measures) of receiving the returned goods, counted like the return window."""
    return end_of_day(day_after(received_at, days))
