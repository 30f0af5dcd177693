"""A courier company's callbacks take the visit's lock order (docs/next.md, "Known design
debts"), on SQLite and PostgreSQL, over real HTTP against the sandbox company, 24 at once.

Every path that changes a visit locks its returns' rows first, in key order, then the window,
the company order and the routes (``pickup._locked_visit``). A callback locked the company
order first, then for CANCELLED gave back the window, for RESCHEDULED moved it, and for
FAILED / PICKED_UP saved the returns it had read unlocked. Raced with the buyer withdrawing,
cancelling or moving the same visit (the return, the window, then the order): PostgreSQL
aborted one of the two on a deadlock, or the callback saved a return the buyer had changed
(``stale_write``, retried by ``apply_update``; a buyer's withdrawal answered ``stale_write``).

Here: the buyer's answers are only what the company's event did (``illegal_transition``),
never ``stale_write``; every callback is answered 200 (applied, late, duplicate); the
invariants hold in SQL (``races.violations``: each window's booked counter is its holding
visits and the failed attempts made there), and no withdrawn return was taken in a parcel.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    FENGXIAN,
    SECRET,
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
    _parcels_hold_only_what_left,
)

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.carrier_orders import PickupOrderRepo
from doorstep.domain.carrier_order import CarrierStatus
from doorstep.domain.coverage import Window
from doorstep.domain.pickup import SlotRef
from doorstep.domain.returns import ReturnStatus
from doorstep.domain.signature import signed_headers
from doorstep.services import carrier_callbacks, carrier_orders, pickup, returns

pytestmark = pytest.mark.slow

ROUNDS = 3
VISITS = RACERS // 2  # each raced by one callback and one buyer's call
HOURS = (9, 11, 13, 15)
KINDS = ("CANCELLED", "RESCHEDULED", "PICKUP_FAILED", "PICKED_UP")
ACTIONS = ("withdrawn", "cancelled", "moved")
# What a buyer may lose to: the company's event changed the visit first (cancelled, failed,
# picked up, or moved: a move that found it gone).
BUYER_LOSSES = {"illegal_transition", "not_movable", "visit_not_movable"}


class _Retries:
    """Counts ``carrier_update_retried`` (an event applied again after a lost write) by
    reason; the log is wrapped, not replaced, so the message still goes out."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def info(self, event: str, **kw: Any) -> Any:
        if event == "carrier_update_retried":
            with self.lock:
                self.seen[str(kw.get("reason"))] += 1
        return self.inner.info(event, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _slot(hour: int) -> SlotRef:
    return SlotRef(FENGXIAN.adcode, "sbx", TOMORROW, Window(time(hour), time(hour + 2)))


def _body(w: World, number: str, event_id: str, kind: str, hour: int) -> bytes:
    order: dict[str, Any] = {"outOrderNo": number, "status": kind}
    if kind == "RESCHEDULED":
        order |= {
            "status": "ACCEPTED",
            "pickupDate": TOMORROW.isoformat(),
            "pickupStart": f"{hour:02d}:00",
            "pickupEnd": f"{hour + 2:02d}:00",
        }
    elif kind == "PICKUP_FAILED":
        order["failReason"] = "CUSTOMER_UNREACHABLE"
    elif kind == "PICKED_UP":
        order |= {
            "waybillNo": f"SBX{abs(hash(number)) % 10**14:014d}",
            "courier": {"name": "张师傅", "mobile": "138****5678"},
        }
    body = {
        "eventId": event_id,
        "eventType": kind,
        "occurredAt": w.company_now().isoformat(),
        "order": order,
    }
    return json.dumps(body).encode()


def _callback(w: World, body: bytes) -> tuple[str, int, str]:
    """Post one signed callback; ("callback", HTTP status, outcome or error code)."""
    headers = {"Content-Type": "application/json"}
    headers |= signed_headers(SECRET, w.clock.now(), body)
    answer = httpx.post(
        f"{w.doorstep}/carriers/sbx/callbacks", content=body, headers=headers, timeout=120
    )
    said = answer.json()
    return "callback", answer.status_code, str(said.get("outcome", said.get("code")))


def _withdrawn_yet_picked_up(w: World) -> list[str]:
    """A return withdrawn (cancelled) that a pickup event still names."""
    e, r = t.events.c, t.returns.c
    with w.app.engine.connect() as conn:
        rows = conn.execute(
            select(r.return_id)
            .join(t.events, (e.aggregate_id == r.return_id) & (e.name == "return.picked_up"))
            .where(r.status == "cancelled")
        ).all()
    return [f"withdrawn return {row.return_id} was picked up" for row in rows]


def _make_room(w: World) -> None:
    """Room for every booking and move: the races are about locks, not capacity."""
    with w.app.services.uow() as uow:
        for hour in HOURS:
            uow.slots.set_capacity(_slot(hour), 4 * VISITS)
        uow.commit()


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> _Retries:
    counted = _Retries(carrier_callbacks.log)
    monkeypatch.setattr(carrier_callbacks, "log", counted)
    return counted


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[World, RecordingPayments]]:
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        yield w, payments


def test_callbacks_raced_with_the_buyer_on_the_same_visits_take_the_returns_first(
    world: tuple[World, RecordingPayments], retries: _Retries
) -> None:
    w, payments = world
    svc = w.app.services
    _make_room(w)
    buyer_codes: Counter[str] = Counter()
    callbacks: Counter[tuple[int, str]] = Counter()
    for round_no in range(ROUNDS):
        visits: list[tuple[str, list[str]]] = []
        for i in range(VISITS):
            first = w.approved_return()
            number = w.book(first, hour=9)
            ids = [first]
            if (i // 4 + round_no) % 2:  # half the visits carry two returns
                ids.append(w.approved_return())
                w.join(ids[-1], number)
            visits.append((number, ids))
        w.deliveries()
        calls: list[Callable[[], Any]] = []
        for i, (number, ids) in enumerate(visits):
            kind, action = KINDS[i % len(KINDS)], ACTIONS[i % len(ACTIONS)]
            body = _body(w, number, f"EV-lock-{round_no}-{i}", kind, hour=11)
            calls.append(lambda b=body: _callback(w, b))
            visit = number.rsplit("-", 1)[0]
            if action == "withdrawn":
                calls.append(
                    lambda r=ids[0]: ("withdrawn", returns.cancel_return(svc, BUYER, r, "changed"))
                )
            elif action == "cancelled":
                calls.append(lambda a=visit: ("cancelled", pickup.cancel_pickup(svc, BUYER, a)))
            else:
                calls.append(
                    lambda a=visit: (
                        "moved",
                        pickup.reschedule_pickup(
                            svc, BUYER, a, pickup.SlotChoice("sbx", TOMORROW, time(13))
                        ),
                    )
                )
        assert len(calls) == RACERS
        out = race(calls)
        answered = Counter((won[1], won[2]) for won in out.won if won[0] == "callback")
        callbacks += answered
        buyer_codes += out.codes
        print(
            f"round {round_no}: buyer losses {dict(out.codes)}, callbacks {dict(answered)}, "
            f"callback retries {dict(retries.seen)}"
        )
        w.deliveries()
        # What a send lost to a change made meanwhile goes out with the worker's next pass.
        carrier_orders.send_pending_orders(svc, w.clock.now())
        w.deliveries()
    print(f"all rounds: buyer losses {dict(buyer_codes)}, callbacks {dict(callbacks)}")
    print(f"callback retries {dict(retries.seen)}")
    assert set(buyer_codes) <= BUYER_LOSSES, buyer_codes
    assert sum(callbacks.values()) == VISITS * ROUNDS
    assert {status for status, _ in callbacks} == {200}, callbacks
    assert {said for _, said in callbacks} <= {"applied", "late", "duplicate"}, callbacks
    # Taking the returns first, a callback queues behind the buyer: it never loses a write
    # it must apply again (a deadlock, a stale return), which it did on PostgreSQL before.
    assert retries.seen == Counter(), retries.seen
    # A failed visit's returns wait on it for a new booking, and each failure keeps the
    # window it was made in after the visit moved or was cancelled (``races.violations``).
    broken = violations(w.app, payments)
    broken += _withdrawn_yet_picked_up(w) + _parcels_hold_only_what_left(w)
    assert broken == [], "\n".join(broken)


def test_pickups_raced_with_joins_take_every_return_that_joined_first(
    world: tuple[World, RecordingPayments], retries: _Retries
) -> None:
    """A return joining the visit between the callback's unlocked read of the order and its
    lock makes the callback start over (``returns_changed``) and take it too; one that
    comes after the pickup is refused. Either way the parcel holds exactly the returns
    picked up, and no return waits on a visit already done."""
    w, payments = world
    svc = w.app.services
    _make_room(w)
    for round_no in range(ROUNDS):
        visits = [(w.book(w.approved_return(), hour=9), w.approved_return()) for _ in range(VISITS)]
        w.deliveries()
        calls: list[Callable[[], Any]] = []
        for i, (number, joining) in enumerate(visits):
            body = _body(w, number, f"EV-join-{round_no}-{i}", "PICKED_UP", hour=9)
            calls.append(lambda b=body: _callback(w, b))
            calls.append(lambda r=joining, n=number: ("joined", w.join(r, n)))
        out = race(calls)
        answered = Counter((won[1], won[2]) for won in out.won if won[0] == "callback")
        print(
            f"round {round_no}: join losses {dict(out.codes)}, callbacks {dict(answered)}, "
            f"callback retries {dict(retries.seen)}"
        )
        assert set(out.codes) <= {"illegal_transition"}, out.codes
        assert answered == {(200, "applied"): VISITS}, answered
        for number, joining in visits:
            po = carrier_orders.get_order(svc, number)
            assert po is not None
            refused = returns.get_return(svc, joining).status is ReturnStatus.APPROVED
            # Joined first: in the parcel; refused (after the pickup): not on the visit.
            assert (joining not in po.return_ids) is refused, (number, po.return_ids)
            assert po.status is CarrierStatus.PICKED_UP, (number, po.status)
        w.deliveries()
    assert set(retries.seen) <= {"returns_changed"}, retries.seen
    broken = violations(w.app, payments) + _parcels_hold_only_what_left(w)
    assert broken == [], "\n".join(broken)


def test_a_return_joining_between_the_two_reads_makes_the_callback_start_over(
    world: tuple[World, RecordingPayments], retries: _Retries, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The join commits between the callback's unlocked read of the order and its lock (the
    race above rarely hits that instant, so the first read is made to see the order as it
    was): the callback starts over with both returns locked and takes both."""
    w, payments = world
    svc = w.app.services
    _make_room(w)
    first, joining = w.approved_return(), w.approved_return()
    number = w.book(first, hour=9)
    w.deliveries()
    before = carrier_orders.get_order(svc, number)
    w.join(joining, number)
    stale = iter([before])
    real_get = PickupOrderRepo.get

    def get(repo: PickupOrderRepo, key: str) -> Any:
        seen = next(stale, None) if key == number else None
        return seen if seen is not None else real_get(repo, key)

    monkeypatch.setattr(PickupOrderRepo, "get", get)
    assert w.post_callback(_body(w, number, "EV-join-between", "PICKED_UP", hour=9)) == "applied"
    assert retries.seen == Counter({"returns_changed": 1})
    po = carrier_orders.get_order(svc, number)
    assert po is not None and po.return_ids == [first, joining]
    assert {returns.get_return(svc, r).status for r in po.return_ids} == {ReturnStatus.PICKED_UP}
    w.deliveries()
    broken = violations(w.app, payments) + _parcels_hold_only_what_left(w)
    assert broken == [], "\n".join(broken)
