"""A company-served district over real HTTP against the sandbox courier company, with each of
its faults: duplicated, reordered, replayed, forged, late and lost callbacks, failed creates.
Whatever arrives, a pickup order's state never goes back. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.carrier_world import (  # type: ignore[import-not-found]
    BUYER,
    FENGXIAN,
    SECRET,
    TOMORROW,
    World,
    carrier_world,
)
from tests.integration.races import (  # type: ignore[import-not-found]
    RecordingPayments,
    violations,
)

from doorstep.adapters.db import tables as t
from doorstep.domain.carrier_order import CarrierStatus, PendingOp
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.pickup import AppointmentStatus
from doorstep.domain.returns import ReturnStatus
from doorstep.domain.signature import signed_headers
from doorstep.services import (
    carrier_callbacks,
    carrier_orders,
    disruptions,
    pickup,
    returns,
    timeline,
    warehouse,
)
from doorstep.services.carrier_polling import poll_quiet_orders

pytestmark = pytest.mark.slow


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with carrier_world(database_url) as w:
        yield w


def _order(w: World, number: str) -> Any:
    po = carrier_orders.get_order(w.app.services, number)
    assert po is not None
    return po


def _status(w: World, number: str) -> CarrierStatus:
    status: CarrierStatus = _order(w, number).status
    return status


def _events(w: World, aggregate_id: str) -> list[str]:
    with w.app.engine.connect() as conn:
        rows = conn.execute(
            select(t.events.c.name)
            .where(t.events.c.aggregate_id == aggregate_id)
            .order_by(t.events.c.seq)
        )
        return [r.name for r in rows]


def _post(w: World, body: bytes, headers: dict[str, str], carrier: str = "sbx") -> httpx.Response:
    return httpx.post(
        f"{w.doorstep}/carriers/{carrier}/callbacks",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )


def _signed_event(w: World, number: str, event_id: str, event_type: str, **order: Any) -> bytes:
    snapshot = {"outOrderNo": number, "status": event_type, **order}
    body = {
        "eventId": event_id,
        "eventType": event_type,
        "occurredAt": w.clock.now().isoformat(),
        "order": snapshot,
    }
    return json.dumps(body).encode()


# --- the whole way, no faults ----------------------------------------------------------------


def test_company_pickup_from_booking_to_warehouse(world: World) -> None:
    w = world
    svc = w.app.services
    return_id = w.approved_return()
    number = w.book(return_id)
    # Sent after the booking committed; the company accepted it and called back.
    w.deliveries()
    po = _order(w, number)
    assert po.carrier_order_id is not None and po.status is CarrierStatus.ACCEPTED
    assert po.pending_op is None
    [company] = [o for o in w.company_orders() if o["outOrderNo"] == number]
    assert company["orderId"] == po.carrier_order_id

    w.advance(number, "COURIER_ASSIGNED")
    w.deliveries()
    po = _order(w, number)
    assert po.courier is not None and "****" in po.courier.mobile_masked
    appt = pickup.get_appointment(svc, po.appointment_id, buyer_id=BUYER)
    assert appt.status is AppointmentStatus.ASSIGNED
    # The buyer sees the company's courier and window; another buyer sees nothing.
    shown = carrier_orders.visit_order(svc, po.appointment_id, BUYER)
    assert shown.courier == po.courier and shown.order.start == po.order.start
    with pytest.raises(Exception, match="not_found"):
        carrier_orders.visit_order(svc, po.appointment_id, "buyer-002")

    picked = w.advance(number, "PICKED_UP")
    w.deliveries()
    request = returns.get_return(svc, return_id)
    assert request.status is ReturnStatus.PICKED_UP
    assert request.waybill_no == picked["waybillNo"]
    assert request.inspection is not None and request.inspection.courier_id == "ext:sbx"
    appt = pickup.get_appointment(svc, po.appointment_id, buyer_id=BUYER)
    assert appt.status is AppointmentStatus.COMPLETED
    assert request.refund_id is not None  # trusted buyer: express refund at pickup

    w.advance(number, "IN_TRANSIT")
    w.advance(number, "DELIVERED")
    w.advance(number, "SETTLED", weightG=1350, freightFen=1800)
    w.deliveries()
    po = _order(w, number)
    assert po.status is CarrierStatus.DELIVERED
    assert (po.actual_weight_g, po.freight_fen) == (1350, 1800)
    assert returns.get_return(svc, return_id).status is ReturnStatus.IN_TRANSIT

    # The warehouse scans the waybill: received; a second scan is refused.
    received = warehouse.receive_waybill(svc, "wh-sh-bonded", picked["waybillNo"])
    assert [r.return_id for r in received] == [return_id]
    assert received[0].status is ReturnStatus.RECEIVED
    with pytest.raises(Exception, match="waybill_already_received"):
        warehouse.receive_waybill(svc, "wh-sh-bonded", picked["waybillNo"])
    parcel = warehouse.parcel(svc, return_id)
    assert parcel.carrier_order is not None and parcel.request.inspection is not None

    names = [e.name for e in timeline.timeline(svc, return_id, buyer_id=BUYER)]
    for expected in (
        "return.pickup_scheduled",
        "carrier_order.courier_assigned",
        "return.picked_up",
        "return.in_transit",
        "return.arrived_at_warehouse",
        "carrier_order.settled",
        "return.received",
    ):
        assert expected in names, expected

    # Every request to the company was kept for support, with the phone masked.
    creates = svc.exchanges.recent("sbx", number)
    sent = [x for x in creates if x.operation == "create"]
    assert sent and sent[0].outcome == "ok"
    text = json.dumps(sent[0].request, ensure_ascii=False)
    assert "13800001111" not in text and "138****1111" in text
    assert any(x.operation == "callback" and x.outcome == "applied" for x in creates)


# --- faults ----------------------------------------------------------------------------------


def test_duplicated_callbacks_apply_once(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    w.faults(duplicate=True)
    w.advance(number, "COURIER_ASSIGNED")
    w.advance(number, "PICKED_UP")
    sent = w.deliveries()
    assert sum(d["event_type"] == "PICKED_UP" for d in sent) == 2
    names = _events(w, number)
    assert names.count("carrier_order.picked_up") == 1
    assert names.count("carrier_order.courier_assigned") == 1
    outcomes = [x.outcome for x in w.app.services.exchanges.recent("sbx", number)]
    assert outcomes.count("duplicate") == 2


def test_reordered_callbacks_never_move_back(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    w.faults(reorder=True)
    w.advance(number, "COURIER_ASSIGNED")  # held back ...
    w.advance(number, "PICKED_UP")  # ... and sent after this one
    sent = w.deliveries()
    assert [d["event_type"] for d in sent[-2:]] == ["PICKED_UP", "COURIER_ASSIGNED"]
    po = _order(w, number)
    assert po.status is CarrierStatus.PICKED_UP and po.late_updates == 1
    assert po.courier is not None  # the picked-up event carried the courier it skipped
    names = _events(w, number)
    assert names.count("carrier_order.late_update") == 1
    assert names.index("carrier_order.picked_up") < names.index("carrier_order.late_update")
    request = returns.get_return(w.app.services, po.return_ids[0])
    assert request.status is ReturnStatus.PICKED_UP


def test_replayed_callback_is_a_duplicate_then_refused_as_stale(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.advance(number, "COURIER_ASSIGNED")
    original = [d for d in w.deliveries() if d["event_type"] == "COURIER_ASSIGNED"][-1]
    replay = _post(w, original["body"].encode(), original["headers"])
    assert replay.status_code == 200 and replay.json() == {"outcome": "duplicate"}
    w.clock.advance(minutes=6)
    stale = _post(w, original["body"].encode(), original["headers"])
    assert stale.status_code == 401 and stale.json()["code"] == "signature_expired"
    assert _events(w, number).count("carrier_order.courier_assigned") == 1


def test_forged_callbacks_are_refused_and_polling_recovers(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    w.faults(forge=True)
    w.advance(number, "COURIER_ASSIGNED")
    w.advance(number, "PICKED_UP")
    sent = w.deliveries()
    assert {d["status_code"] for d in sent[-2:]} == {401}
    assert _status(w, number) is CarrierStatus.ACCEPTED  # nothing forged was taken
    # A callback signed for another carrier, or for a carrier doorstep does not know, gets
    # the same answer as a bad signature.
    body = _signed_event(w, number, "EV-x", "PICKED_UP", waybillNo="SBX0000000001")
    unknown = _post(w, body, signed_headers(SECRET, w.clock.now(), body), carrier="nobody")
    assert unknown.status_code == 401 and unknown.json()["code"] == "signature_invalid"
    w.clock.advance(minutes=20)
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 1
    assert _status(w, number) is CarrierStatus.PICKED_UP


def test_late_event_is_recorded_and_changes_nothing(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.advance(number, "COURIER_ASSIGNED")
    w.advance(number, "PICKED_UP")
    w.deliveries()
    body = _signed_event(w, number, "EV-late-accepted", "ACCEPTED")
    late = _post(w, body, signed_headers(SECRET, w.clock.now(), body))
    assert late.status_code == 200 and late.json() == {"outcome": "late"}
    body = _signed_event(w, number, "EV-late-failed", "PICKUP_FAILED", failReason="WEATHER")
    late = _post(w, body, signed_headers(SECRET, w.clock.now(), body))
    assert late.json() == {"outcome": "late"}
    po = _order(w, number)
    assert po.status is CarrierStatus.PICKED_UP and po.late_updates == 2
    assert returns.get_return(w.app.services, po.return_ids[0]).status is ReturnStatus.PICKED_UP


def test_lost_callbacks_are_found_by_polling(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    w.faults(drop=True)
    w.advance(number, "COURIER_ASSIGNED")
    w.advance(number, "PICKED_UP")
    w.advance(number, "IN_TRANSIT")
    w.advance(number, "SETTLED", weightG=900, freightFen=1500)
    w.deliveries()
    assert _status(w, number) is CarrierStatus.ACCEPTED
    # Not quiet yet: nothing is asked.
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 0
    w.clock.advance(minutes=16)
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 1
    po = _order(w, number)
    assert po.status is CarrierStatus.IN_TRANSIT and po.actual_weight_g == 900
    request = returns.get_return(w.app.services, po.return_ids[0])
    assert request.status is ReturnStatus.IN_TRANSIT and request.waybill_no == po.waybill_no
    # Asked again later, the same stage is a duplicate: nothing is applied twice.
    w.clock.advance(minutes=16)
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 0
    assert _events(w, number).count("carrier_order.in_transit") == 1


def test_failed_create_is_sent_again_by_the_worker(world: World) -> None:
    w = world
    w.faults(fail_create="transient")
    return_id = w.approved_return()
    number = w.book(return_id)  # the booking stands; the order waits to be sent
    po = _order(w, number)
    assert po.status is CarrierStatus.PENDING and po.pending_op is PendingOp.CREATE
    assert po.last_error is not None and "carrier_unavailable" in po.last_error
    outcomes = [x.outcome for x in w.app.services.exchanges.recent("sbx", number)]
    assert outcomes.count("unavailable") == 3  # every retried attempt is on record
    w.faults(fail_create="none")
    assert poll_quiet_orders(w.app.services, w.clock.now()) == 0  # not due yet
    w.clock.advance(minutes=2)
    poll_quiet_orders(w.app.services, w.clock.now())
    w.deliveries()
    po = _order(w, number)
    assert po.carrier_order_id is not None and po.pending_op is None
    assert [o["outOrderNo"] for o in w.company_orders()].count(number) == 1


def test_refused_create_ends_the_order(world: World) -> None:
    w = world
    w.faults(fail_create="permanent")
    number = w.book(w.approved_return())
    po = _order(w, number)
    assert po.status is CarrierStatus.CREATE_FAILED and po.pending_op is None
    assert "carrier_create_failed" not in _events(w, number)
    assert _events(w, number)[-1] == "carrier_order.create_failed"


def test_unknown_order_is_refused_without_saying_more(world: World) -> None:
    w = world
    body = _signed_event(w, "A-nope-1", "EV-1", "ACCEPTED")
    answer = _post(w, body, signed_headers(SECRET, w.clock.now(), body))
    assert answer.status_code == 404 and answer.json()["code"] == "carrier_order_not_found"
    with w.app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.carrier_inbox)).scalar() == 0


def test_cancel_before_pickup_only(world: World) -> None:
    w = world
    svc = w.app.services
    number = w.book(w.approved_return())
    w.deliveries()
    po = _order(w, number)
    pickup.cancel_pickup(svc, BUYER, po.appointment_id)
    w.deliveries()
    assert _status(w, number) is CarrierStatus.CANCELLED
    [company] = [o for o in w.company_orders() if o["outOrderNo"] == number]
    assert company["status"] == "CANCELLED"

    # Withdrawing the return itself empties the visit: the company's order is cancelled too.
    withdrawn_id = w.approved_return()
    withdrawn = w.book(withdrawn_id, hour=15)
    w.deliveries()
    returns.cancel_return(svc, BUYER, withdrawn_id, "changed my mind")
    w.deliveries()
    assert _status(w, withdrawn) is CarrierStatus.CANCELLED
    [company] = [o for o in w.company_orders() if o["outOrderNo"] == withdrawn]
    assert company["status"] == "CANCELLED"

    other = w.book(w.approved_return(), hour=11)
    w.advance(other, "COURIER_ASSIGNED")
    w.advance(other, "PICKED_UP")
    w.deliveries()
    with pytest.raises(Exception, match="illegal_transition"):
        pickup.cancel_pickup(svc, BUYER, _order(w, other).appointment_id)


def test_a_return_withdrawn_from_a_shared_visit_is_left_out_of_the_pickup(
    database_url: str,
) -> None:
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        svc = w.app.services
        withdrawn, kept = w.approved_return(), w.approved_return()
        number = w.book(withdrawn)
        w.join(kept, number)
        w.deliveries()
        returns.cancel_return(svc, BUYER, withdrawn, "changed my mind")
        assert _order(w, number).status is CarrierStatus.ACCEPTED  # the other still goes

        w.advance(number, "COURIER_ASSIGNED")
        w.advance(number, "PICKED_UP")
        sent = w.deliveries()
        # The company's callback is taken at once (it used to answer 409 after the commit).
        assert [d["status_code"] for d in sent if d["out_order_no"] == number] == [200] * 3
        [original] = [d for d in sent if d["event_type"] == "PICKED_UP"]
        again = _post(w, original["body"].encode(), original["headers"])
        assert again.status_code == 200 and again.json() == {"outcome": "duplicate"}

        assert returns.get_return(svc, kept).status is ReturnStatus.PICKED_UP
        assert returns.get_return(svc, withdrawn).status is ReturnStatus.CANCELLED
        po = _order(w, number)
        assert po.return_ids == [kept]
        with w.app.engine.connect() as conn:
            e = t.events.c
            [data] = conn.execute(
                select(e.data).where(e.aggregate_id == number, e.name == "carrier_order.picked_up")
            ).scalars()
            paid = {
                r.return_id: r.status
                for r in conn.execute(select(t.refunds.c.return_id, t.refunds.c.status))
            }
        body = data if isinstance(data, dict) else json.loads(data)
        assert body["return_ids"] == [kept] and body["skipped"] == [withdrawn]
        # The express refund started for the return the parcel holds, and only for it.
        assert paid == {kept: "succeeded"}
        assert [key for key, _ in payments.log] == [f"refund:{kept}"]
        assert violations(w.app, payments) == []


def test_a_pickup_callback_that_died_after_its_commit_refunds_when_the_company_repeats_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payments = RecordingPayments()
    with carrier_world(database_url, payments) as w:
        return_id = w.approved_return()
        number = w.book(return_id)
        w.deliveries()
        real = carrier_callbacks.start_express_refund
        crashes = iter([True])

        def dies_once(svc: Any, rid: str) -> Any:
            if next(crashes, False):
                raise RuntimeError("the process died after the pickup's commit")
            return real(svc, rid)

        monkeypatch.setattr(carrier_callbacks, "start_express_refund", dies_once)
        w.advance(number, "PICKED_UP")
        sent = [d for d in w.deliveries() if d["event_type"] == "PICKED_UP"]
        # The company got no answer the first time and sent the same event again.
        assert [d["status_code"] in (None, 500) for d in sent] == [True, False]
        assert sent[-1]["status_code"] == 200
        assert returns.get_return(w.app.services, return_id).status is ReturnStatus.PICKED_UP
        assert [key for key, _ in payments.log] == [f"refund:{return_id}"]
        assert violations(w.app, payments) == []


def test_failed_pickup_then_reschedule_places_a_new_order(world: World) -> None:
    w = world
    svc = w.app.services
    return_id = w.approved_return()
    number = w.book(return_id)
    w.advance(number, "PICKUP_FAILED", reason="CUSTOMER_UNREACHABLE")
    w.deliveries()
    po = _order(w, number)
    assert po.status is CarrierStatus.FAILED and po.failure_reason is not None
    appt = pickup.get_appointment(svc, po.appointment_id, buyer_id=BUYER)
    assert appt.status is AppointmentStatus.FAILED
    assert appt.attempts[-1].reason is not None
    assert appt.attempts[-1].reason.value == "buyer_unreachable"
    from datetime import time as wall

    from tests.integration.carrier_world import TOMORROW  # type: ignore[import-not-found]

    pickup.reschedule_pickup(
        svc, BUYER, appt.appointment_id, pickup.SlotChoice("sbx", TOMORROW, wall(13))
    )
    w.deliveries()
    second = _order(w, f"{appt.appointment_id}-2")
    assert second.status is CarrierStatus.ACCEPTED and second.order.start == wall(13)


def test_callback_bad_input_is_a_stable_error(world: World) -> None:
    w = world
    for body in (b"not json", b"{}", json.dumps({"eventId": "x", "eventType": "NOPE"}).encode()):
        answer = _post(w, body, signed_headers(SECRET, w.clock.now(), body))
        assert answer.status_code == 422, body
        assert answer.json()["code"] == "carrier_payload_invalid"
    answer = _post(w, b"{}", {"X-Doorstep-Timestamp": "12", "X-Doorstep-Signature": "sha256=00"})
    assert answer.status_code == 401


def test_quiet_period_is_measured_from_the_last_word(world: World) -> None:
    w = world
    number = w.book(w.approved_return())
    w.deliveries()
    w.clock.advance(minutes=10)
    w.advance(number, "COURIER_ASSIGNED")
    w.deliveries()
    w.clock.advance(minutes=10)  # 20 min after booking, 10 after the last callback
    with w.app.engine.connect() as conn:
        heard = conn.execute(
            select(t.pickup_orders.c.last_heard_at).where(t.pickup_orders.c.out_order_no == number)
        ).scalar_one()
    assert w.clock.now() - heard == timedelta(minutes=10)


# --- typhoons over a company-served district ---------------------------------------------------


def _typhoon(w: World, start_h: int, end_h: int, days: int = 0) -> disruptions.DisruptionReport:
    """A typhoon closing every window of the district from ``start_h`` tomorrow to
    ``end_h`` ``days`` later."""
    shanghai = ZoneInfo("Asia/Shanghai")
    first = datetime.combine(TOMORROW, time(start_h), shanghai)
    return disruptions.declare_disruption(
        w.app.services,
        "ops-001",
        DisruptionKind.TYPHOON,
        [FENGXIAN.adcode],
        first,
        datetime.combine(TOMORROW + timedelta(days=days), time(end_h), shanghai),
        0,
        "Typhoon warning",
        "台风预警",
    )


def test_a_typhoon_that_strands_a_company_visit_cancels_its_order_at_the_company(
    world: World,
) -> None:
    w = world
    svc = w.app.services
    return_id = w.approved_return()
    number = w.book(return_id)
    w.deliveries()
    w.clock.advance(hours=10)  # evening: today's windows are gone
    report = _typhoon(w, 0, 23, days=3)  # and the next days closed: nowhere to move it
    assert report.stranded == (_order(w, number).appointment_id,)
    w.deliveries()
    assert _status(w, number) is CarrierStatus.CANCELLED
    [company] = [o for o in w.company_orders() if o["outOrderNo"] == number]
    assert company["status"] == "CANCELLED"  # its courier does not come for nothing
    assert returns.get_return(svc, return_id).status is ReturnStatus.APPROVED
    assert violations(w.app, RecordingPayments()) == []


def test_a_typhoon_that_moves_a_company_visit_tells_the_company_the_new_window(
    world: World,
) -> None:
    w = world
    number = w.book(w.approved_return(), hour=9)
    w.deliveries()
    report = _typhoon(w, 9, 11)  # the 09:00 window closed; later ones still open
    [(appointment_id, old, _)] = report.moved
    assert old.endswith("/09:00-11:00")
    w.deliveries()
    po = _order(w, number)
    visit = pickup.get_appointment(w.app.services, appointment_id)
    assert (po.order.day, po.order.start) == (visit.slot.day, visit.slot.window.start)
    assert po.order.start != time(9) and po.pending_op is None
    [company] = [o for o in w.company_orders() if o["outOrderNo"] == number]
    assert company["pickupStart"] == f"{visit.slot.window.start:%H:%M}"
    assert violations(w.app, RecordingPayments()) == []
