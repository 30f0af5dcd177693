"""Moves of one company-served visit in flight at once: the company ends at the buyer's latest
window, over real HTTP against the sandbox company, on SQLite and PostgreSQL.

Before session 10 two reschedules of one order sent at once could reach the company in
either order; the company's echo (a ``RESCHEDULED`` callback) of the older one then moved
the visit back to it (``follow_company_move``): the buyer's latest window lost. Now one send
per order is on its way at a time (a lease on the order's row, the newest window sent after
the answer), and an echo of an older window is not followed while a newer is wanted or
after the company took the newer.

Raced: 24 buyer reschedules of three visits at once, the company echoing each move it takes
(in order, then with its callbacks reordered). Checked in SQL and at the company: each
visit's window is its latest buyer move's, its order's window is the same at doorstep and at
the company, no move of the company was followed, and the slot counters
(``test_carrier_reschedule.violations``, ``races.violations``).

The same race with the company's books 10 minutes ahead of or behind doorstep's clock
(session 12): the echo test compared the company's ``occurredAt`` with doorstep's time of its
answer, so with the company ahead its late echoes of older windows were followed. Now only
the company's times are compared with each other (its answer's ``updatedAt``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    FENGXIAN,
    TOMORROW,
    World,
    carrier_world,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_carrier_reschedule import (  # type: ignore[import-not-found]
    violations as capacity_violations,
)

from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.services import pickup
from doorstep.services.carrier_orders import send_pending_orders

pytestmark = pytest.mark.slow

HOURS = (9, 11, 13, 15, 17)
SLOTS = [SlotRef(FENGXIAN.adcode, "sbx", TOMORROW, Window(time(h), time(h + 2))) for h in HOURS]
VISITS = 3
# What a move may lose with: another move of the visit committed first (it retries a few
# times), or it asks for the window the visit is already in.
LOST = {"stale_write", "same_slot"}


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


@pytest.fixture
def world(database_url: str, payments: RecordingPayments) -> Iterator[World]:
    with carrier_world(database_url, payments) as w:
        yield w


def _settle(w: World) -> None:
    """Every callback delivered, a held one too, and whatever the worker still owes sent."""
    for _ in range(3):
        w.deliveries()
        w.sandbox.post("/sandbox/flush").raise_for_status()
        w.deliveries()
        w.clock.advance(minutes=10)  # past any send's retry wait
        if send_pending_orders(w.app.services, w.clock.now()) == 0:
            break
    w.deliveries()


def _moves(w: World, visits: list[str], round_no: int) -> list[Callable[[], Any]]:
    """RACERS buyer moves, the visits in turn, each to a window after the one before."""
    calls: list[Callable[[], Any]] = []
    for i in range(RACERS):
        visit = visits[i % len(visits)]
        hour = HOURS[(i // len(visits) + round_no + 1) % len(HOURS)]
        choice = pickup.SlotChoice("sbx", TOMORROW, time(hour))
        calls.append(
            lambda v=visit, c=choice: pickup.reschedule_pickup(w.app.services, BUYER, v, c)
        )
    return calls


_WINDOW = {
    "sqlite": (
        "json_extract(a.doc, '$.slot.window.start')",
        "json_extract(p.doc, '$.order.start')",
        "json_extract(p.doc, '$.order.day')",
    ),
    "postgresql": (
        "a.doc->'slot'->'window'->>'start'",
        "p.doc->'order'->>'start'",
        "p.doc->'order'->>'day'",
    ),
}


def _disagreements(w: World, visits: list[str]) -> list[str]:
    """Each visit against its latest buyer move and its order, in SQL: the visit's window,
    the window the latest ``buyer_request`` move took it to, and its order's window."""
    visit_start, order_start, order_day = _WINDOW[w.app.engine.dialect.name]
    sql = f"""
        SELECT a.appointment_id, CAST(a.day AS TEXT), substr({visit_start}, 1, 5),
               CAST({order_day} AS TEXT), substr({order_start}, 1, 5),
               (SELECT e.data FROM events e
                WHERE e.aggregate_id = a.appointment_id AND e.name = 'appointment.rescheduled'
                ORDER BY e.seq DESC LIMIT 1) AS latest
        FROM appointments a JOIN pickup_orders p ON p.appointment_id = a.appointment_id
        WHERE a.appointment_id IN ({", ".join(f"'{v}'" for v in visits)})"""
    found = []
    with w.app.engine.connect() as conn:
        for aid, day, start, po_day, po_start, latest in conn.execute(text(sql)):
            key = f"{FENGXIAN.adcode}/sbx/{day}/{start}"
            data = latest if isinstance(latest, dict) else json.loads(latest)
            if data["reason"] != "buyer_request" or not data["new"].startswith(key):
                found.append(f"{aid}: at {key}, latest move {data}")
            if (po_day, po_start) != (day, start):
                found.append(f"{aid}: order at {po_day} {po_start}, visit at {day} {start}")
    return found


def _company_disagrees(w: World, visits: list[str]) -> list[str]:
    """Each visit's window against the company's order for it."""
    orders = {o["outOrderNo"]: o for o in w.company_orders()}
    found = []
    for aid in visits:
        appt = pickup.get_appointment(w.app.services, aid)
        theirs = orders[f"{aid}-1"]
        ours = (appt.slot.day.isoformat(), f"{appt.slot.window.start:%H:%M}")
        if (theirs["pickupDate"], theirs["pickupStart"]) != ours:
            found.append(f"{aid}: company at {theirs['pickupStart']}, visit at {ours[1]}")
    return found


def _followed_company_moves(w: World) -> int:
    with w.app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM events WHERE name = 'appointment.rescheduled'")
        ).all()
    datas = [r.data if isinstance(r.data, dict) else json.loads(r.data) for r in rows]
    return sum(d["reason"].startswith("carrier_rescheduled") for d in datas)


def test_moves_in_flight_leave_the_company_at_the_buyers_latest_window(
    world: World, payments: RecordingPayments
) -> None:
    _race_moves(world, payments)


@pytest.fixture(params=[10, -10], ids=["company_ahead", "company_behind"])
def skewed_world(
    request: pytest.FixtureRequest, database_url: str, payments: RecordingPayments
) -> Iterator[World]:
    skew = timedelta(minutes=request.param)
    with carrier_world(database_url, payments, company_skew=skew) as w:
        yield w


def test_moves_in_flight_with_the_companys_clock_skewed(
    skewed_world: World, payments: RecordingPayments
) -> None:
    _race_moves(skewed_world, payments)


def _race_moves(w: World, payments: RecordingPayments) -> None:
    with w.app.services.uow() as uow:
        for slot in SLOTS:
            uow.slots.set_capacity(slot, 100)
        uow.commit()
    visits = [w.book(w.approved_return(), hour=9).rsplit("-", 1)[0] for _ in range(VISITS)]
    _settle(w)
    for round_no, reorder in enumerate((False, True)):
        w.faults(reorder=reorder)
        out = race(_moves(w, visits, round_no))
        assert set(out.codes) <= LOST, out.codes
        assert len(out.won) >= VISITS
        _settle(w)
        assert _disagreements(w, visits) == []
        assert _company_disagrees(w, visits) == []
        assert _followed_company_moves(w) == 0
        assert capacity_violations(w) == []
        assert violations(w.app, payments) == []
