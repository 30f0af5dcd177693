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
