"""The outbox over HTTP: ops list deliveries and the sink's messages, re-drive dead letters
from the API and from the console's button; bad input is a 4xx with zh and en text."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from fastapi.testclient import TestClient
from tests.e2e.test_page_bounds import signed_in  # type: ignore[import-not-found]
from tests.integration.test_outbox import TOMORROW, open_returns  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.services import outbox, pickup

Login = Any


def _dead(app: App, receiver: str = "merchant:shop-e2e") -> dict[str, str]:
    now = app.services.clock.now()
    with app.services.uow() as uow:
        stored = uow.outbox.take_unpublished(1)
        seq = stored[0].seq if stored else 1
        uow.outbox.add_deliveries(
            [Delivery(seq, receiver, "buyer-001", DeliveryStatus.DEAD, 8, now, now, "HTTP 500")]
        )
        uow.commit()
    return {"event_id": event_id(seq), "receiver": receiver}


def test_ops_see_messages_and_redrive_dead_letters(
    client: TestClient, wired: App, login: Login
) -> None:
    ops = login("ops1")
    # A booking over the API, then the dispatcher: the buyer's text is in the sink.
    svc = wired.services
    outbox.dispatch_pending(svc, svc.clock.now(), 1000)
    dead = _dead(wired)

    listed = client.get("/ops/deliveries", headers=ops, params={"status": "dead"})
    assert listed.status_code == 200
    assert [(d["event_id"], d["receiver"]) for d in listed.json()] == [
        (dead["event_id"], dead["receiver"])
    ]
    messages = client.get("/ops/messages", headers=ops, params={"limit": 5})
    assert messages.status_code == 200 and len(messages.json()) <= 5

    again = client.post("/ops/deliveries/redrive", headers=ops, json=dead)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending" and again.json()["attempts"] == 0
    twice = client.post("/ops/deliveries/redrive", headers=ops, json=dead)
    assert twice.status_code == 409 and twice.json()["code"] == "delivery_not_dead"
    assert twice.json()["message"]["zh"]
    missing = client.post(
        "/ops/deliveries/redrive",
        headers=ops,
        json={"event_id": "evt_999999999", "receiver": "buyer:sms"},
    )
    assert missing.status_code == 404


def test_redrive_input_is_bounded_and_for_ops_only(client: TestClient, login: Login) -> None:
    ops = login("ops1")
    for body in (
        {"event_id": "evt_\u0661", "receiver": "buyer:sms"},
        {"event_id": "evt_1", "receiver": "buyer:fax"},
        {"event_id": "evt_" + "1" * 30, "receiver": "buyer:sms"},
        {"event_id": "evt_1", "receiver": "merchant:" + "x" * 65},
        {"event_id": "evt_1"},
    ):
        r = client.post("/ops/deliveries/redrive", headers=ops, json=body)
        assert r.status_code == 422, (body, r.text)
    assert client.get("/ops/deliveries", headers=ops, params={"limit": 500}).status_code == 422
    assert client.get("/ops/deliveries", headers=ops, params={"status": "x"}).status_code == 422
    buyer = login("buyer1")
    assert client.get("/ops/deliveries", headers=buyer).status_code == 403
    assert client.get("/ops/messages").status_code == 401


def test_console_lists_messages_and_its_button_redrives(client: TestClient, wired: App) -> None:
    svc = wired.services
    rid = open_returns(wired, ["buyer-001"], 1)[0]
    pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(9, 0)))
    outbox.dispatch_pending(svc, svc.clock.now(), 1000)
    dead = _dead(wired, "merchant:shop-console")

    post = signed_in(client, "ops1")
    page = client.get("/console/outbox?lang=zh_CN")
    assert page.status_code == 200
    assert "上门取件已预约" in page.text and "138****1001" in page.text  # masked phone
    assert "merchant:shop-console" in page.text and "重新发送" in page.text
    r = post("/console/outbox/redrive", event=dead["event_id"], receiver=dead["receiver"])
    assert r.status_code == 200 and "已重新发送" in r.text  # followed the 303
    assert outbox.deliveries(svc, DeliveryStatus.DEAD, 10) == []
    r = post("/console/outbox/redrive", event=dead["event_id"], receiver=dead["receiver"])
    assert r.status_code == 409
    r = post("/console/outbox/redrive", event="x" * 30, receiver="y")
    assert r.status_code in (400, 422)


def test_a_buyer_chooses_english_and_e_mail(client: TestClient, wired: App, login: Login) -> None:
    buyer = login("buyer1")
    r = client.put(
        "/me/notifications", headers=buyer, json={"lang": "en", "email": "lin@example.com"}
    )
    assert r.status_code == 200 and r.json() == {"lang": "en", "email": "lin@example.com"}
    svc = wired.services
    rid = open_returns(wired, ["buyer-001"], 1)[0]
    pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(11, 0)))
    outbox.dispatch_pending(svc, svc.clock.now(), 1000)
    sent = outbox.sent_messages(svc, 100)
    mail = [m for m in sent if m.channel == "email"]
    assert mail and all(m.recipient == "lin@example.com" for m in mail)
    assert any(m.subject == "[doorstep] Pickup booked" for m in mail)

    for body, code in (
        ({"lang": "fr"}, None),
        ({"lang": "en", "email": "no-at-sign"}, "bad_email"),
        ({"lang": "en", "email": "a b@example.com"}, "bad_email"),
        ({"lang": "en", "email": "x" * 300}, None),
    ):
        r = client.put("/me/notifications", headers=buyer, json=body)
        assert r.status_code == 422, (body, r.text)
        if code:
            assert r.json()["code"] == code and r.json()["message"]["zh"]
    assert (
        client.put("/me/notifications", headers=login("ops1"), json={"lang": "en"}).status_code
        == 403
    )


def test_every_dead_letter_can_be_reached_past_the_newest_two_hundred(
    client: TestClient, wired: App, login: Login
) -> None:
    """Before: the console read the newest 200 of each list, so the 201st dead letter (the
    oldest, the one most in need of a hand) could not be reached at all."""
    now = wired.services.clock.now()
    total = 209
    with wired.services.uow() as uow:
        uow.outbox.add_deliveries(
            [
                Delivery(seq, "merchant:old", "b", DeliveryStatus.DEAD, 8, now, now, "HTTP 500")
                for seq in range(1, total + 1)
            ]
        )
        uow.commit()
    signed_in(client, "ops1")
    last = -(-total // 8)
    page = client.get(f"/console/outbox?dp={last}&lang=en")
    assert page.status_code == 200
    dead = page.text.split('id="dead-h"')[1].split("</section>")[0]
    assert f"Page {last} of {last}" in dead
    shown = re.findall(r"(evt_\d+) ·", dead)
    assert shown == [event_id(s) for s in range(total - 8 * (last - 1), 0, -1)]  # the oldest
    beyond = client.get(f"/console/outbox?dp={last + 5}&lang=en")
    assert f"Page {last} of {last}" in beyond.text  # past the end: the last page

    ops = login("ops1")
    tail = client.get(
        "/ops/deliveries", headers=ops, params={"status": "dead", "limit": 200, "offset": 200}
    )
    assert tail.status_code == 200
    assert [d["event_id"] for d in tail.json()] == [event_id(s) for s in range(9, 0, -1)]
    for bad in (-1, 1_000_001, "x"):
        r = client.get("/ops/deliveries", headers=ops, params={"offset": bad})
        assert r.status_code == 422, bad
        assert client.get("/ops/messages", headers=ops, params={"offset": bad}).status_code == 422
