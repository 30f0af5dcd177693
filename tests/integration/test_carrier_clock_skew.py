"""Whether a company's ``rescheduled`` callback is followed does not depend on how far its
clock runs from doorstep's: over real HTTP against the sandbox company, whose books run
10 minutes ahead of or behind doorstep's clock, on SQLite and PostgreSQL.

Before session 12 the echo test compared the company's ``occurredAt`` with the time doorstep
recorded the company's answer (``last_sent_at``, doorstep's clock): with the company 10
minutes ahead, its late echo of an older window of ours looked newer than our newest send
and moved the visit back to it; 10 minutes behind, a move its courier agreed with the buyer
after our send looked older and was ignored, the company and the visit then disagreeing.
Now the company's time of taking our newest send comes from its answer (``updatedAt``) and
is compared only with the company's own event times.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import time, timedelta

import pytest
from sqlalchemy import text
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    TOMORROW,
    World,
    carrier_world,
)

from doorstep.services import pickup

pytestmark = pytest.mark.slow

SKEWS = {"company_ahead": timedelta(minutes=10), "company_behind": timedelta(minutes=-10)}


@pytest.fixture(params=list(SKEWS))
def world(request: pytest.FixtureRequest, database_url: str) -> Iterator[World]:
    with carrier_world(database_url, company_skew=SKEWS[request.param]) as w:
        yield w


def _book(w: World, hour: int) -> tuple[str, str]:
    number = w.book(w.approved_return(), hour=hour)
    w.deliveries()
    return number.rsplit("-", 1)[0], number


def _move(w: World, appointment_id: str, hour: int) -> None:
    choice = pickup.SlotChoice("sbx", TOMORROW, time(hour))
    pickup.reschedule_pickup(w.app.services, BUYER, appointment_id, choice)


def _settle(w: World) -> None:
    w.deliveries()
    w.sandbox.post("/sandbox/flush").raise_for_status()
    w.deliveries()


def _where(w: World, appointment_id: str, number: str) -> tuple[str, str, str]:
    """The visit's window start, its order's at doorstep, and the company's."""
    appt = pickup.get_appointment(w.app.services, appointment_id)
    with w.app.services.uow() as uow:
        po = uow.pickup_orders.get(number)
    assert po is not None
    [theirs] = [o for o in w.company_orders() if o["outOrderNo"] == number]
    return f"{appt.slot.window.start:%H:%M}", f"{po.order.start:%H:%M}", theirs["pickupStart"]


def _moves(w: World) -> list[str]:
    """The reasons of every move of a visit, oldest first."""
    with w.app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM events WHERE name = 'appointment.rescheduled' ORDER BY seq")
        ).all()
    datas = [r.data if isinstance(r.data, dict) else json.loads(r.data) for r in rows]
    return [d["reason"] for d in datas]


def test_a_late_echo_of_an_older_window_is_not_followed(world: World) -> None:
    w = world
    appointment_id, number = _book(w, 9)
    w.faults(reorder=True)
    _move(w, appointment_id, 11)  # the company takes 11-13; its echo is held back
    w.clock.advance(minutes=1)
    _move(w, appointment_id, 13)  # the company takes 13-15; both echoes go, 11-13 last
    _settle(w)
    assert _where(w, appointment_id, number) == ("13:00", "13:00", "13:00")
    assert _moves(w) == ["buyer_request", "buyer_request"]


def test_a_company_move_made_after_ours_is_followed(world: World) -> None:
    w = world
    appointment_id, number = _book(w, 9)
    _move(w, appointment_id, 13)
    _settle(w)
    with w.app.services.uow() as uow:
        po = uow.pickup_orders.get(number)
    assert po is not None and po.send_lease_until is None  # the sender freed its own lease
    w.clock.advance(minutes=3)
    # The company's courier agrees 9-11 with the buyer after the company took 13-15.
    w.advance(number, "RESCHEDULED", pickupStart="09:00", pickupEnd="11:00")
    _settle(w)
    assert _where(w, appointment_id, number) == ("09:00", "09:00", "09:00")
    assert _moves(w) == ["buyer_request", "carrier_rescheduled:sbx"]


def test_a_company_move_overtaken_by_our_send_is_not_followed(world: World) -> None:
    """The company moved the order, then took our move; its callback comes after: the
    company holds our window, so the visit stays in it."""
    w = world
    appointment_id, number = _book(w, 9)
    w.faults(reorder=True)
    w.advance(number, "RESCHEDULED", pickupStart="15:00", pickupEnd="17:00")  # held back
    w.clock.advance(minutes=1)
    _move(w, appointment_id, 13)
    _settle(w)
    assert _where(w, appointment_id, number) == ("13:00", "13:00", "13:00")
    assert _moves(w) == ["buyer_request"]
