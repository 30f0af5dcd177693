"""200 buyers race for one window of capacity 10: exactly 10 win, on every backend."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from doorstep.adapters.db import tables as t
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

RACERS = 200
CAPACITY = 10


def _approved_returns(app: App, n: int) -> list[str]:
    svc = app.services
    address = Address(
        "310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111"
    )
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"RACE-{batch}-{i:04d}",
            "buyer-001",
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            address,
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
            signed_at=signed,
        )
        for i in range(n)
    ]
    catalog.import_orders(svc, orders, None)
    ids = []
    for order in orders:
        r = returns.open_return(
            svc,
            OpenReturn(
                "buyer-001",
                order.order_id,
                ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.NO_REASON),),
            ),
        )
        assert r.status.value == "approved"
        ids.append(r.return_id)
    return ids


def test_exactly_capacity_bookings_succeed(wired: App) -> None:
    svc = wired.services
    ids = _approved_returns(wired, RACERS)
    choice = pickup.SlotChoice("yto", date(2026, 11, 26), time(9, 0))
    barrier = threading.Barrier(RACERS)
    won: list[str] = []
    lost: list[str] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def racer(return_id: str) -> None:
        barrier.wait()
        try:
            pickup.book_pickup(svc, "buyer-001", return_id, choice)
            with lock:
                won.append(return_id)
        except Conflict as exc:
            with lock:
                (lost if exc.code == "slot_full" else other).append(exc)  # type: ignore[arg-type]
        except BaseException as exc:
            with lock:
                other.append(exc)

    threads = [threading.Thread(target=racer, args=(rid,)) for rid in ids]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)

    assert other == []
    assert len(won) == CAPACITY
    assert len(lost) == RACERS - CAPACITY
    with wired.engine.connect() as conn:
        booked = conn.execute(
            select(t.slot_capacity.c.booked).where(
                t.slot_capacity.c.adcode == "310104",
                t.slot_capacity.c.carrier_id == "yto",
                t.slot_capacity.c.day == date(2026, 11, 26),
                t.slot_capacity.c.start == "09:00",
            )
        ).scalar_one()
        appointments = conn.execute(
            select(t.appointments.c.appointment_id).where(
                t.appointments.c.day == date(2026, 11, 26)
            )
        ).all()
        waiting = conn.execute(
            select(t.returns.c.return_id).where(t.returns.c.status == "awaiting_pickup")
        ).all()
    assert booked == CAPACITY
    assert len(appointments) == CAPACITY
    assert sorted(r.return_id for r in waiting) == sorted(won)


def test_cancel_and_reschedule_give_capacity_back(wired: App) -> None:
    svc = wired.services
    ids = _approved_returns(wired, CAPACITY + 1)
    full = pickup.SlotChoice("yto", date(2026, 11, 26), time(11, 0))
    other = pickup.SlotChoice("yto", date(2026, 11, 26), time(13, 0))
    appts = [pickup.book_pickup(svc, "buyer-001", rid, full) for rid in ids[:CAPACITY]]
    try:
        pickup.book_pickup(svc, "buyer-001", ids[CAPACITY], full)
        raise AssertionError("overbooked")
    except Conflict as exc:
        assert exc.code == "slot_full"
    pickup.reschedule_pickup(svc, "buyer-001", appts[0].appointment_id, other)
    pickup.book_pickup(svc, "buyer-001", ids[CAPACITY], full)  # the moved one freed a place
    try:
        pickup.book_pickup(svc, "buyer-001", ids[0], full)
        raise AssertionError("a return with a pickup was booked twice")
    except Conflict as exc:
        assert exc.code == "not_bookable"
    pickup.cancel_pickup(svc, "buyer-001", appts[1].appointment_id)
    assert returns.get_return(svc, ids[1]).status.value == "approved"
    pickup.book_pickup(svc, "buyer-001", ids[1], full)
