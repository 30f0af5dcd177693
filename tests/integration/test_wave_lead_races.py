"""The return wave's booking lead (adapters/db/wave.py ``booking_leads``) after 24 racers on
SQLite and PostgreSQL: visits moved to the next day while they are cancelled, returns
withdrawn while their visit moves, and new bookings, all at once. The lead joins a request to
its visit by ``returns.appointment_id``; afterwards that column is each return's document's
(``races.violations``, ``_return_columns``) and the leads read in SQL are the ones the
documents give. Losers answer with what the winner did, never ``stale_write`` or a 500."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_routing import returns_at  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.clock import local
from doorstep.services import pickup, returns

BUYER = "buyer-001"
TOMORROW = date(2026, 11, 26)
STARTS = (time(9), time(11), time(13), time(15))
# A move loses to the cancel of its visit and the other way round (the visit is no longer
# booked); a withdrawal to the move of its visit's window only by waiting, never stale; a
# booking to a full window.
LOSSES = {"illegal_transition", "slot_full", "slot_not_offered", "route_busy"}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _choice(i: int, day: date = TOMORROW) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", day, STARTS[i % len(STARTS)])


def _leads_from_documents(app: App, ids: list[str]) -> Counter[int]:
    found: Counter[int] = Counter()
    with app.services.uow() as uow:
        for return_id in ids:
            r = uow.returns.get(return_id)
            if r is None or r.appointment_id is None:
                continue
            visit = uow.appointments.get(r.appointment_id)
            assert visit is not None
            found[(visit.slot.day - local(r.created_at).date()).days] += 1
    return found


def test_moves_cancels_and_withdrawals_keep_the_booking_lead_the_documents(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    ids = returns_at(wired, _spread(14))
    moved, withdrawn, waiting = ids[:6], ids[6:10], ids[10:14]
    visits = [pickup.book_pickup(svc, BUYER, r, _choice(i)) for i, r in enumerate(moved)]
    withdrawn_visits = [
        pickup.book_pickup(svc, BUYER, r, _choice(i)) for i, r in enumerate(withdrawn)
    ]
    after = TOMORROW + timedelta(days=1)
    calls: list[Callable[[], Any]] = []
    for i, v in enumerate(visits):
        calls.append(
            lambda v=v, i=i: pickup.reschedule_pickup(
                svc, BUYER, v.appointment_id, _choice(i, after)
            )
        )
        calls.append(lambda v=v: pickup.cancel_pickup(svc, BUYER, v.appointment_id))
    for i, (r, v) in enumerate(zip(withdrawn, withdrawn_visits, strict=True)):
        calls.append(lambda r=r: returns.cancel_return(svc, BUYER, r, "changed my mind"))
        calls.append(
            lambda v=v, i=i: pickup.reschedule_pickup(
                svc, BUYER, v.appointment_id, _choice(i, after)
            )
        )
    calls += [
        lambda r=r, i=i: pickup.book_pickup(svc, BUYER, r, _choice(i, after))
        for i, r in enumerate(waiting)
    ]
    assert len(calls) == RACERS
    out = race(calls)
    assert set(out.codes) <= LOSSES, out.codes

    assert violations(wired, payments) == []
    opened = {local(returns.get_return(svc, r).created_at).date() for r in ids}
    with svc.uow() as uow:
        read = Counter(uow.wave.booking_leads(min(opened), max(opened)))
    expected = _leads_from_documents(wired, ids)
    assert read == expected, (read, expected)
    # The waiting returns all booked the day after tomorrow: the read sees them there.
    assert sum(expected.values()) >= len(waiting)
