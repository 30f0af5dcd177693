"""Company updates (polls, duplicate callbacks) raced with buyers, money and windows in SQL."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from sqlalchemy import text
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
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
from tests.integration.test_carrier_races import (  # type: ignore[import-not-found]
    STATE_CHANGES,
    _event,
    _orders_follow_visits,
    _parcels_hold_only_what_left,
    invariants,
)
from tests.integration.test_overtaken_ops import (  # type: ignore[import-not-found]
    overtaken_case,
)

from doorstep.domain.carrier_order import CarrierStatus
from doorstep.services import carrier_orders, pickup, returns
from doorstep.services.carrier_polling import poll_quiet_orders

pytestmark = pytest.mark.slow

PRICE = 4_900  # the approved return's pillow (``World.approved_return``)
# What a buyer's move, cancel or withdrawal may lose with: the visit moved on (picked up,
# failed, cancelled by the company), someone else changed it first, or the window is gone.
BUYER_LOST = {"illegal_transition", "stale_write", "slot_full", "slot_not_offered", "same_slot"}


def _rows(w: World, sql: str) -> list[tuple[Any, ...]]:
    with w.app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _visit(number: str) -> str:
    return number.rsplit("-", 1)[0]


_LEFT_THE_DOOR = ("picked_up", "in_transit", "received")


def _paid_once_for_what_left(w: World, payments: RecordingPayments) -> None:
    """Exactly the returns that left the door have one paid express refund of their price."""
    left = {
        rid
        for rid, status in _rows(w, "SELECT return_id, status FROM returns")
        if status in _LEFT_THE_DOOR
    }
    assert {k: a for k, (_ref, a) in payments.paid.items()} == {
        f"refund:{rid}": PRICE for rid in left
    }
    refunds = _rows(w, "SELECT return_id, COUNT(*), MIN(status) FROM refunds GROUP BY return_id")
    assert {(rid, n, status) for rid, n, status in refunds} == {
        (rid, 1, "succeeded") for rid in left
    }


def _parcels_the_company_holds(w: World) -> list[str]:
    """Parcels the company's courier took that doorstep does not record as picked up."""
    status = dict(_rows(w, "SELECT return_id, status FROM returns"))
    out = []
    for theirs in w.company_orders():
        if theirs["status"] not in ("PICKED_UP", "IN_TRANSIT", "DELIVERED"):
            continue
        po = carrier_orders.get_order(w.app.services, theirs["outOrderNo"])
        assert po is not None
        held = [status[rid] for rid in po.return_ids]
        if not po.picked_up or not set(held) <= set(_LEFT_THE_DOOR):
            out.append(
                f"{po.out_order_no}: the company holds the parcel ({theirs['status']}, "
                f"waybill {theirs['waybillNo']}); doorstep's order is {po.status.value}, "
                f"its returns {held}"
            )
    return out


def _followed(w: World) -> list[str]:
    """``_orders_follow_visits``, a cancelled visit whose company order failed excepted."""
    # Nothing is live either way: the buyer cancelled a failed visit, or the company refused
    # the cancel of a pickup that had just failed.
    return [
        broken
        for broken in _orders_follow_visits(w)
        if not (" is cancelled, " in broken and "'status': 'PICKUP_FAILED'" in broken)
    ]


def test_polls_raced_with_buyer_moves_and_cancels_pay_and_count_once(database_url: str) -> None:
    """Polls find lost pickups, moves, failures and cancels while buyers change the visits."""
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        picked = [w.book(w.approved_return(), hour=9) for _ in range(4)]
        moved = [w.book(w.approved_return(), hour=9) for _ in range(3)]
        failed = [w.book(w.approved_return(), hour=11) for _ in range(2)]
        cancelled = [w.book(w.approved_return(), hour=11) for _ in range(2)]
        w.deliveries()
        w.faults(drop=True)  # the company's callbacks are lost: only polling finds them
        for number in picked:
            w.advance(number, "COURIER_ASSIGNED")
            w.advance(number, "PICKED_UP")
        for number in moved:
            w.advance(
                number,
                "RESCHEDULED",
                pickupDate=TOMORROW.isoformat(),
                pickupStart="13:00",
                pickupEnd="15:00",
            )
        for number in failed:
            w.advance(number, "PICKUP_FAILED")
        for number in cancelled:
            w.advance(number, "CANCELLED")
        w.deliveries()
        w.faults(drop=False)
        w.clock.advance(minutes=16)  # quiet long enough to be polled
        assert payments.paid == {}

        def move(number: str, hour: int) -> Callable[[], object]:
            choice = pickup.SlotChoice("sbx", TOMORROW, time(hour))
            return lambda: pickup.reschedule_pickup(svc, BUYER, _visit(number), choice)

        def cancel(number: str) -> Callable[[], object]:
            return lambda: pickup.cancel_pickup(svc, BUYER, _visit(number))

        withdrawn = carrier_orders.get_order(svc, picked[3])
        assert withdrawn is not None
        # Cancels and a withdrawal too late for the company (its courier took the parcel,
        # its callback lost): the company refuses, and its pickup, polled, wins.
        calls: list[Callable[[], object]] = [
            cancel(picked[0]),
            cancel(picked[1]),
            lambda: returns.cancel_return(svc, BUYER, withdrawn.return_ids[0], "changed"),
            move(picked[2], 15),
            move(moved[0], 15),
            move(moved[1], 13),  # where the company moved it: same_slot once the poll ran
            cancel(moved[2]),
            move(failed[0], 17),  # booked again after the failed pickup
            cancel(failed[1]),
            move(cancelled[0], 17),
            cancel(cancelled[1]),
        ]
        calls += [lambda: poll_quiet_orders(svc, w.clock.now())] * (RACERS - len(calls))
        out = race(calls)
        assert set(out.codes) <= BUYER_LOST, out.codes

        # What the buyers' changes sent goes out; the next poll finds what is left quiet.
        w.deliveries()
        carrier_orders.send_pending_orders(svc, w.clock.now())
        w.deliveries()
        w.clock.advance(minutes=16)
        poll_quiet_orders(svc, w.clock.now())
        w.deliveries()

        # The company's facts win: a parcel its courier took is a parcel doorstep picked up.
        assert _parcels_the_company_holds(w) == []
        twice = _rows(
            w,
            "SELECT aggregate_id, name, COUNT(*) FROM events WHERE name IN "
            f"({', '.join(repr(n) for n in (*STATE_CHANGES, 'appointment.attempt_failed'))}) "
            "GROUP BY aggregate_id, name HAVING COUNT(*) > 1",
        )
        assert twice == []
        assert _parcels_hold_only_what_left(w) == []
        assert _followed(w) == []
        _paid_once_for_what_left(w, payments)
        assert violations(w.app, payments) == []


@pytest.mark.parametrize("withdraw", [False, True], ids=["cancel", "withdraw"])
def test_a_cancel_too_late_for_the_company_keeps_the_parcel_it_took(
    database_url: str, withdraw: bool
) -> None:
    """The company's courier took the parcel; its callback is lost; the buyer then cancels
    the visit (or withdraws the return): the company refuses, and doorstep must follow it."""
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        number = w.book(w.approved_return(), hour=9)
        w.deliveries()
        w.faults(drop=True)
        w.advance(number, "COURIER_ASSIGNED")
        w.advance(number, "PICKED_UP")
        w.deliveries()
        w.faults(drop=False)
        if withdraw:
            po = carrier_orders.get_order(svc, number)
            assert po is not None
            returns.cancel_return(svc, BUYER, po.return_ids[0], "changed")
        else:
            pickup.cancel_pickup(svc, BUYER, _visit(number))
        w.deliveries()
        carrier_orders.send_pending_orders(svc, w.clock.now())
        w.clock.advance(minutes=16)
        poll_quiet_orders(svc, w.clock.now())
        w.deliveries()
        assert _parcels_the_company_holds(w) == []
        _paid_once_for_what_left(w, payments)
        # The visit was made after all: it holds its window again, its order follows it.
        assert invariants(w) == []
        assert violations(w.app, payments) == []
        overtaken = _rows(
            w,
            "SELECT aggregate_type, name FROM events WHERE name LIKE '%cancel_overtaken'",
        )
        assert sorted(overtaken) == [
            ("appointment", "appointment.cancel_overtaken"),
            ("carrier_order", "carrier_order.cancel_overtaken"),
        ]
        po = carrier_orders.get_order(svc, number)
        assert po is not None and po.status is CarrierStatus.PICKED_UP and po.waybill_no
        # A withdrawn return is not put back in the parcel behind the buyer's back: ops
        # decide (the company's event names it).
        assert len(po.return_ids) == (0 if withdraw else 1)
        assert len(payments.paid) == (0 if withdraw else 1)


def test_a_late_pickup_callback_wins_and_a_return_booked_again_is_left_to_ops(
    database_url: str,
) -> None:
    """The company's PICKED_UP arrives by callback after the buyer cancelled the visit and
    booked one of its two returns on another: the visit is made after all, the free return
    is picked up and paid, the one booked again is not moved behind the buyer's back."""
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        case = overtaken_case(w)
        number, free, again = case.number, case.free, case.again
        po = carrier_orders.get_order(svc, number)
        assert po is not None and po.status is CarrierStatus.DELIVERED
        assert po.return_ids == [free] and not po.cancel_refused
        status = dict(_rows(w, "SELECT return_id, status FROM returns"))
        assert status[again] == "awaiting_pickup"
        [(data,)] = _rows(
            w, "SELECT data FROM events WHERE name = 'carrier_order.cancel_overtaken'"
        )
        data = data if isinstance(data, dict) else json.loads(data)
        assert data["return_ids"] == [free] and data["needs_ops"] == [again]
        visits = dict(_rows(w, "SELECT appointment_id, status FROM appointments"))
        assert visits == {_visit(number): "completed", case.elsewhere: "booked"}
        assert _parcels_hold_only_what_left(w) == []
        _paid_once_for_what_left(w, payments)
        assert len(payments.paid) == 1
        assert violations(w.app, payments) == []


def test_duplicate_pickups_refund_each_return_once(database_url: str) -> None:
    """One PICKED_UP delivered many times at once, and again under fresh ids, pays once."""
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        first = w.book(w.approved_return(), hour=9)
        second = w.book(w.approved_return(), hour=11)
        w.join(w.approved_return(), second)
        w.deliveries()
        bodies = []
        for n, number in enumerate((first, second)):
            waybill = f"SBX2611260000020{n}"
            same = _event(w, number, f"EV-dup-picked-up-{n}", "PICKED_UP", waybill)
            bodies += [same] * (RACERS // 2 - 4)
            bodies += [
                _event(w, number, f"EV-dup-fresh-{n}-{i}", "PICKED_UP", waybill) for i in range(4)
            ]
        busy = w.busy_answers
        out = race([lambda b=b: w.post_callback(b) for b in bodies])
        said = Counter(out.won)
        assert set(said) <= {"applied", "duplicate", "late"}, said
        if w.busy_answers == busy:
            # One delivery applies each order's pickup; the same id again is a duplicate, a
            # fresh id for a stage passed is late.
            repeats, fresh_ids = 2 * (RACERS // 2 - 4), 2 * 4
            assert said == {"applied": 2, "duplicate": repeats - 2, "late": fresh_ids}, said
        for number in (first, second):
            po = carrier_orders.get_order(w.app.services, number)
            assert po is not None and po.status is CarrierStatus.PICKED_UP
        picked = _rows(
            w,
            "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'return.picked_up' "
            "GROUP BY aggregate_id",
        )
        assert len(picked) == 3 and all(n == 1 for _rid, n in picked), picked
        w.deliveries()
        _paid_once_for_what_left(w, payments)
        assert len(payments.paid) == 3
        assert invariants(w) == []
        assert violations(w.app, payments) == []
