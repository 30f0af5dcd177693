"""Parallel duplicates against one pickup order, over real HTTP, then the invariants in SQL:
one order per out_order_no (at doorstep and at the company), one state-change event per
status, each company event taken once, one pickup and one refund per return."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    World,
    carrier_world,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.adapters.db import tables as t
from doorstep.domain.carrier_order import CarrierStatus
from doorstep.domain.returns import ReturnStatus
from doorstep.services import carrier_orders, returns

pytestmark = pytest.mark.slow

STATE_CHANGES = (
    "carrier_order.created",
    "carrier_order.accepted",
    "carrier_order.courier_assigned",
    "carrier_order.picked_up",
    "carrier_order.in_transit",
    "carrier_order.delivered",
    "carrier_order.failed",
    "carrier_order.cancelled",
    "carrier_order.settled",
)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with carrier_world(database_url) as w:
        yield w


def _event(w: World, number: str, event_id: str, kind: str, waybill: str) -> bytes:
    order = {
        "outOrderNo": number,
        "status": kind,
        "waybillNo": waybill,
        "courier": {"name": "张师傅", "mobile": "138****5678"},
    }
    body = {
        "eventId": event_id,
        "eventType": kind,
        "occurredAt": w.clock.now().isoformat(),
        "order": order,
    }
    return json.dumps(body).encode()


def _post(w: World, body: bytes) -> str:
    return w.post_callback(body)


def invariants(w: World) -> list[str]:
    """Every broken invariant of pickup orders and their events, read in SQL."""
    broken = []
    with w.app.engine.connect() as conn:
        e = t.events.c
        per_status = conn.execute(
            select(e.aggregate_id, e.name, func.count())
            .where(e.aggregate_type == "carrier_order", e.name.in_(STATE_CHANGES))
            .group_by(e.aggregate_id, e.name)
            .having(func.count() > 1)
        ).all()
        broken += [f"{a}: {n} recorded {c} times" for a, n, c in per_status]
        per_return = conn.execute(
            select(e.aggregate_id, e.name, func.count())
            .where(
                e.aggregate_type == "return_request",
                e.name.in_(("return.picked_up", "return.in_transit")),
            )
            .group_by(e.aggregate_id, e.name)
            .having(func.count() > 1)
        ).all()
        broken += [f"{a}: {n} recorded {c} times" for a, n, c in per_return]
        per_visit = conn.execute(
            select(t.pickup_orders.c.appointment_id, func.count())
            .where(t.pickup_orders.c.status.not_in(("failed", "cancelled", "create_failed")))
            .group_by(t.pickup_orders.c.appointment_id)
            .having(func.count() > 1)
        ).all()
        broken += [f"visit {a} has {c} live company orders" for a, c in per_visit]
        refunds = conn.execute(
            select(t.refunds.c.return_id, func.count())
            .group_by(t.refunds.c.return_id)
            .having(func.count() > 1)
        ).all()
        broken += [f"return {r} has {c} refunds" for r, c in refunds]
    broken += _parcels_hold_only_what_left(w)
    counts = Counter(o["outOrderNo"] for o in w.company_orders())
    broken += [f"the company holds {c} orders for {n}" for n, c in counts.items() if c > 1]
    return broken


# A company order past pickup names the returns in its parcel: none of them may still be
# waiting, withdrawn or refused (a withdrawn one listed there was once refunded at pickup).
_LEFT_THE_DOOR = ("picked_up", "in_transit", "delivered")
_NOT_IN_A_PARCEL = ("submitted", "approved", "awaiting_pickup", "cancelled", "rejected")


def _parcels_hold_only_what_left(w: World) -> list[str]:
    po, r = t.pickup_orders.c, t.returns.c
    with w.app.engine.connect() as conn:
        status = dict(conn.execute(select(r.return_id, r.status)).all())
        taken = conn.execute(select(po.out_order_no, po.doc).where(po.status.in_(_LEFT_THE_DOOR)))
        return [
            f"{number} took {rid}, which is {status.get(rid)}"
            for number, doc in taken
            for rid in (doc if isinstance(doc, dict) else json.loads(doc))["return_ids"]
            if status.get(rid, "missing") in (*_NOT_IN_A_PARCEL, "missing")
        ]


def test_parallel_duplicate_callbacks_apply_once(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    waybill = "SBX26112600000001"
    same = _event(w, number, "EV-race-picked-up", "PICKED_UP", waybill)
    outcome = race([lambda: _post(w, same) for _ in range(RACERS)])
    assert Counter(outcome.won) == {"applied": 1, "duplicate": RACERS - 1}
    # The company retrying with a fresh event id each time: one applies, the rest are late.
    fresh = [_event(w, number, f"EV-race-{i}", "IN_TRANSIT", waybill) for i in range(RACERS)]
    outcome = race([lambda body=body: _post(w, body) for body in fresh])
    assert Counter(outcome.won) == {"applied": 1, "late": RACERS - 1}
    po = carrier_orders.get_order(w.app.services, number)
    assert po is not None and po.status is CarrierStatus.IN_TRANSIT
    with w.app.engine.connect() as conn:
        taken = conn.execute(
            select(func.count())
            .select_from(t.carrier_inbox)
            .where(t.carrier_inbox.c.out_order_no == number)
        ).scalar()
    assert taken == 1 + 1 + RACERS  # accepted, the duplicated one once, each fresh id
    assert invariants(w) == []


def test_parallel_creates_make_one_order(world: World) -> None:
    w = world
    w.faults(fail_create="transient")
    number = w.book(w.approved_return())
    w.faults(fail_create="none")
    outcome = race(
        [lambda: carrier_orders.send_order(w.app.services, number) for _ in range(RACERS)]
    )
    assert len(outcome.won) == RACERS
    w.deliveries()
    po = carrier_orders.get_order(w.app.services, number)
    assert po is not None and po.carrier_order_id is not None and po.pending_op is None
    assert [o["outOrderNo"] for o in w.company_orders()].count(number) == 1
    assert invariants(w) == []


def test_duplicate_pickups_raced_with_a_withdrawal_take_and_refund_only_what_left(
    database_url: str,
) -> None:
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        refunded: list[str] = []
        for round_no in range(2):
            withdrawn, kept = w.approved_return(), w.approved_return()
            number = w.book(withdrawn, hour=9 + 2 * round_no)
            w.join(kept, number)
            w.deliveries()
            waybill = f"SBX2611260000010{round_no}"
            same = _event(w, number, f"EV-withdraw-race-{round_no}", "PICKED_UP", waybill)
            calls: list[Callable[[], object]] = [lambda b=same: _post(w, b)] * (RACERS - 1)
            calls.insert(
                RACERS // 2, lambda r=withdrawn: returns.cancel_return(svc, BUYER, r, "changed")
            )
            outcome = race(calls)
            said = Counter(x for x in outcome.won if isinstance(x, str))
            assert said == {"applied": 1, "duplicate": RACERS - 2}, said
            po = carrier_orders.get_order(svc, number)
            assert po is not None and po.status is CarrierStatus.PICKED_UP
            left = returns.get_return(svc, withdrawn).status
            if left is ReturnStatus.CANCELLED:  # withdrawn first: the parcel holds the other
                assert po.return_ids == [kept] and outcome.lost == []
            else:  # picked up first: too late to withdraw, both were refunded at the door
                assert left is ReturnStatus.PICKED_UP and po.return_ids == [withdrawn, kept]
                assert set(outcome.codes) <= {"illegal_transition", "stale_write"}
            assert returns.get_return(svc, kept).status is ReturnStatus.PICKED_UP
            # Express refunds at pickup: exactly the returns in the parcel, each once.
            refunded += po.return_ids
            assert sorted(k for k, _ in payments.log) == sorted(f"refund:{r}" for r in refunded)
        assert invariants(w) == []
        assert violations(w.app.engine, payments) == []
