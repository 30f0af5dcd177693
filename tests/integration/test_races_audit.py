"""Write paths the other race files leave out, raced on SQLite and PostgreSQL with the
invariants read back in SQL: contactless answers against the silence sweep (one decision per
visit), drop-off codes asked for at once (every winner's code recorded, the stored one among
them), and re-driving one dead letter from many consoles at once (sent again once)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.entrypoints.api.app import create_app
from doorstep.services import catalog, contactless, outbox, returns, self_send
from doorstep.services.returns import LineRequest, OpenReturn

BUYER = "buyer-001"
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")
COURIERS = {"courier-yto-01": "courier5", "courier-sf-01": "courier1"}


def _login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/auth/token", data={"username": username, "password": f"demo-{username}"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _photo(client: TestClient, h: dict[str, str]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 160, 90)).save(buf, "JPEG")
    r = client.post("/photos", headers=h, files={"file": ("p.jpg", buf.getvalue(), "image/jpeg")})
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
