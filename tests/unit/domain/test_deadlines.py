"""Return and customs windows: end of the n-th Shanghai calendar day after the start day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from doorstep.domain.audit import customs_deadline, return_deadline
from doorstep.domain.clock import SHANGHAI, day_after, end_of_day, local, start_of_day

US = timedelta(microseconds=1)
ZONES = (
    UTC,
    SHANGHAI,
    ZoneInfo("America/New_York"),
    ZoneInfo("Europe/London"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),
    ZoneInfo("Pacific/Kiritimati"),  # UTC+14
    ZoneInfo("Pacific/Pago_Pago"),  # UTC-11
    timezone(timedelta(hours=-3, minutes=-30)),
)
instants = st.builds(
    lambda moment, tz: moment.replace(tzinfo=UTC).astimezone(tz),
    st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2035, 12, 31, 23, 59, 59, 999_999),  # noqa: DTZ001
    ),
    st.sampled_from(ZONES),
)
day_counts = st.integers(min_value=1, max_value=120)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def last_moment(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, 999_999, tzinfo=SHANGHAI)


RETURN_EXAMPLES = [
    # (signed at, days, deadline)
    (sh(2025, 3, 1, 23, 59, 59), 7, last_moment(2025, 3, 8)),
    (sh(2025, 3, 2, 0, 0, 0), 7, last_moment(2025, 3, 9)),
    (sh(2025, 3, 1, 0, 0, 0), 7, last_moment(2025, 3, 8)),
    (utc(2025, 3, 1, 15, 59, 59), 7, last_moment(2025, 3, 8)),  # 23:59:59 Shanghai
    (utc(2025, 3, 1, 16, 0, 0), 7, last_moment(2025, 3, 9)),  # next Shanghai day
    (utc(2025, 3, 1, 23, 0, 0), 7, last_moment(2025, 3, 9)),
    (datetime(2025, 3, 1, 11, 30, tzinfo=ZoneInfo("America/New_York")), 7, last_moment(2025, 3, 9)),
    (sh(2025, 1, 31, 10, 0), 7, last_moment(2025, 2, 7)),
    (sh(2025, 1, 25, 10, 0), 7, last_moment(2025, 2, 1)),
    (sh(2024, 2, 28, 10, 0), 7, last_moment(2024, 3, 6)),  # leap year: Feb 29 counts
    (sh(2025, 2, 28, 10, 0), 7, last_moment(2025, 3, 7)),
    (sh(2024, 2, 29, 10, 0), 7, last_moment(2024, 3, 7)),
    (sh(2024, 2, 22, 10, 0), 7, last_moment(2024, 2, 29)),
    (sh(2025, 12, 25, 10, 0), 7, last_moment(2026, 1, 1)),
    (sh(2025, 12, 31, 23, 59, 59), 7, last_moment(2026, 1, 7)),
    (utc(2025, 12, 31, 16, 0, 0), 7, last_moment(2026, 1, 8)),
    (sh(2035, 12, 28, 8, 0), 7, last_moment(2036, 1, 4)),
    (sh(2025, 3, 1, 12, 0), 15, last_moment(2025, 3, 16)),
    (sh(2025, 3, 1, 12, 0), 60, last_moment(2025, 4, 30)),
]


@pytest.mark.parametrize(("signed", "days", "expected"), RETURN_EXAMPLES)
def test_return_deadline_examples(signed: datetime, days: int, expected: datetime) -> None:
    deadline = return_deadline(signed, days)
    assert deadline == expected
    assert deadline.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("released", "days", "expected"),
    [
        (sh(2025, 1, 31, 10, 0), 30, last_moment(2025, 3, 2)),
        (sh(2024, 1, 31, 10, 0), 30, last_moment(2024, 3, 1)),
        (utc(2024, 1, 31, 16, 30), 30, last_moment(2024, 3, 2)),  # Feb 1 in Shanghai
        (sh(2025, 12, 20, 23, 59, 59), 45, last_moment(2026, 2, 3)),
        (sh(2025, 12, 31, 0, 0), 38, last_moment(2026, 2, 7)),
    ],
)
def test_customs_deadline_examples(released: datetime, days: int, expected: datetime) -> None:
    assert customs_deadline(released, days) == expected


@pytest.mark.parametrize("deadline_fn", [return_deadline, customs_deadline])
@given(start=instants, days=day_counts)
@example(start=sh(2025, 3, 1, 23, 59, 59, 999_999), days=7)
@example(start=sh(2025, 3, 2, 0, 0), days=7)
@example(start=utc(2024, 2, 28, 16, 0), days=7)
@example(start=utc(2025, 12, 31, 15, 59, 59), days=1)
def test_deadline_is_end_of_the_nth_shanghai_day(deadline_fn, start: datetime, days: int) -> None:  # type: ignore[no-untyped-def]
    deadline = deadline_fn(start, days)
    start_day = start.astimezone(SHANGHAI).date()
    wall = deadline.astimezone(SHANGHAI)
    assert deadline > start
    assert (wall.date() - start_day).days == days
    assert wall.time() == time.max
    # one microsecond later is already the next Shanghai day: outside the window
    after = (deadline + US).astimezone(SHANGHAI)
    assert after.time() == time.min
    assert (after.date() - start_day).days == days + 1


@pytest.mark.parametrize("deadline_fn", [return_deadline, customs_deadline])
@given(a=instants, b=instants, days=day_counts)
def test_deadline_is_monotone_in_the_start(
    deadline_fn, a: datetime, b: datetime, days: int
) -> None:  # type: ignore[no-untyped-def]
    early, late = sorted((a, b))
    assert deadline_fn(early, days) <= deadline_fn(late, days)


@given(start=instants, days=st.integers(min_value=1, max_value=119))
def test_longer_windows_end_later(start: datetime, days: int) -> None:
    assert return_deadline(start, days) < return_deadline(start, days + 1)
    assert return_deadline(start, days + 1) - return_deadline(start, days) == timedelta(days=1)


@pytest.mark.parametrize("deadline_fn", [return_deadline, customs_deadline])
def test_naive_start_is_refused(deadline_fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="naive"):
        deadline_fn(datetime(2025, 3, 1, 12, 0), 7)  # noqa: DTZ001


def test_clock_helpers() -> None:
    moment = utc(2025, 3, 1, 16, 0)
    assert local(moment) == moment
    assert local(moment).date() == date(2025, 3, 2)
    assert day_after(moment, 1) == date(2025, 3, 3)
    assert start_of_day(date(2025, 3, 2)) == utc(2025, 3, 1, 16, 0)
    assert end_of_day(date(2025, 3, 2)) + US == start_of_day(date(2025, 3, 3))
    with pytest.raises(ValueError):
        local(datetime(2025, 3, 1))  # noqa: DTZ001
    with pytest.raises(ValueError):
        day_after(datetime(2025, 3, 1), 1)  # noqa: DTZ001
