"""Transit damage on company-served pickups graded 24 at once (four damaged returns, each
graded six times), on SQLite and PostgreSQL: each return is charged to the company once, at
most the value its pickup order declared for it (保价), the rest kept as doorstep's loss;
then the invariants in SQL (``races.violations``) and the declared-value check below.

The parcels: one whose two returns the order declared together, shared out of the company's
maximum insured value; one bought with a coupon (declared what was paid, under the maximum);
one above the maximum on its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import time
from itertools import cycle
from typing import Any

import pytest
from sqlalchemy import Connection, text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    transfer_violations,
    violations,
)
from tests.integration.test_races import BUYER, TOMORROW, WH  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.carrier_order import CarrierUpdate, CourierInfo, PickupOrder, UpdateKind
from doorstep.domain.order import Channel, Order, OrderLine, Promotions
from doorstep.domain.pickup import FailureReason
from doorstep.domain.returns import Grade, Reason, ReturnKind, ReturnStatus
from doorstep.services import carrier_callbacks, pickup, returns, warehouse
from doorstep.services.returns import LineRequest, OpenReturn

FENGXIAN = Address(
    "310120", "上海市", "上海市", "奉贤区", "南桥镇解放东路88号", "林晓雯", "13800001111"
)
MAX_INSURED = 300_000  # the sandbox company's maximum insured value in this test
PILLOW = "CN-LATEX-PILLOW"


@pytest.fixture
def payments() -> RecordingPayments:
    return RecordingPayments()


def _return(app: App, n: int, unit_fen: int, quantity: int = 1, coupon_fen: int = 0) -> str:
    """An approved no-reason return of every unit of a fresh order at Fengxian."""
    svc = app.services
    now = svc.clock.now()
    order = Order(
        f"O-INS-{n}-{svc.ids.new('X')}", BUYER, "shop-test", Channel.DOMESTIC,
        now.replace(day=now.day - 3), FENGXIAN,
        (OrderLine("L1", PILLOW, quantity, unit_fen),),
        signed_at=now.replace(day=now.day - 1), promotions=Promotions(coupon_fen=coupon_fen),
    )  # fmt: skip
    with svc.uow() as uow:
        uow.orders.put(order)
        uow.commit()
    request = returns.open_return(
        svc,
        OpenReturn(
            BUYER, order.order_id, ReturnKind.REFUND,
            (LineRequest("L1", quantity, Reason.NO_REASON),),
        ),
    )  # fmt: skip
    assert request.status is ReturnStatus.APPROVED, request.decision
    return request.return_id


def _latest(app: App, appointment_id: str) -> PickupOrder:
    with app.services.uow() as uow:
        orders = uow.pickup_orders.for_appointments([appointment_id])
    return max(orders, key=lambda po: (po.created_at, po.out_order_no))


def _event(app: App, po: PickupOrder, kind: UpdateKind, **facts: Any) -> None:
    update = CarrierUpdate(
        f"EV-{po.out_order_no}-{kind.value}", po.out_order_no, kind, app.services.clock.now(),
        courier=CourierInfo("张师傅", "138****5678"), **facts,
    )  # fmt: skip
    assert carrier_callbacks.apply_update(app.services, "sbx", update, source="callback") in (
        "applied"
    )


def _parcel(app: App, start: int, return_ids: list[str]) -> PickupOrder:
    """The returns booked with the company; several: joined, the first attempt failed and
    the moved visit's new order declares them together. Picked up and received."""
    svc = app.services
    choice = pickup.SlotChoice("sbx", TOMORROW, time(start))
    appt = pickup.book_pickup(svc, BUYER, return_ids[0], choice)
    if len(return_ids) > 1:
        for rid in return_ids[1:]:
            pickup.join_pickup(svc, BUYER, rid, appt.appointment_id)
        failed = _latest(app, appt.appointment_id)
        _event(app, failed, UpdateKind.PICKUP_FAILED, failure_reason=FailureReason.NO_ACCESS)
        pickup.reschedule_pickup(svc, BUYER, appt.appointment_id, replace(choice, start=time(17)))
    po = _latest(app, appt.appointment_id)
    assert po.return_ids == return_ids
    _event(app, po, UpdateKind.PICKED_UP, waybill_no=f"SBX{start:02d}00000000001")
    for rid in return_ids:
        warehouse.receive(svc, WH, rid)
    return _latest(app, appt.appointment_id)


def _declared_value_violations(conn: Connection) -> list[str]:
    """No company charged above the value declared for the return (or, undeclared, its
    cap), charge and doorstep's loss adding up to the goods, no parcel charged above its
    declared value."""
    found = []
    declared: dict[str, tuple[str, int]] = {}
    parcels: dict[str, int] = {}
    for number, raw in conn.execute(text("SELECT out_order_no, doc FROM pickup_orders")).all():
        doc = raw if isinstance(raw, dict) else json.loads(raw)
        parcels[number] = doc["order"]["cargo"]["insured_value_fen"]
        for rid, part in (doc.get("insured_fen") or {}).items():
            if rid in doc["return_ids"] and doc["status"] in ("picked_up", "delivered"):
                declared[rid] = (number, part)
    charged_per_parcel: dict[str, int] = {}
    rows = conn.execute(
        text(
            "SELECT c.doc, l.amount_fen, l.uninsured_fen FROM carrier_ledger l"
            " JOIN claims c ON c.claim_id = l.claim_id WHERE c.kind = 'transit_damage'"
        )
    ).all()
    for raw, amount, uninsured in rows:
        claim = raw if isinstance(raw, dict) else json.loads(raw)
        rid, charged = claim["return_id"], -amount
        goods = claim["paid"]["total_fen"]
        if charged + uninsured != goods or uninsured != claim["uninsured_fen"]:
            found.append(f"charge {charged} + loss {uninsured} is not the goods {goods}: {rid}")
        if rid in declared:
            number, part = declared[rid]
            charged_per_parcel[number] = charged_per_parcel.get(number, 0) + charged
            if charged > part:
                found.append(f"charged {charged} above the declared {part}: {rid}")
            if claim["insured_fen"] != part:
                found.append(f"claim of {rid} names {claim['insured_fen']}, declared {part}")
    for number, charged in charged_per_parcel.items():
        if charged > parcels[number]:
            found.append(f"parcel {number} charged {charged} above {parcels[number]}")
    return found


def test_grading_damaged_company_parcels_at_once_charges_at_most_the_declared_value(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    with svc.uow() as uow:
        sbx = uow.carriers.get("sbx")
        assert sbx is not None and not sbx.own_fleet
        uow.carriers.put(replace(sbx, max_insured_fen=MAX_INSURED))
        uow.commit()
    joined = [_return(wired, 1, 250_000), _return(wired, 2, 150_000)]
    coupon = _return(wired, 3, 39_900, quantity=2, coupon_fen=20_000)
    dear = _return(wired, 4, 420_000)
    parcels = [_parcel(wired, 9, joined), _parcel(wired, 11, [coupon]), _parcel(wired, 13, [dear])]
    assert [po.insured_fen for po in parcels] == [
        {joined[0]: 187_500, joined[1]: 112_500},  # 400,000 paid, 300,000 shared 5 : 3
        {coupon: 59_800},  # two pillows less the coupon, not 79,800
        {dear: MAX_INSURED},
    ]
    rids = [*joined, coupon, dear]
    source = cycle(rids)

    def grading(rid: str) -> Callable[[], Any]:
        return lambda: warehouse.grade(svc, WH, rid, Grade.C, "crushed", ("QC",), damaged=True)

    out = race([grading(next(source)) for _ in range(RACERS)])
    assert len(out.won) == len(rids)  # one grade per received parcel, its claim once
    assert set(out.codes) <= {"illegal_transition"}, out.codes
    for rid in rids:
        assert returns.get_return(svc, rid).status is ReturnStatus.REFUNDED
    with wired.engine.connect() as conn:
        assert _declared_value_violations(conn) == []
        charges = dict(
            conn.execute(
                text(
                    "SELECT c.return_id, -l.amount_fen FROM carrier_ledger l JOIN ("
                    + " UNION ".join(f"SELECT '{r}' AS return_id" for r in rids)
                    + ") c ON l.note = 'transit_damage ' || c.return_id"
                )
            ).all()
        )
        conn.rollback()
    assert charges == {joined[0]: 187_500, joined[1]: 112_500, coupon: 59_800, dear: MAX_INSURED}
    assert violations(wired, payments) == []
    assert transfer_violations(wired.engine, payments) == []
