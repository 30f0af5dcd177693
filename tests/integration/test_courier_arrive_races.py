"""A courier's arrival raced with bookings, cancels, moves and re-plans of its courier-day."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_booking_routes_race import _spread  # type: ignore[import-not-found]
from tests.integration.test_races import BOOKING  # type: ignore[import-not-found]
from tests.integration.test_routing import TOMORROW, returns_at  # type: ignore[import-not-found]

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import FailureReason, SlotRef
from doorstep.entrypoints import jobs
from doorstep.services import courier, pickup, routing

BUYER = "buyer-001"
COURIER = "courier-yto-03"  # Jinshan's one YTO courier
JINSHAN = "310116"
STARTS = (time(9), time(11), time(13), time(15), time(17))
# An arrival's repeat finds the courier there already, and an arrival after the buyer's
# cancel (or a cancel after it) finds the visit moved on: ``illegal_transition``, as for
# bookings and moves.
LOST = BOOKING


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _choice(start: time) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", TOMORROW, start)


def _routes(app: App) -> list[tuple[str, str, dict[str, Any]]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT route_id, courier_id, doc FROM routes WHERE carrier_id = 'yto' AND day = :d"
            ),
            {"d": TOMORROW},
        ).all()
    return [(r, c, d if isinstance(d, dict) else json.loads(d)) for r, c, d in rows]


def _visits(app: App) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    """The courier-day's visits: id -> (status, courier, document)."""
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT appointment_id, status, courier_id, doc FROM appointments "
                "WHERE carrier_id = 'yto' AND adcode = :a AND day = :d"
            ),
            {"a": JINSHAN, "d": TOMORROW},
        ).all()
    return {a: (s, c, d if isinstance(d, dict) else json.loads(d)) for a, s, c, d in rows}


def _route_violations(app: App) -> list[str]:
    """Open stops of visits not live with that courier; visits on two routes or left off all."""
    visits = _visits(app)
    live = {a for a, (s, _c, _d) in visits.items() if s in ("booked", "assigned", "arrived")}
    out = []
    on_routes: Counter[str] = Counter()
    for route_id, courier_id, doc in _routes(app):
        for appointment_id, state in zip(doc.get("id", []), doc.get("st", []), strict=True):
            on_routes[appointment_id] += 1
            if state == "done":
                continue
            status, held_by, _doc = visits.get(appointment_id, ("missing", None, {}))
            if appointment_id not in live or held_by != courier_id:
                out.append(f"open stop {appointment_id} on {route_id}: {status}, {held_by}")
    out += [f"{a} on {n} routes" for a, n in on_routes.items() if n > 1]
    out += [
        f"live visit on no route and not reported unserved: {a}"
        for a in sorted(live - set(on_routes))
        if not visits[a][2].get("unserved_reason")
    ]
    return out


# ``courier.arrive`` rewrites and saves the day's route (``route.record_progress``: a door
# served out of order moves to the head of the open stops, its legs re-priced), the route
# every booking, move, cancel and re-plan of that courier-day also writes.
def test_arrivals_raced_with_bookings_cancels_moves_and_plans_keep_the_routes(
    wired: App, clock: FixedClock, payments: RecordingPayments
) -> None:
    svc = wired.services
    with svc.uow() as uow:  # room in every window: the routes, not the counters, decide
        for start in STARTS:
            slot = SlotRef(JINSHAN, "yto", TOMORROW, Window(start, time(start.hour + 2)))
            uow.slots.set_capacity(slot, 500)
        uow.commit()
    ids = returns_at(wired, _spread(30))
    booked = [
        pickup.book_pickup(svc, BUYER, rid, _choice(STARTS[i % 4]))
        for i, rid in enumerate(ids[:16])
    ]
    fresh = ids[16:]
    assert routing.plan_day(svc, "yto", TOMORROW).unserved == ()
    nine = [a for a in booked if a.slot.window.start == time(9)]
    later = [a for a in booked if a.slot.window.start != time(9)]
    assert len(nine) == 4 and len(later) == 12
    assert {a.courier_id for a in booked} == {COURIER}
    clock.at = datetime.combine(TOMORROW, time(9), tzinfo=SHANGHAI)

    for door, cancelled in ((nine[0], nine[1]), (nine[2], nine[3])):
        # The courier arrives (their phone sending it again) while the buyer at that door
        # cancels, a 9:00 buyer not yet visited cancels, later buyers move and cancel, new
        # buyers book, and the worker re-plans the day.
        aid = door.appointment_id
        calls: list[Callable[[], object]] = [lambda a=aid: courier.arrive(svc, COURIER, a)] * 4
        calls += [lambda a=aid: pickup.cancel_pickup(svc, BUYER, a)] * 2
        calls += [lambda a=cancelled.appointment_id: pickup.cancel_pickup(svc, BUYER, a)]
        moving, later = later[:6], later[6:]
        calls += [
            lambda a=a.appointment_id: pickup.cancel_pickup(svc, BUYER, a) for a in moving[:3]
        ]
        calls += [
            lambda a=a.appointment_id, s=STARTS[2 + n % 3]: pickup.reschedule_pickup(
                svc, BUYER, a, _choice(s)
            )
            for n, a in enumerate(moving[3:])
        ]
        booking, fresh = fresh[:7], fresh[7:]
        calls += [
            lambda r=r, s=STARTS[1 + n % 4]: pickup.book_pickup(svc, BUYER, r, _choice(s))
            for n, r in enumerate(booking)
        ]
        calls += [lambda: jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())] * 4
        out = race(calls)
        assert set(out.codes) <= LOST, out.codes
        arrived = sum(
            1 for w in out.won if getattr(w, "appointment_id", None) == aid and w.arrived_at
        )
        assert arrived <= 1, out.won

        assert routing.check_routes(svc, "yto", TOMORROW) == []
        assert _route_violations(wired) == []
        status = _visits(wired)[aid][0]
        assert status in ("arrived", "cancelled"), status
        [(_rid, _cid, doc)] = [r for r in _routes(wired) if r[1] == COURIER]
        states = dict(zip(doc["id"], doc["st"], strict=True))
        if status == "arrived":  # the door in progress heads the stops still to serve
            assert states[aid] == "in_progress"
            first_open = next(a for a, st in zip(doc["id"], doc["st"], strict=True) if st != "done")
            assert first_open == aid, doc["id"]
            clock.advance(minutes=5)
            courier.fail_attempt(svc, COURIER, aid, FailureReason.BUYER_UNREACHABLE, "not in")
        else:
            assert aid not in states
        assert violations(wired, payments) == []
        clock.advance(minutes=20)
