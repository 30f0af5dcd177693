"""Partial pickup and the signed receipt over HTTP: two lipsticks at the door, one refused for
its seal; the receipt says so, and its verification URL checks out until a byte changes."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

Login = Callable[[str], dict[str, str]]


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 60, 90)).save(buf, "JPEG")
    return buf.getvalue()


def _photo(client: TestClient, h: dict[str, str]) -> str:
    r = client.post("/photos", headers=h, files={"file": ("p.jpg", _jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    return str(r.json()["photo_id"])


def _picked_up_in_part(client: TestClient, login: Login) -> tuple[str, dict[str, Any]]:
    buyer = login("buyer1")
    body = {
        "order_id": "TM2026000101",
        "lines": [{"order_line_id": "L2", "quantity": 2, "reason": "no_reason"}],
    }
    ret = client.post("/returns", json=body, headers=buyer).json()
    rid = ret["return_id"]
    slot = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"][0]
    appt = client.post(
        f"/returns/{rid}/pickup",
        headers=buyer,
        json={k: slot[k] for k in ("carrier_id", "day", "start")},
    ).json()
    aid = appt["appointment_id"]
    courier = login({"courier-yto-01": "courier5", "courier-sf-01": "courier1"}[appt["courier_id"]])
    assert client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
    [line] = client.get(f"/courier/tasks/{aid}/checklists", headers=courier).json()["lines"]
    assert line["quantity"] == 2 and {"seal_intact", "plastic_wrap_intact"} <= {
        c["key"] for c in line["checks"]
    }
    every = {c["key"]: True for c in line["checks"]}
    units = [
        {"checks": every, "photo_ids": [_photo(client, courier)]},
        {"checks": every | {"seal_intact": False}, "photo_ids": [_photo(client, courier)]},
    ]
    inspected = client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=courier,
        json={
            "return_id": rid,
            "verified_weight_g": 60,
            "lines": [{"order_line_id": "L2", "units": units}],
        },
    )
    assert inspected.status_code == 200, inspected.text
    out = inspected.json()
    assert out["result"] == "passed" and out["refusal_reason"] == "seal_intact"
    assert [u["taken"] for u in out["units"]] == [True, False]
    code = client.get(f"/returns/{rid}", headers=buyer).json()
    picked = client.post(
        f"/courier/tasks/{aid}/pickup", headers=courier, json={"pickup_code": appt["pickup_code"]}
    )
    assert picked.status_code == 200, (picked.text, code)
    receipt = client.get(f"/returns/{rid}/receipt", headers=buyer)
    assert receipt.status_code == 200, receipt.text
    return rid, receipt.json()


def test_the_receipt_of_a_partial_pickup_verifies_and_refuses_changes(
    client: TestClient, login: Login
) -> None:
    rid, receipt = _picked_up_in_part(client, login)
    assert receipt["items"] == [["KR-LIPSTICK-V01", 1]]
    assert receipt["refused"] == [
        {"sku": "KR-LIPSTICK-V01", "quantity": 1, "failed": ["seal_intact"]}
    ]
    token = receipt["token"]
    # Anyone may check it: no sign-in.
    facts = client.get("/receipts/verify", params={"t": token})
    assert facts.status_code == 200, facts.text
    got = facts.json()
    assert (got["return_id"], got["waybill_no"]) == (rid, receipt["waybill_no"])
    assert got["items"] == [["KR-LIPSTICK-V01", 1]] and got["refused"] == [["KR-LIPSTICK-V01", 1]]
    assert got["photos"] == 2 and got["weight_g"] == 60
    page = client.get("/receipt/verify", params={"t": token})
    assert page.status_code == 200 and 'data-testid="genuine"' in page.text
    payload, mac = token.split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    for bad in (f"{flipped}.{mac}", f"{payload}.{mac[::-1]}", "forged.token"):
        r = client.get("/receipts/verify", params={"t": bad})
        assert r.status_code == 422 and r.json()["code"] == "receipt_not_genuine", r.text
        page = client.get("/receipt/verify", params={"t": bad})
        assert page.status_code == 422 and 'data-testid="not-genuine"' in page.text


def test_the_refused_unit_can_be_returned_again(client: TestClient, login: Login) -> None:
    _picked_up_in_part(client, login)
    again = client.post(
        "/returns",
        json={
            "order_id": "TM2026000101",
            "lines": [{"order_line_id": "L2", "quantity": 1, "reason": "no_reason"}],
        },
        headers=login("buyer1"),
    )
    assert again.status_code == 201, again.text
