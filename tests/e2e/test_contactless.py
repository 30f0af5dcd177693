"""Contactless pickup over HTTP on SQLite and PostgreSQL: booked for a locker, collected with
photos and weight and no code, disputed by the buyer, decided by ops; another one confirmed
by the buyer's silence through the worker's sweep."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from doorstep.bootstrap import App
from doorstep.entrypoints import jobs

Login = Callable[[str], dict[str, str]]
COURIERS = {"courier-yto-01": "courier5", "courier-sf-01": "courier1"}


def _photo(client: TestClient, h: dict[str, str]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (30, 160, 90)).save(buf, "JPEG")
    r = client.post("/photos", headers=h, files={"file": ("p.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["photo_id"])


def _collected(client: TestClient, login: Login, order: str, line: str) -> dict[str, Any]:
    buyer = login("buyer1")
    body = {
        "order_id": order,
        "lines": [{"order_line_id": line, "quantity": 1, "reason": "no_reason"}],
    }
    rid = client.post("/returns", json=body, headers=buyer).json()["return_id"]
    slot = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"][0]
    booked = client.post(
        f"/returns/{rid}/pickup",
        headers=buyer,
        json={
            **{k: slot[k] for k in ("carrier_id", "day", "start")},
            "handover": "locker",
            "handover_note": "菜鸟驿站柜 12 号",
        },
    )
    assert booked.status_code == 201, booked.text
    appt = booked.json()
    assert appt["handover"] == "locker" and appt["handover_note"] == "菜鸟驿站柜 12 号"
    aid, courier = appt["appointment_id"], login(COURIERS[appt["courier_id"]])
    assert client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
    inspected = client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=courier,
        json={"return_id": rid, "photo_ids": [_photo(client, courier)], "verified_weight_g": 300},
    )
    assert inspected.status_code == 200, inspected.text
    picked = client.post(f"/courier/tasks/{aid}/pickup", headers=courier, json={})
    assert picked.status_code == 200, picked.text
    done = picked.json()
    assert done["review"]["status"] == "pending"
    receipt = client.get(f"/returns/{rid}/receipt", headers=buyer).json()
    assert receipt["contactless"] is True
    return done


def test_a_disputed_contactless_pickup_goes_to_ops_with_both_sides(
    client: TestClient, login: Login
) -> None:
    buyer, ops = login("buyer1"), login("ops1")
    appt = _collected(client, login, "TM2026000101", "L1")
    aid = appt["appointment_id"]
    mine = _photo(client, buyer)
    empty = client.post(
        f"/appointments/{aid}/contactless/dispute", headers=buyer, json={"text": ""}
    )
    assert empty.status_code == 422
    r = client.post(
        f"/appointments/{aid}/contactless/dispute",
        headers=buyer,
        json={"text": "The serum in the photo is not mine", "photo_ids": [mine]},
    )
    assert r.status_code == 200 and r.json()["review"]["status"] == "disputed", r.text
    again = client.post(f"/appointments/{aid}/contactless/confirm", headers=buyer)
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"
    queue = client.get("/ops/contactless/disputes", headers=ops).json()
    [item] = [q for q in queue if q["appointment"]["appointment_id"] == aid]
    assert item["appointment"]["review"]["dispute_photo_ids"] == [mine]
    assert item["courier"][0]["photo_ids"] and item["courier"][0]["verified_weight_g"] == 300
    assert client.get("/ops/contactless/disputes", headers=buyer).status_code == 403
    decided = client.post(
        f"/ops/contactless/{aid}/resolve",
        headers=ops,
        json={"outcome": "courier_upheld", "note": "photo shows the buyer's order label"},
    )
    assert decided.status_code == 200 and decided.json()["review"]["outcome"] == "courier_upheld"
    assert all(
        q["appointment"]["appointment_id"] != aid
        for q in client.get("/ops/contactless/disputes", headers=ops).json()
    )


def test_silence_confirms_through_the_worker_sweep(
    client: TestClient, login: Login, wired: App
) -> None:
    appt = _collected(client, login, "TM2026000101", "L1")
    wired.services.clock.advance(hours=24, minutes=1)  # type: ignore[attr-defined]
    assert jobs.SWEEPS["contactless_silence"](wired) == {"contactless_confirmed": 1}
    shown = client.get(f"/appointments/{appt['appointment_id']}", headers=login("buyer1")).json()
    assert shown["review"]["status"] == "confirmed" and shown["review"]["decided_by"] == "silence"
    late = client.post(
        f"/appointments/{appt['appointment_id']}/contactless/dispute",
        headers=login("buyer1"),
        json={"text": "too late"},
    )
    assert late.status_code == 409
