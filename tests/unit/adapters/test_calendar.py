"""The statutory calendar: official data where the package has it, a flagged estimate elsewhere."""

from __future__ import annotations

from datetime import date

import pytest

from doorstep.adapters.calendar import ChineseHolidayCalendar
from doorstep.domain.calendar import DayKind, capacity_pct, estimate_day

CAL = ChineseHolidayCalendar()


@pytest.mark.parametrize(
    ("day", "kind", "estimated"),
    [
        (date(2026, 10, 1), DayKind.HOLIDAY, False),  # National Day
        (date(2026, 10, 10), DayKind.MAKEUP_WORKDAY, False),  # a Saturday worked (调休)
        (date(2026, 2, 14), DayKind.MAKEUP_WORKDAY, False),  # before Spring Festival
        (date(2026, 11, 28), DayKind.WEEKEND, False),
        (date(2026, 11, 25), DayKind.WORKDAY, False),
        (date(2030, 1, 1), DayKind.HOLIDAY, True),  # no official data yet: estimated
        (date(2030, 1, 5), DayKind.WEEKEND, True),
        (date(2030, 1, 7), DayKind.WORKDAY, True),
    ],
)
def test_day_kinds(day: date, kind: DayKind, estimated: bool) -> None:
    info = CAL.day(day)
    assert (info.kind, info.estimated) == (kind, estimated)


def test_holiday_capacity_share() -> None:
    assert capacity_pct(CAL.day(date(2026, 10, 1)), 40) == 40
    assert capacity_pct(CAL.day(date(2026, 10, 10)), 40) == 100
    assert capacity_pct(estimate_day(date(2031, 5, 1)), 0) == 0
