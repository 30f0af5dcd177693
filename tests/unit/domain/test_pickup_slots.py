"""Which pickup windows can be booked (RULES.md §4): horizon, 2-hour close, 17:00 cut-off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import GENERIC_TWO_HOUR, SF_ONE_HOUR, Window
from doorstep.domain.errors import Conflict, InvalidInput
from doorstep.domain.pickup import BookingRules, SlotRef, check_bookable, closes_at, open_slots

RULES = BookingRules()
TODAY = date(2025, 3, 20)


def at(hour: int, minute: int = 0, second: int = 0, day: date = TODAY) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHANGHAI)


def slot(day: date, start: int, end: int) -> SlotRef:
    return SlotRef("310104", "sf", day, Window(time(start), time(end)))


def slots_at(now: datetime, template=GENERIC_TWO_HOUR, rules=RULES) -> list[tuple[date, str]]:  # type: ignore[no-untyped-def]
    return [(s.day, s.window.label) for s in open_slots("310104", "sf", template, now, rules)]


D1, D2, D3 = TODAY + timedelta(days=1), TODAY + timedelta(days=2), TODAY + timedelta(days=3)
ALL_2H = ["09:00-11:00", "11:00-13:00", "13:00-15:00", "15:00-17:00", "17:00-19:00"]


def test_generic_template_has_the_five_two_hour_windows() -> None:
    assert [w.label for w in GENERIC_TWO_HOUR.windows] == ALL_2H


def test_at_eight_every_window_of_three_days_is_open() -> None:
    got = slots_at(at(8))
    assert got == [(d, w) for d in (TODAY, D1, D2) for w in ALL_2H]
    assert (D3, ALL_2H[0]) not in got


@pytest.mark.parametrize(
    ("now", "first_today"),
    [
        (at(9, 0), "09:00-11:00"),  # closes at 09:00 exactly: still bookable at 09:00
        (at(9, 0, 1), "11:00-13:00"),
        (at(9, 1), "11:00-13:00"),
        (at(11, 0), "11:00-13:00"),
        (at(11, 1), "13:00-15:00"),
        (at(15, 0), "15:00-17:00"),
        (at(16, 59, 59), "17:00-19:00"),
    ],
)
def test_windows_close_two_hours_before_their_end(now: datetime, first_today: str) -> None:
    today = [w for d, w in slots_at(now) if d == TODAY]
    assert today == ALL_2H[ALL_2H.index(first_today) :]


@pytest.mark.parametrize("now", [at(17, 0), at(17, 0, 1), at(20, 0), at(23, 59, 59)])
def test_from_17_only_next_days(now: datetime) -> None:
    assert slots_at(now) == [(d, w) for d in (D1, D2) for w in ALL_2H]


def test_now_in_another_timezone_is_read_on_the_shanghai_clock() -> None:
    # 2025-03-20 00:30 UTC is 08:30 in Shanghai: today's slots are all still open
    utc_now = datetime(2025, 3, 20, 0, 30, tzinfo=UTC)
    assert slots_at(utc_now)[0] == (TODAY, "09:00-11:00")
    # 09:30 UTC is 17:30 Shanghai: next day only
    assert slots_at(datetime(2025, 3, 20, 9, 30, tzinfo=UTC))[0] == (D1, "09:00-11:00")


def test_sf_one_hour_template() -> None:
    labels = [w.label for w in SF_ONE_HOUR.windows]
    assert labels[0] == "09:00-10:00" and labels[-1] == "21:00-22:00" and len(labels) == 13
    today = [w for d, w in slots_at(at(12, 30), SF_ONE_HOUR) if d == TODAY]
    assert today[0] == "14:00-15:00"  # 13–14 closed at 12:00, 14–15 closes at 13:00
    assert today[-1] == "21:00-22:00"
    assert [w for d, w in slots_at(at(17), SF_ONE_HOUR) if d == TODAY] == []


def test_booking_rules_are_settings() -> None:
    one_day = BookingRules(horizon_days=1)
    assert {d for d, _ in slots_at(at(8), rules=one_day)} == {TODAY}
    assert slots_at(at(18), rules=one_day) == []
    lax = BookingRules(close_before_end=timedelta(0), same_day_until=time(23, 0))
    assert [w for d, w in slots_at(at(18, 59), rules=lax) if d == TODAY] == ["17:00-19:00"]
    for bad in ({"horizon_days": 0}, {"horizon_days": 15}, {"close_before_end": timedelta(-1)}):
        with pytest.raises(ValueError):
            BookingRules(**bad)


@given(minute=st.integers(min_value=0, max_value=3 * 24 * 60 - 1))
def test_every_open_slot_is_in_horizon_and_not_closed(minute: int) -> None:
    now = at(0) + timedelta(minutes=minute)
    wall = now.astimezone(SHANGHAI)
    for s in open_slots("310104", "sf", GENERIC_TWO_HOUR, now, RULES):
        assert now <= closes_at(s, RULES)
        offset = (s.day - wall.date()).days
        assert 0 <= offset < RULES.horizon_days
        if wall.time() >= time(17):
            assert offset >= 1


def test_slot_ref_times_and_key() -> None:
    s = slot(TODAY, 9, 11)
    assert s.starts_at == at(9) and s.ends_at == at(11)
    assert closes_at(s, RULES) == at(9)
    assert s.key == "310104/sf/2025-03-20/09:00-11:00"


def test_check_bookable_accepts_open_slot() -> None:
    check_bookable(slot(TODAY, 11, 13), GENERIC_TWO_HOUR, at(10), RULES)
    check_bookable(slot(D2, 17, 19), GENERIC_TWO_HOUR, at(18), RULES)


@pytest.mark.parametrize(
    "bad",
    [
        slot(TODAY, 10, 12),
        slot(TODAY, 9, 10),
        SlotRef("310104", "sf", TODAY, Window(time(9), time(11, 30))),
    ],
)
def test_check_bookable_refuses_windows_not_in_template(bad: SlotRef) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_bookable(bad, GENERIC_TWO_HOUR, at(8), RULES)
    assert raised.value.code == "slot_not_in_template"


@pytest.mark.parametrize(
    ("s", "now"),
    [
        (slot(TODAY, 9, 11), at(9, 1)),
        (slot(TODAY, 17, 19), at(17, 0)),
        (slot(D3, 9, 11), at(8)),  # beyond the horizon
        (slot(TODAY - timedelta(days=1), 15, 17), at(8)),  # yesterday
    ],
)
def test_check_bookable_refuses_closed_slots(s: SlotRef, now: datetime) -> None:
    with pytest.raises(Conflict) as raised:
        check_bookable(s, GENERIC_TWO_HOUR, now, RULES)
    assert raised.value.code == "slot_closed"
    assert raised.value.details["slot"] == s.key
