"""The State Council's holiday arrangements via the ``chinesecalendar`` package, with a
fixed-date fallback for years the package has no data for (it raises for those)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar

from doorstep.domain.calendar import DayInfo, DayKind, estimate_day


class ChineseHolidayCalendar:
    """Official data where published, an estimate (flagged) elsewhere."""

    def day(self, day: date) -> DayInfo:
        return _day(day)


@lru_cache(maxsize=4096)
def _day(day: date) -> DayInfo:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        workday = chinese_calendar.is_workday(day)
    except NotImplementedError:
        return estimate_day(day)
    label = str(name or "")
    if on_holiday and label:
        return DayInfo(day, DayKind.HOLIDAY, label)
    if workday and day.weekday() >= 5:
        return DayInfo(day, DayKind.MAKEUP_WORKDAY, label)
    if not workday:
        return DayInfo(day, DayKind.WEEKEND)
    return DayInfo(day, DayKind.WORKDAY)
