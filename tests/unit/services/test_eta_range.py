"""The arrival range shown to a buyer: wider the earlier, always inside the booked window."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.domain.clock import SHANGHAI
from doorstep.services.route import eta_range

START = datetime(2026, 11, 24, 14, 0, tzinfo=SHANGHAI)
END = START + timedelta(hours=2)


def test_range_narrows_as_the_visit_nears() -> None:
    eta = START + timedelta(minutes=60)
    widths = []
    for lead in (timedelta(days=1), timedelta(hours=3), timedelta(minutes=20)):
        low, high = eta_range(eta, START, END, eta - lead)
        assert low <= eta <= high
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2] > timedelta(0)


def test_range_never_leaves_the_window() -> None:
    for eta in (START - timedelta(minutes=30), START, START + timedelta(minutes=5), END):
        low, high = eta_range(eta, START, END, START - timedelta(days=1))
        assert START <= low <= high <= END
    low, high = eta_range(START + timedelta(minutes=3), START, END, START - timedelta(days=1))
    assert low == START
