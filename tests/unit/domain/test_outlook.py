"""A coming day's window against the same weekday of past weeks."""

from __future__ import annotations

from datetime import date

import pytest

from doorstep.domain.outlook import WindowOutlook, same_weekdays


def test_same_weekdays_go_back_whole_weeks() -> None:
    assert same_weekdays(date(2026, 12, 4), 3) == [
        date(2026, 11, 27),
        date(2026, 11, 20),
        date(2026, 11, 13),
    ]


@pytest.mark.parametrize(
    ("booked", "capacity", "past", "expected", "full", "short"),
    [
        # Quiet: two a week against ten places.
        (1, 10, ((2, 10), (2, 10), (3, 10), (1, 10)), 2.0, 0, False),
        # Full now: the chart shows it full; the outlook is for windows still open.
        (10, 10, ((10, 10),) * 4, 10.0, 4, False),
        # Full in half the weeks: the mean (7.5) hides those turned away.
        (0, 10, ((10, 10), (5, 10), (10, 10), (5, 10)), 7.5, 2, True),
        # Full in one week of four and a mean below capacity: not flagged.
        (0, 10, ((10, 10), (5, 10), (5, 10), (5, 10)), 6.25, 1, False),
        # Capacity lowered since: past weeks' bookings reach the new figure.
        (0, 4, ((6, 10), (5, 10), (4, 10), (5, 10)), 5.0, 0, True),
        # A counter that took no booking that week (capacity 0) was never full.
        (0, 10, ((0, 0), (0, 0)), 0.0, 0, False),
        # No history at all, nothing booked.
        (0, 10, (), 0.0, 0, False),
        # No capacity: nothing can run out.
        (0, 0, ((3, 3),) * 4, 3.0, 4, False),
    ],
)
def test_the_outlook_flags_windows_likely_to_run_out(
    booked: int,
    capacity: int,
    past: tuple[tuple[int, int], ...],
    expected: float,
    full: int,
    short: bool,
) -> None:
    w = WindowOutlook("YTO 09:00-11:00", booked, capacity, past)
    assert (w.expected, w.weeks_full, w.short) == (expected, full, short)


def test_the_return_wave_flags_a_window_past_weeks_call_quiet() -> None:
    quiet = ((2, 10), (3, 10), (1, 10), (2, 10))
    assert not WindowOutlook("YTO 09:00-11:00", 1, 10, quiet).short
    assert not WindowOutlook("YTO 09:00-11:00", 1, 10, quiet, wave=9.9).short
    assert WindowOutlook("YTO 09:00-11:00", 1, 10, quiet, wave=10.0).short
    # Already full: drawn full, not flagged; no capacity: never offered.
    assert not WindowOutlook("YTO 09:00-11:00", 10, 10, quiet, wave=30.0).short
    assert not WindowOutlook("YTO 09:00-11:00", 0, 0, (), wave=30.0).short
