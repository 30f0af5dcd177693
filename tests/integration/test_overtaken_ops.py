"""Pickups that overtook our cancel and left returns to ops: the list and settling them,
through the service, the API and the console, raced on both backends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
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
from tests.integration.test_carrier_races import _event  # type: ignore[import-not-found]
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]

from doorstep.domain.carrier_order import CarrierStatus
from doorstep.domain.errors import NotFound
from doorstep.services import cancel_overtaken, carrier_orders, pickup

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Overtaken:
    """A visit of two returns the buyer cancelled after the company's courier had taken the
    parcel, then booked one of them (``again``) on another visit: the late PICKED_UP took
    ``free`` and left ``again`` to ops."""

    number: str
    free: str
    again: str
    elsewhere: str  # the visit ``again`` is booked on now


def overtaken_case(w: World) -> Overtaken:
    """The case above, made through the company's sandbox and doorstep's own paths."""
    svc = w.app.services
    number = w.book(w.approved_return(), hour=9)
    w.join(w.approved_return(), number)
    w.deliveries()
    w.faults(drop=True)  # the company's callbacks are lost
    w.advance(number, "COURIER_ASSIGNED")
    taken = w.advance(number, "PICKED_UP")
    w.deliveries()
    w.faults(drop=False)
    pickup.cancel_pickup(svc, BUYER, number.rsplit("-", 1)[0])
    po = carrier_orders.get_order(svc, number)
    assert po is not None and po.cancel_refused  # the company refused it at once
    free, again = po.return_ids
    elsewhere = pickup.book_pickup(svc, BUYER, again, pickup.SlotChoice("sbx", TOMORROW, time(11)))
    w.deliveries()
    for n, kind in enumerate(("PICKED_UP", "IN_TRANSIT", "DELIVERED")):
        body = _event(w, number, f"EV-late-{number}-{n}", kind, taken["waybillNo"])
        assert w.post_callback(body) == "applied"
    w.deliveries()
    return Overtaken(number, free, again, elsewhere.appointment_id)


def _rows(w: World, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with w.app.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _ops_headers(w: World) -> dict[str, str]:
    token = httpx.post(
        f"{w.doorstep}/auth/token",
        data={"username": "ops1", "password": "demo-ops1"},
        timeout=60,
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_ops_list_and_settle_an_overtaken_cancel_over_http(database_url: str) -> None:
    with carrier_world(database_url, RecordingPayments()) as w:
        case = overtaken_case(w)
        ops = _ops_headers(w)
        listed = httpx.get(f"{w.doorstep}/ops/carrier-orders/overtaken", headers=ops, timeout=60)
        assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
        [shown] = listed.json()
        assert shown["order"]["out_order_no"] == case.number
        assert shown["order"]["status"] == CarrierStatus.DELIVERED.value
        assert shown["order"]["needs_ops"] == [case.again]
        assert [(r["return_id"], r["status"], r["appointment_id"]) for r in shown["left"]] == [
            (case.again, "awaiting_pickup", case.elsewhere)
        ]
        url = f"{w.doorstep}/ops/carrier-orders/{case.number}/settle"
        for bad in ({}, {"note": ""}, {"note": "x" * 501}, {"note": "ok", "extra": 1}):
            refused = httpx.post(url, json=bad, headers=ops, timeout=60)
            assert refused.status_code == 422, (bad, refused.text)
        done = httpx.post(url, json={"note": " buyer keeps both "}, headers=ops, timeout=60)
        assert done.status_code == 200, done.text
        assert done.json()["ops_note"] == "buyer keeps both"
        assert done.json()["ops_settled_by"] and done.json()["ops_settled_at"]
        again = httpx.post(url, json={"note": "twice"}, headers=ops, timeout=60)
        assert again.status_code == 409 and again.json()["code"] == "ops_case_settled"
        empty = httpx.get(f"{w.doorstep}/ops/carrier-orders/overtaken", headers=ops, timeout=60)
        assert empty.json() == [] and empty.headers["X-Total-Count"] == "0"
        unknown = httpx.post(
            f"{w.doorstep}/ops/carrier-orders/NO-SUCH-1/settle",
            json={"note": "x"},
            headers=ops,
            timeout=60,
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "carrier_order_not_found"
        [(data,)] = _rows(
            w,
            "SELECT data FROM events WHERE aggregate_id = :n AND name = 'carrier_order.ops_settled'",
            n=case.number,
        )
        data = data if isinstance(data, dict) else json.loads(data)
        assert data["note"] == "buyer keeps both" and data["return_ids"] == [case.again]
        # Nothing else moved: the return booked again keeps its own visit.
        status = dict(_rows(w, "SELECT return_id, status FROM returns"))
        assert status[case.again] == "awaiting_pickup"


def test_an_order_with_nothing_for_ops_is_not_settled(database_url: str) -> None:
    with carrier_world(database_url, RecordingPayments()) as w:
        number = w.book(w.approved_return(), hour=9)
        with pytest.raises(NotFound, match="ops_case_not_found"):
            cancel_overtaken.settle(w.app.services, "ops-1", number, "nothing to do")
        assert cancel_overtaken.awaiting(w.app.services).total == 0


def test_many_consoles_settling_at_once_settle_once(database_url: str) -> None:
    """Ops settling one case from many consoles, while the company keeps reporting on the
    order: one settle wins, the rest are told it is settled, and the order's columns, the
    money and the windows hold."""
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        case = overtaken_case(w)
        other = overtaken_case(w)
        svc = w.app.services

        def settle(number: str, n: int) -> Any:
            return lambda: cancel_overtaken.settle(svc, f"ops-{n}", number, f"note {n}")

        calls = [settle(case.number, n) for n in range(RACERS - 4)]
        calls += [settle(other.number, n) for n in range(4)]
        out = race(calls)
        assert len(out.won) == 2, out.codes
        assert out.codes == {"ops_case_settled": RACERS - 2}
        settled = _rows(
            w,
            "SELECT aggregate_id, COUNT(*) FROM events WHERE name = 'carrier_order.ops_settled' "
            "GROUP BY aggregate_id ORDER BY aggregate_id",
        )
        assert settled == sorted([(case.number, 1), (other.number, 1)])
        assert cancel_overtaken.awaiting(svc).total == 0
        assert violations(w.app, payments) == []


BEFORE = "a3c6e8f1d259"  # the revision before pickup_orders.cancel_refused/awaits_ops_since
_ORDERS = sa.table("pickup_orders", sa.column("out_order_no", sa.String), sa.column("doc", sa.JSON))
# What the code before the ops list wrote (and before session 18: ``cancelled_by_us``).
_NEWER_FIELDS = ("needs_ops", "needs_ops_at", "ops_settled_at", "ops_settled_by", "ops_note")


def _as_older_code_wrote(w: World, number: str, *also: str) -> None:
    with w.app.engine.begin() as conn:
        raw = conn.execute(
            sa.select(_ORDERS.c.doc).where(_ORDERS.c.out_order_no == number)
        ).scalar_one()
        doc = dict(raw if isinstance(raw, dict) else json.loads(raw))
        for name in (*_NEWER_FIELDS, *also):
            doc.pop(name, None)
        conn.execute(sa.update(_ORDERS).where(_ORDERS.c.out_order_no == number).values(doc=doc))


def test_upgrading_lists_old_overtaken_cancels_and_keeps_refused_cancels_polled(
    database_url: str,
) -> None:
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        case = overtaken_case(w)
        # A cancel the company accepted, and one it refused (its courier had the parcel).
        accepted = w.book(w.approved_return(), hour=11)
        refused = w.book(w.approved_return(), hour=13)
        w.deliveries()
        w.faults(drop=True)
        w.advance(refused, "PICKED_UP")
        w.deliveries()
        w.faults(drop=False)
        for number in (accepted, refused):
            pickup.cancel_pickup(svc, BUYER, number.rsplit("-", 1)[0])
        w.deliveries()

        w.app.engine.dispose()
        cfg = _alembic(database_url)
        command.downgrade(cfg, BEFORE)
        _as_older_code_wrote(w, case.number)
        for number in (accepted, refused):
            _as_older_code_wrote(w, number, "cancelled_by_us")
        command.upgrade(cfg, "head")

        [shown] = cancel_overtaken.awaiting(svc).shown
        assert shown.order.out_order_no == case.number
        assert shown.order.needs_ops == [case.again] and shown.order.needs_ops_at is not None
        assert [r.return_id for r in shown.left] == [case.again]
        for number in (accepted, refused):
            po = carrier_orders.get_order(svc, number)
            assert po is not None and po.cancelled_by_us, number
        refused_po = carrier_orders.get_order(svc, refused)
        assert refused_po is not None and refused_po.cancel_refused
        w.clock.advance(hours=2)
        with svc.uow() as uow:
            assert refused in uow.pickup_orders.quiet(w.clock.now(), 100)
            assert accepted not in uow.pickup_orders.quiet(w.clock.now(), 100)
        assert violations(w.app, payments) == []
        # Settled after the upgrade, it leaves the list as a new one does.
        cancel_overtaken.settle(svc, "ops-1", case.number, "buyer told")
        assert cancel_overtaken.awaiting(svc).total == 0
