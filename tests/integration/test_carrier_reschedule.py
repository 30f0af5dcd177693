"""A courier company moving its own order (a ``rescheduled`` callback) moves our visit and our
slot counters with it, over real HTTP against the sandbox company, on SQLite and PostgreSQL.

The company's capacity is its own: a move into a window that is full on our side is taken
anyway and recorded as an over-commit (``slot.overcommitted``), so the counters keep equal
to the visits they stand for. The race mixes company moves with buyers booking and cancelling
on the same windows, then checks in SQL: booked = live visits per window, never negative,
above capacity only where an over-commit was recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import time
from typing import Any

import pytest
from sqlalchemy import select, text
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    FENGXIAN,
    TOMORROW,
    World,
    carrier_world,
)
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]

from doorstep.adapters.db import tables as t
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.services import pickup
from doorstep.services.carrier_polling import poll_quiet_orders

pytestmark = pytest.mark.slow

NINE, ELEVEN, ONE_PM = (
    SlotRef(FENGXIAN.adcode, "sbx", TOMORROW, Window(time(h), time(h + 2))) for h in (9, 11, 13)
)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with carrier_world(database_url) as w:
        yield w


def _moved(w: World, number: str, event_id: str, slot: SlotRef) -> bytes:
    order = {
        "outOrderNo": number,
        "status": "ACCEPTED",
        "pickupDate": slot.day.isoformat(),
        "pickupStart": f"{slot.window.start:%H:%M}",
        "pickupEnd": f"{slot.window.end:%H:%M}",
    }
    body = {
        "eventId": event_id,
        "eventType": "RESCHEDULED",
        "occurredAt": w.company_now().isoformat(),
        "order": order,
    }
    return json.dumps(body).encode()


def _post(w: World, body: bytes) -> str:
    return w.post_callback(body)


def _set_capacity(w: World, slot: SlotRef, capacity: int) -> None:
    with w.app.services.uow() as uow:
        uow.slots.set_capacity(slot, capacity)
        uow.commit()


def _booked(w: World, slot: SlotRef) -> tuple[int, int]:
    with w.app.services.uow() as uow:
        load = uow.slots.loads([slot], 0)[slot]
    return load.booked, load.capacity


def _events(w: World, name: str) -> list[dict[str, Any]]:
    with w.app.engine.connect() as conn:
        rows = conn.execute(select(t.events.c.data).where(t.events.c.name == name)).all()
    return [dict(r.data) for r in rows]


def _book(w: World, hour: int) -> tuple[str, str]:
    """A fresh return booked at ``hour``: (appointment id, out_order_no)."""
    number = w.book(w.approved_return(), hour=hour)
    return number.rsplit("-", 1)[0], number


def test_company_move_moves_the_visit_and_the_counters(world: World) -> None:
    w = world
    appointment_id, number = _book(w, 9)
    w.deliveries()
    assert _booked(w, NINE)[0] == 1
    # The company's courier agreed 11:00-13:00 with the buyer: its callback says so.
    w.advance(
        number,
        "RESCHEDULED",
        pickupDate=TOMORROW.isoformat(),
        pickupStart="11:00",
        pickupEnd="13:00",
    )
    w.deliveries()
    assert _booked(w, NINE)[0] == 0
    assert _booked(w, ELEVEN)[0] == 1
    appt = pickup.get_appointment(w.app.services, appointment_id)
    assert appt.slot == ELEVEN
    moves = [e for e in _events(w, "appointment.rescheduled") if e["new"] == ELEVEN.key]
    assert [m["reason"] for m in moves] == ["carrier_rescheduled:sbx"]
    assert _events(w, "slot.overcommitted") == []


def test_echo_of_our_own_move_changes_nothing_more(world: World) -> None:
    """The company confirms a buyer's move with a ``rescheduled`` callback of its own."""
    w = world
    appointment_id, _ = _book(w, 9)
    w.deliveries()
    pickup.reschedule_pickup(
        w.app.services, BUYER, appointment_id, pickup.SlotChoice("sbx", TOMORROW, time(13))
    )
    deliveries = w.deliveries()
    assert any(d["event_type"] == "RESCHEDULED" and d["status_code"] == 200 for d in deliveries)
    assert (_booked(w, NINE)[0], _booked(w, ONE_PM)[0]) == (0, 1)
    moves = _events(w, "appointment.rescheduled")
    assert [m["reason"] for m in moves] == ["buyer_request"]


def test_move_into_a_full_window_is_counted_as_over_commit(world: World) -> None:
    w = world
    _set_capacity(w, ELEVEN, 1)
    _book(w, 11)
    appointment_id, number = _book(w, 9)
    w.deliveries()
    outcome = _post(w, _moved(w, number, "EV-full-1", ELEVEN))
    assert outcome == "applied"
    assert _booked(w, ELEVEN) == (2, 1)  # the fact is counted, past our capacity
    assert _booked(w, NINE)[0] == 0
    [over] = _events(w, "slot.overcommitted")
    assert over["appointment_id"] == appointment_id
    assert (over["capacity"], over["booked"]) == (1, 2)
    # A buyer is still refused the full window: over-commit never opens it to bookings.
    with pytest.raises(Exception) as refused:
        _book(w, 11)
    assert getattr(refused.value, "code", "") in ("slot_full", "slot_not_offered")
    assert violations(w) == []


def violations(w: World) -> list[str]:
    """Broken capacity invariants, read in SQL: booked = visits holding the window, never
    negative, above capacity only by recorded over-commits."""
    postgres = w.app.engine.dialect.name == "postgresql"
    start = (
        "substr(a.doc->'slot'->'window'->>'start', 1, 5)"
        if postgres
        else "substr(json_extract(a.doc, '$.slot.window.start'), 1, 5)"
    )
    # Slot events are keyed by the slot's key, ``adcode/carrier/day/HH:MM-HH:MM``.
    key = "s.adcode || '/' || s.carrier_id || '/' || CAST(s.day AS TEXT) || '/' || s.start"
    sql = f"""
        WITH holding AS (
          SELECT a.adcode AS adcode, a.carrier_id AS carrier_id, a.day AS day,
                 {start} AS start, COUNT(*) AS n
          FROM appointments a
          WHERE a.status IN ('booked', 'assigned', 'arrived', 'completed', 'failed')
          GROUP BY 1, 2, 3, 4),
        over AS (
          SELECT substr(e.aggregate_id, 1, length(e.aggregate_id) - 6) AS k, COUNT(*) AS n
          FROM events e WHERE e.name = 'slot.overcommitted' GROUP BY 1)
        SELECT s.adcode, s.carrier_id, s.day, s.start, s.booked, s.capacity, h.n, o.n
        FROM slot_capacity s
        LEFT JOIN holding h ON h.adcode = s.adcode AND h.carrier_id = s.carrier_id
          AND h.day = s.day AND h.start = s.start
        LEFT JOIN over o ON o.k = {key}
        WHERE s.booked <> COALESCE(h.n, 0) OR s.booked < 0
           OR s.booked > s.capacity + COALESCE(o.n, 0)
        UNION ALL
        SELECT h.adcode, h.carrier_id, h.day, h.start, NULL, NULL, h.n, NULL FROM holding h
        WHERE NOT EXISTS (SELECT 1 FROM slot_capacity s WHERE s.adcode = h.adcode
          AND s.carrier_id = h.carrier_id AND s.day = h.day AND s.start = h.start)"""
    with w.app.engine.connect() as conn:
        return [str(tuple(row)) for row in conn.execute(text(sql))]


def _book_eleven(w: World, return_id: str) -> object:
    choice = pickup.SlotChoice("sbx", TOMORROW, time(11))
    return pickup.book_pickup(w.app.services, BUYER, return_id, choice)


def test_company_moves_race_buyers_on_the_same_windows(world: World) -> None:
    """Company moves 09 → 11 for ten visits, while six of those buyers cancel and eight new
    buyers book the 11 window (capacity 8) — 24 units of work at once."""
    w = world
    _set_capacity(w, NINE, 40)
    _set_capacity(w, ELEVEN, 8)
    visits = [_book(w, 9) for _ in range(10)]
    fresh = [w.approved_return() for _ in range(8)]
    w.deliveries()
    calls: list[Callable[[], Any]] = []
    for i, (_, number) in enumerate(visits):
        body = _moved(w, number, f"EV-race-move-{i}", ELEVEN)
        calls.append(lambda body=body: ("move", _post(w, body)))
    for appointment_id, _ in visits[:6]:
        calls.append(
            lambda a=appointment_id: ("cancel", pickup.cancel_pickup(w.app.services, BUYER, a))
        )
    for return_id in fresh:
        calls.append(lambda r=return_id: ("book", _book_eleven(w, r)))
    assert len(calls) == RACERS
    outcome = race(calls)
    won = Counter(kind for kind, _ in outcome.won)
    assert won["move"] == 10  # a company's fact is never refused
    assert set(outcome.codes) <= {"stale_write", "slot_full", "slot_not_offered"}, outcome.codes
    w.deliveries()
    assert violations(w) == []
    for appointment_id, _ in visits:
        appt = pickup.get_appointment(w.app.services, appointment_id)
        assert appt.status.value == "cancelled" or appt.slot == ELEVEN, appt
    booked, capacity = _booked(w, ELEVEN)
    assert booked <= capacity + len(_events(w, "slot.overcommitted"))


def test_a_move_whose_callback_was_lost_is_found_by_polling(world: World) -> None:
    w = world
    appointment_id, number = _book(w, 9)
    w.deliveries()
    w.faults(drop=True)
    w.advance(
        number,
        "RESCHEDULED",
        pickupDate=TOMORROW.isoformat(),
        pickupStart="13:00",
        pickupEnd="15:00",
    )
    w.deliveries()
    assert _booked(w, NINE)[0] == 1  # nothing heard yet
    w.clock.advance(minutes=16)
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 1
    assert (_booked(w, NINE)[0], _booked(w, ONE_PM)[0]) == (0, 1)
    assert pickup.get_appointment(w.app.services, appointment_id).slot == ONE_PM
    # Polled again, the same window is nothing new.
    w.clock.advance(minutes=16)
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 0
    assert len(_events(w, "appointment.rescheduled")) == 1
