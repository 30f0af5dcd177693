"""``routing.today_needs_plan``: today's carrier-day is re-planned before its couriers' day
begins (the earliest shift start among couriers whose shift is not over), and after that only
with a visit off every route."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.fleet import Courier
from doorstep.services.routing import today_needs_plan

DAY = datetime(2026, 11, 26, tzinfo=SHANGHAI).date()


def _courier(name: str, start: time, end: time) -> Courier:
    return Courier(name, name, "13800000000", "yto", "310116", 30.7, 121.3, start, end)


MORNING = _courier("m", time(9), time(19))
LATE = _courier("l", time(14), time(22))
NIGHT = _courier("n", time(0), time(6))  # or the simulator's off-duty entries, 00:00-00:01


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("fleet", "at", "expected"),
    [
        ([MORNING, LATE], _at(8, 59), True),  # the morning plan
        ([MORNING, LATE], _at(9), False),  # the first shift started
        ([MORNING, LATE], _at(15), False),
        ([MORNING, LATE], _at(23), False),  # every shift over: nothing to plan
        ([NIGHT, MORNING], _at(7), True),  # the night shift is over, the day's is to come
        ([NIGHT, MORNING], _at(5), False),  # the night shift drives its route
        ([LATE], _at(13), True),
        ([], _at(7), False),  # nobody to plan for (a company's own couriers)
    ],
)
def test_a_day_with_every_visit_on_a_route(
    fleet: list[Courier], at: datetime, expected: bool
) -> None:
    assert today_needs_plan(fleet, at, astray=False) is expected


@pytest.mark.parametrize("at", [_at(7), _at(12), _at(23)])
def test_a_day_with_a_visit_off_every_route_is_always_planned(at: datetime) -> None:
    assert today_needs_plan([MORNING, LATE], at, astray=True)
    assert today_needs_plan([], at, astray=True)


def test_the_wall_clock_is_shanghai_s() -> None:
    """08:30 in Shanghai is 00:30 UTC: before a 09:00 shift, whatever zone ``now`` is in."""
    from datetime import UTC

    assert today_needs_plan([MORNING], _at(8, 30).astimezone(UTC), astray=False)
    assert not today_needs_plan([MORNING], _at(9, 30).astimezone(UTC), astray=False)
