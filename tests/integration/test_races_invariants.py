"""``races.violations`` itself, on SQLite and PostgreSQL: what a failed attempt leaves is no
violation, and a counter or a return left wrong still is one.

A courier's failed attempt used its window for good (``pickup.release_visit``, the move in
``pickup._reschedule``: nothing is given back), and its returns keep waiting on the failed
visit until the buyer books it again (``Appointment.reschedule`` takes a failed visit) or
cancels it. The checks count each failed attempt in the window the visit was in when it
failed, read from the stored events, and take a failed visit's returns as waiting on it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from tests.integration.races import (  # type: ignore[import-not-found]
    TALLY,
    RecordingPayments,
    violations,
)
from tests.integration.test_races import _approved, _yto  # type: ignore[import-not-found]
from tests.integration.test_races_gaps import TOMORROW  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.pickup import Appointment, FailureReason
from doorstep.services import courier, pickup

BUYER = "buyer-001"


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _fail(app: App, appt: Appointment) -> None:
    assert appt.courier_id is not None
    courier.arrive(app.services, appt.courier_id, appt.appointment_id)
    courier.fail_attempt(
        app.services, appt.courier_id, appt.appointment_id, FailureReason.BUYER_UNREACHABLE, "rang"
    )


def _failed_visits(app: App) -> dict[str, str]:
    """Four visits that failed: one moved after it, one cancelled, one left failed (its
    return waits on it), and one that failed again in its new window, then was cancelled.
    Returns the appointment ids by what happened to them."""
    svc = app.services
    moved, cancelled, waiting, twice = _approved(app, 4)
    visits = {}
    for name, rid, hour in (
        ("moved", moved, 9),
        ("cancelled", cancelled, 9),
        ("waiting", waiting, 11),
        ("twice", twice, 11),
    ):
        appt = pickup.book_pickup(svc, BUYER, rid, _yto(hour))
        _fail(app, appt)
        visits[name] = appt.appointment_id
    pickup.reschedule_pickup(svc, BUYER, visits["moved"], _yto(13))
    pickup.cancel_pickup(svc, BUYER, visits["cancelled"])
    again = pickup.reschedule_pickup(svc, BUYER, visits["twice"], _yto(15))
    _fail(app, again)
    pickup.cancel_pickup(svc, BUYER, visits["twice"])
    return visits


def _booked(app: App, start: str) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT booked FROM slot_capacity WHERE carrier_id = 'yto' AND day = :d"
                    " AND start = :s"
                ),
                {"d": TOMORROW, "s": start},
            ).scalar_one()
        )


def test_failed_visits_moved_cancelled_or_waiting_report_nothing(
    wired: App, payments: RecordingPayments
) -> None:
    _failed_visits(wired)
    # Every failure kept its window: two at 9, two at 11 (one left failed), one at 15 (then
    # cancelled, not given back), and the moved visit holds 13.
    assert [_booked(wired, s) for s in ("09:00", "11:00", "13:00", "15:00")] == [2, 2, 1, 1]
    assert violations(wired, payments) == []


def test_a_wrong_counter_or_a_return_on_a_cancelled_visit_is_still_reported(
    wired: App, payments: RecordingPayments
) -> None:
    visits = _failed_visits(wired)
    with wired.engine.begin() as conn:
        # As if the move had given back the window its failed attempt used.
        conn.execute(
            text(
                "UPDATE slot_capacity SET booked = booked - 1 WHERE carrier_id = 'yto'"
                " AND day = :d AND start = '09:00'"
            ),
            {"d": TOMORROW},
        )
        # As if the cancel of a failed visit had left its return waiting on it.
        conn.execute(
            text("UPDATE appointments SET status = 'cancelled' WHERE appointment_id = :a"),
            {"a": visits["waiting"]},
        )
    found = violations(wired, payments)
    TALLY.violations -= len(found)  # made on purpose: not the races' figures
    assert len(found) == 2, found
    [counter] = [v for v in found if v.startswith("booked differs")]
    assert "'09:00'" in counter and ", 1, " in counter, counter
    [waiting] = [v for v in found if v.startswith("waiting return")]
    assert waiting.startswith("waiting return not on exactly one live or failed visit"), waiting


def test_a_visit_failed_twice_with_no_move_between_is_reported(
    wired: App, payments: RecordingPayments
) -> None:
    """Only a move makes a failed visit one a courier may try again: a second failure in the
    same stay (here a stored event made up) is a violation, and its window's count is off."""
    visits = _failed_visits(wired)
    with wired.engine.begin() as conn:
        conn.execute(
            insert(t.events).values(
                aggregate_type="appointment",
                aggregate_id=visits["waiting"],
                name="appointment.attempt_failed",
                occurred_at=wired.services.clock.now(),
                data={"reason": "buyer_unreachable", "attempt": 2},
            )
        )
    found = violations(wired, payments)
    TALLY.violations -= len(found)  # made on purpose: not the races' figures
    assert len(found) == 2, found
    assert any(v.startswith("visit failed twice in one stay") for v in found), found
    assert any(v.startswith("booked differs") and "'11:00'" in v for v in found), found
