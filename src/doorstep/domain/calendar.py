"""Working days for pickup calendars: statutory holidays and make-up working days (调休)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol


class DayKind(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # statutory holiday (法定节假日), including its bridged days
    MAKEUP_WORKDAY = "makeup_workday"  # a weekend day worked to bridge a holiday (调休上班)


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: DayKind
    name: str = ""
    # True when the calendar had no official data for the year and guessed from fixed dates;
    # ops see it so they can declare the real arrangement when the State Council publishes it.
    estimated: bool = False


class HolidayCalendar(Protocol):
    """Says what kind of day a date is in mainland China."""

    def day(self, day: date) -> DayInfo: ...


# Fixed-date statutory holidays used when no official data exists for a year. Lunar holidays
# (Spring Festival, Qingming, Dragon Boat, Mid-Autumn) move every year and are not guessed.
FIXED_HOLIDAYS: dict[tuple[int, int], str] = {
    (1, 1): "New Year's Day",
    (5, 1): "Labour Day",
    (10, 1): "National Day",
    (10, 2): "National Day",
    (10, 3): "National Day",
}


def estimate_day(day: date) -> DayInfo:
    """The fallback: fixed-date holidays and weekends, marked as estimated."""
    name = FIXED_HOLIDAYS.get((day.month, day.day))
    if name:
        return DayInfo(day, DayKind.HOLIDAY, name, estimated=True)
    kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY
    return DayInfo(day, kind, estimated=True)


def capacity_pct(info: DayInfo, holiday_pct: int) -> int:
    """Share of a template's capacity that runs on this day."""
    return holiday_pct if info.kind is DayKind.HOLIDAY else 100
