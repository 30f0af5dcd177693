"""Write paths the other race files leave out, raced on SQLite and PostgreSQL with the
invariants read back in SQL: contactless answers against the silence sweep (one decision per
visit), drop-off codes asked for at once (every winner's code recorded, the stored one among
them), and re-driving one dead letter from many consoles at once (sent again once)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.customs_return import CustomsStatus
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.entrypoints.api.app import create_app
from doorstep.services import (
    catalog,
    contactless,
    courier,
    customs,
    outbox,
    photos,
    pickup,
    returns,
    self_send,
)
from doorstep.services.context import Services
from doorstep.services.offering import OfferedSlot
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
COURIERS = {"courier-yto-01": "courier5", "courier-sf-01": "courier1"}


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"username": username, "password": f"demo-{username}"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 160, 90)).save(buf, "JPEG")
    return buf.getvalue()


def _photo(client: TestClient, h: dict[str, str]) -> str:
    r = client.post("/photos", headers=h, files={"file": ("p.jpg", _jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["photo_id"])


def _contactless_collected(client: TestClient, order: str, line: str) -> dict[str, Any]:
    """A locker pickup done over HTTP: booked contactless, inspected by photo, picked up."""
    buyer = _login(client, "buyer1")
    body = {
        "order_id": order,
        "lines": [{"order_line_id": line, "quantity": 1, "reason": "no_reason"}],
    }
    rid = client.post("/returns", json=body, headers=buyer).json()["return_id"]
    slot = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"][0]
    choice = {k: slot[k] for k in ("carrier_id", "day", "start")}
    booked = client.post(
        f"/returns/{rid}/pickup", headers=buyer, json={**choice, "handover": "locker"}
    )
    assert booked.status_code == 201, booked.text
    aid = booked.json()["appointment_id"]
    courier = _login(client, COURIERS[booked.json()["courier_id"]])
    assert client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
    inspected = client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=courier,
        json={"return_id": rid, "photo_ids": [_photo(client, courier)], "verified_weight_g": 300},
    )
    assert inspected.status_code == 200, inspected.text
    picked = client.post(f"/courier/tasks/{aid}/pickup", headers=courier, json={})
    assert picked.status_code == 200, picked.text
    done: dict[str, Any] = picked.json()
    assert done["review"]["status"] == "pending"
    return done


def _decisions(app: App, appointment_id: str) -> list[str]:
    with app.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT name FROM events WHERE aggregate_id = :a AND name IN "
                    "('appointment.handover_confirmed', 'appointment.handover_disputed')"
                ),
                {"a": appointment_id},
            ).scalars()
        )


def test_contactless_answers_and_silence_sweeps_decide_each_visit_once(wired: App) -> None:
    svc = wired.services
    with TestClient(create_app(wired), raise_server_exceptions=False) as client:
        appt = _contactless_collected(client, "TM2026000101", "L1")
    aid = appt["appointment_id"]
    with svc.uow() as uow:
        stored = uow.appointments.get(aid)
        assert stored is not None and stored.review is not None
        buyer, due = stored.buyer_id, stored.review.due_at
    # The buyer answers (both ways, from several tabs) while sweeps past the limit run.
    third = RACERS // 3
    calls = [lambda: contactless.confirm_contactless(svc, buyer, aid) for _ in range(third)]
    calls += [
        lambda: contactless.dispute_contactless(svc, buyer, aid, "not my parcel", ())
        for _ in range(third)
    ]
    sweeps_raised: list[str] = []

    def sweep() -> int:
        try:
            return contactless.confirm_silent_contactless(svc, due + timedelta(minutes=1))
        except Conflict as exc:  # a sweep that stops here skips every later visit
            sweeps_raised.append(exc.code)
            raise

    calls += [sweep for _ in range(RACERS - 2 * third)]
    out = race(calls)
    assert len(_decisions(wired, aid)) == 1, _decisions(wired, aid)
    with svc.uow() as uow:
        after = uow.appointments.get(aid)
        assert after is not None and after.review is not None
        status = after.review.status.value
    expected = {
        "appointment.handover_confirmed": "confirmed",
        "appointment.handover_disputed": "disputed",
    }[_decisions(wired, aid)[0]]
    assert status == expected
    # Buyers who lost are told with a stable code (race() fails on anything else) ...
    assert set(out.codes) <= {"illegal_transition", "review_closed", "stale_write"}, out.codes
    # ... and a sweep never stops on a visit someone answered at the same time.
    assert sweeps_raised == []


def _dropoff_return(app: App) -> str:
    placed = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    order = Order(
        f"AUD-{uuid.uuid4().hex[:8]}",
        BUYER,
        "shop-test",
        Channel.DOMESTIC,
        placed,
        HOME,
        (OrderLine("L1", "JP-DOWN-JACKET-M", 1, 79_900, 0),),
        signed_at=placed + timedelta(days=5),
    )
    catalog.import_orders(app.services, [order], None)
    request = returns.open_return(
        app.services,
        OpenReturn(
            BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    )
    returns.choose_self_send(app.services, BUYER, request.return_id, ReturnMethod.DROPOFF)
    return request.return_id


def test_dropoff_codes_asked_for_at_once_keep_one_recorded_code(wired: App) -> None:
    svc = wired.services
    rid = _dropoff_return(wired)
    stations = ("st-xh-01", "st-xh-02", "st-xh-03")
    out = race(
        [
            lambda s=stations[i % 3]: self_send.issue_dropoff_code(svc, BUYER, rid, s)
            for i in range(RACERS)
        ]
    )
    assert out.won, out.codes
    with wired.engine.connect() as conn:
        issued = conn.execute(
            text(
                "SELECT COUNT(*) FROM events WHERE aggregate_id = :r "
                "AND name = 'return.dropoff_code_issued'"
            ),
            {"r": rid},
        ).scalar_one()
    # Every winner's code was written with its event; none was handed out without one.
    assert issued == len(out.won)
    stored = returns.get_return(svc, rid, buyer_id=BUYER).dropoff
    assert stored is not None and stored.code in {r.dropoff.code for r in out.won}


def test_one_dead_letter_redriven_from_many_consoles_is_sent_again_once(wired: App) -> None:
    svc = wired.services
    now = svc.clock.now()
    receiver = f"merchant:audit-{uuid.uuid4().hex[:6]}"
    with svc.uow() as uow:
        seq = uow.outbox.take_unpublished(1) or []
        stored = seq[0].seq if seq else 1
        uow.outbox.add_deliveries(
            [Delivery(stored, receiver, "buyer", DeliveryStatus.DEAD, 8, now, now, "HTTP 500")]
        )
        uow.commit()
    public = event_id(stored)
    out = race([lambda: outbox.redrive(svc, public, receiver, "ops1") for _ in range(RACERS)])
    assert len(out.won) == 1 and out.codes == {"delivery_not_dead": RACERS - 1}
    with wired.engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, attempts FROM deliveries WHERE event_seq = :s AND receiver = :r"),
            {"s": stored, "r": receiver},
        ).one()
        redriven = conn.execute(
            text(
                "SELECT COUNT(*) FROM events WHERE name = 'outbox.redriven' AND aggregate_id = :e"
            ),
            {"e": public},
        ).scalar_one()
    assert tuple(row) == ("pending", 0) and redriven == 1
    assert isinstance(out.lost[0], Conflict)


# --- green-window coupons (issue 9 §9): issued once at pickup, never beside a drop -----------

TOMORROW = date(2026, 11, 26)
COUPON = 300
CHECKS = {k: True for k in courier.CHECKLIST}


class AllGreen:
    """The wired offering with a coupon on every window it offers (delegates the rest)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def offer(self, *args: Any, **kwargs: Any) -> list[OfferedSlot]:
        return [replace(o, incentive_fen=COUPON) for o in self.inner.offer(*args, **kwargs)]


def _coupon_visit(app: App, svc: Services, hour: int, *, at_door: bool) -> tuple[str, str, str]:
    """A green-window visit with its coupon promised (and, at the door, inspected):
    (visit, courier, pickup code)."""
    request = returns.open_return(
        svc,
        OpenReturn(
            BUYER,
            _order(app, "CN-LATEX-PILLOW").order_id,
            ReturnKind.REFUND,
            (LineRequest("L1", 1, Reason.NO_REASON),),
        ),
    )
    choice = pickup.SlotChoice("sf", TOMORROW, time(hour), coupon_fen=COUPON)
    appt = pickup.book_pickup(svc, BUYER, request.return_id, choice)
    assert appt.coupon_fen == COUPON and appt.courier_id is not None
    if at_door:
        courier.arrive(svc, appt.courier_id, appt.appointment_id)
        shot = photos.upload_photo(svc, appt.courier_id, _jpeg()).photo_id
        courier.inspect(
            svc,
            appt.courier_id,
            appt.appointment_id,
            courier.InspectionInput(request.return_id, CHECKS, (shot,), 1_000, "", ()),
        )
    return appt.appointment_id, appt.courier_id, appt.pickup_code


def _order(app: App, sku: str) -> Order:
    placed = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    order = Order(
        f"CPN-{uuid.uuid4().hex[:10]}",
        BUYER,
        "shop-cn-home",
        Channel.DOMESTIC,
        placed,
        HOME,
        (OrderLine("L1", sku, 1, 19_900),),
        signed_at=placed + timedelta(days=1),
    )
    catalog.import_orders(app.services, [order], None)
    return order


def test_coupons_are_issued_once_at_pickup_and_never_beside_a_drop(
    wired: App, payments: RecordingPayments
) -> None:
    svc = replace(wired.services, offering=AllGreen(wired.services.offering))
    at_door = [_coupon_visit(wired, svc, h, at_door=True) for h in (9, 11)]
    booked = [_coupon_visit(wired, svc, h, at_door=False) for h in (13, 15)]
    calls: list[Callable[[], Any]] = []
    for (
        aid,
        cid,
        code,
    ) in at_door:  # the courier's pickup sent again and again, the buyer cancelling
        calls += [lambda a=aid, c=cid, p=code: courier.pick_up(svc, c, a, p) for _ in range(4)]
        calls += [lambda a=aid: pickup.cancel_pickup(svc, BUYER, a) for _ in range(2)]
    for aid, _cid, _code in booked:  # the buyer cancelling and moving the visit at once
        calls += [lambda a=aid: pickup.cancel_pickup(svc, BUYER, a) for _ in range(3)]
        calls += [
            lambda a=aid, n=n: pickup.reschedule_pickup(
                svc, BUYER, a, pickup.SlotChoice("sf", TOMORROW, time(17 + n % 2))
            )
            for n in range(3)
        ]
    assert len(calls) >= 20
    race(calls)
    with wired.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT aggregate_id, name, COUNT(*) FROM events WHERE name LIKE "
                "'appointment.coupon_%' GROUP BY aggregate_id, name"
            )
        ).all()
        status = dict(
            conn.execute(
                text(
                    "SELECT appointment_id, status FROM appointments WHERE appointment_id IN "
                    "(:a, :b, :c, :d)"
                ),
                dict(zip("abcd", [v[0] for v in at_door + booked], strict=True)),
            ).all()
        )
    seen = {(a, n.removeprefix("appointment.coupon_")): k for a, n, k in rows}
    for aid, state in status.items():
        issued, dropped = seen.get((aid, "issued"), 0), seen.get((aid, "dropped"), 0)
        assert seen.get((aid, "promised")) == 1, (aid, seen)
        # Exactly one fate: issued at pickup, or dropped when cancelled or moved away.
        assert issued + dropped == 1, (aid, state, seen)
        assert issued == (state == "completed"), (aid, state, seen)
    for aid, _c, _p in booked:
        assert status[aid] != "completed" and seen.get((aid, "dropped")) == 1, (aid, seen)
    # The pickups paid their express refunds once; cancels and moves kept the counters.
    assert violations(wired, payments) == []


# --- customs: one declaration submitted from many consoles at once ----------------------------


def test_one_declaration_submitted_from_many_consoles_is_declared_once(wired: App) -> None:
    svc = wired.services
    placed = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:8]
    order = Order(
        f"CUS-{batch}",
        BUYER,
        "shop-test",
        Channel.BONDED,
        placed,
        HOME,
        (OrderLine("L1", "JP-DOWN-JACKET-M", 1, 79_900, 7_270),),
        signed_at=placed + timedelta(days=5),
        customs_released_at=placed + timedelta(days=1),
        declaration_no=f"D-{batch}",
    )
    catalog.import_orders(svc, [order], None)
    rid = returns.open_return(
        svc,
        OpenReturn(
            BUYER, order.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
        ),
    ).return_id
    (cr,) = [c for c in customs.queue(svc) if rid in c.customs_return.return_ids]
    crid = cr.customs_return.customs_return_id
    out = race([lambda: customs.declare(svc, crid) for _ in range(RACERS)])
    assert {c.status for c in out.won} <= {CustomsStatus.SUBMITTED, CustomsStatus.ACCEPTED}
    with wired.engine.connect() as conn:
        named = dict(
            conn.execute(
                text(
                    "SELECT name, COUNT(*) FROM events WHERE aggregate_id = :c "
                    "AND name IN ('customs.submitted', 'customs.accepted', 'customs.rejected') "
                    "GROUP BY name"
                ),
                {"c": crid},
            ).all()
        )
        status = conn.execute(
            text("SELECT status FROM customs_returns WHERE customs_return_id = :c"), {"c": crid}
        ).scalar_one()
    # Submitted once, answered once, whoever of the 24 got there first.
    assert named == {"customs.submitted": 1, "customs.accepted": 1}, named
    assert status == CustomsStatus.ACCEPTED.value
