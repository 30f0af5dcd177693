"""Day-by-day counts from events: which events count, under which key, on which Shanghai day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from doorstep.domain.events import Event
from doorstep.domain.figures import FILED, HELD_BY, Tally, tallies

LATE = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 December in Shanghai


def _submitted(*reasons: str) -> Event:
    lines = [{"sku": "S", "quantity": 1, "reason": r} for r in reasons]
    return Event("return.submitted", "return_request", "R-1", LATE, {"lines": lines})


def test_a_return_counts_once_under_its_first_lines_reason_on_the_shanghai_day() -> None:
    found = tallies([_submitted("damaged", "no_reason"), _submitted("damaged")])
    assert found == [Tally(date(2026, 12, 1), FILED, "damaged", 2)]


def test_decisions_count_what_held_them_and_other_events_nothing() -> None:
    held = Event(
        "return.held_for_review",
        "return_request",
        "R-1",
        LATE,
        {"held_by": ["refund_only_limits/refund_only_above_instant_limit"], "reasons": ["x"]},
    )
    old = Event("return.approved", "return_request", "R-2", LATE, {"reasons": ["x"]})
    other = Event("return.picked_up", "return_request", "R-1", LATE, {})
    assert tallies([held, old, other, _submitted()]) == [
        Tally(date(2026, 12, 1), HELD_BY, "refund_only_limits/refund_only_above_instant_limit")
    ]
