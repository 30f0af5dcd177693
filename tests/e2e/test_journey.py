"""One return through every step by HTTP alone: open → audit → book → pick up → QC → refund."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from PIL import Image

from doorstep.adapters.payments.local import LocalPayments

Login = Callable[[str], dict[str, str]]


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (180, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def open_return(
    client: TestClient,
    h: dict[str, str],
    order: str,
    line: str,
    reason: str = "no_reason",
    **extra: object,
) -> dict:
    body = {
        "order_id": order,
        "lines": [{"order_line_id": line, "quantity": 1, "reason": reason}],
        **extra,
    }
    r = client.post("/returns", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_return_runs_end_to_end_over_http(
    client: TestClient, login: Login, payments: LocalPayments
) -> None:
    buyer = login("buyer1")
    ret = open_return(client, buyer, "TM2026000101", "L1")
    assert ret["status"] == "approved"
    assert {m["method"] for m in ret["decision"]["methods"]} == {"pickup", "dropoff", "self_ship"}
    rid = ret["return_id"]

    options = client.get(f"/returns/{rid}/slots", headers=buyer).json()
    assert options["slots"], options
    first = options["slots"][0]
    booked = client.post(
        f"/returns/{rid}/pickup",
        headers=buyer,
        json={"carrier_id": first["carrier_id"], "day": first["day"], "start": first["start"]},
    )
    assert booked.status_code == 201, booked.text
    appt = booked.json()
    code, aid, courier_id = appt["pickup_code"], appt["appointment_id"], appt["courier_id"]
    assert courier_id is not None

    courier_user = {"courier-yto-01": "courier5", "courier-sf-01": "courier1"}[courier_id]
    courier = login(courier_user)
    tasks = client.get("/courier/tasks", headers=courier).json()
    assert [t["appointment_id"] for t in tasks] == [aid]
    assert tasks[0]["pickup_code"] is None  # the courier learns the code from the buyer only
    assert client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
    photo = client.post(
        "/photos", headers=courier, files={"file": ("door.jpg", jpeg(), "image/jpeg")}
    )
    assert photo.status_code == 201, photo.text
    checklist = dict.fromkeys(
        [
            "outer_packaging",
            "plastic_wrap_intact",
            "original_box_present",
            "original_box_undamaged",
            "unused",
            "barcode_matches",
            "appearance_ok",
            "accessories_complete",
            "seal_intact",  # cosmetics: the seal is checked too
        ],
        True,
    )
    inspected = client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=courier,
        json={
            "return_id": rid,
            "checklist": checklist,
            "photo_ids": [photo.json()["photo_id"]],
            "verified_weight_g": 130,
        },
    )
    assert inspected.json()["result"] == "passed", inspected.text
    wrong = client.post(
        f"/courier/tasks/{aid}/pickup",
        headers=courier,
        json={"pickup_code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 409 and wrong.json()["code"] == "pickup_code_mismatch"
    done = client.post(f"/courier/tasks/{aid}/pickup", headers=courier, json={"pickup_code": code})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    after = client.get(f"/returns/{rid}", headers=buyer).json()
    assert after["status"] == "picked_up" and after["waybill_no"]
    # buyer1 has trust 850: the express refund is paid at pickup, before the warehouse.
    assert payments.total_paid_fen > 0
    receipt = client.get(f"/returns/{rid}/receipt", headers=buyer).json()
    assert receipt["waybill_no"] == after["waybill_no"] and receipt["inspection_result"] == "passed"

    wh = login("warehouse1")
    assert (
        client.post(f"/warehouse/returns/{rid}/receive", headers=wh).json()["status"] == "received"
    )
    graded = client.post(f"/warehouse/returns/{rid}/grade", headers=wh, json={"grade": "A"})
    assert graded.json()["status"] == "refunded", graded.text
    assert len(payments.paid) == 1  # exactly once, although express and standard both ran

    names = [e["name"] for e in client.get(f"/returns/{rid}/timeline", headers=buyer).json()]
    for expected in [
        "return.submitted",
        "return.approved",
        "appointment.booked",
        "appointment.courier_assigned",
        "appointment.courier_arrived",
        "return.inspected_at_door",
        "return.picked_up",
        "refund.succeeded",
        "return.received",
        "return.quality_checked",
        "return.refunded",
    ]:
        assert expected in names, (expected, names)


def test_standard_refund_for_a_buyer_below_the_trust_threshold(
    client: TestClient, login: Login, payments: LocalPayments
) -> None:
    buyer = login("buyer3")  # trust 600
    rid = open_return(client, buyer, "TM2026000105", "L1")["return_id"]
    assert (
        client.post(f"/returns/{rid}/self-send", headers=buyer, json={"method": "dropoff"}).json()[
            "status"
        ]
        == "awaiting_dropoff"
    )
    shipped = client.post(
        f"/returns/{rid}/shipment",
        headers=buyer,
        json={"waybill_no": "YT2612011234567", "carrier_id": "yto"},
    )
    assert shipped.json()["status"] == "in_transit", shipped.text
    wh = login("warehouse1")
    client.post(f"/warehouse/returns/{rid}/receive", headers=wh)
    assert payments.paid == {}
    graded = client.post(f"/warehouse/returns/{rid}/grade", headers=wh, json={"grade": "B"})
    assert graded.json()["status"] == "refunded"
    assert len(payments.paid) == 1


def test_failed_attempt_then_reschedule(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    rid = open_return(client, buyer, "TM2026000102", "L1")["return_id"]
    slots = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"]
    first, later = slots[0], slots[-1]
    appt = client.post(
        f"/returns/{rid}/pickup",
        headers=buyer,
        json={"carrier_id": first["carrier_id"], "day": first["day"], "start": first["start"]},
    ).json()
    courier = login({"courier-yto-01": "courier5", "courier-sf-01": "courier1"}[appt["courier_id"]])
    aid = appt["appointment_id"]
    failed = client.post(
        f"/courier/tasks/{aid}/fail",
        headers=courier,
        json={"reason": "buyer_unreachable", "note": "no answer"},
    )
    assert failed.json()["status"] == "failed" and failed.json()["attempts"] == 1
    moved = client.post(
        f"/appointments/{aid}/reschedule",
        headers=buyer,
        json={"carrier_id": later["carrier_id"], "day": later["day"], "start": later["start"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] in ("booked", "assigned") and moved.json()["day"] == later["day"]
    assert client.get(f"/returns/{rid}", headers=buyer).json()["status"] == "awaiting_pickup"


def test_two_returns_share_one_visit(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    first = open_return(client, buyer, "TM2026000101", "L2")["return_id"]
    second = open_return(client, buyer, "TM2026000102", "L2")["return_id"]
    slot = client.get(f"/returns/{first}/slots", headers=buyer).json()["slots"][0]
    appt = client.post(
        f"/returns/{first}/pickup",
        headers=buyer,
        json={"carrier_id": slot["carrier_id"], "day": slot["day"], "start": slot["start"]},
    ).json()
    options = client.get(f"/returns/{second}/slots", headers=buyer).json()
    assert [a["appointment_id"] for a in options["joinable"]] == [appt["appointment_id"]]
    joined = client.post(
        f"/returns/{second}/pickup/join",
        headers=buyer,
        json={"appointment_id": appt["appointment_id"]},
    )
    assert sorted(joined.json()["return_ids"]) == sorted([first, second])
    # Cancelling the visit frees both returns to choose again.
    cancelled = client.post(f"/appointments/{appt['appointment_id']}/cancel", headers=buyer)
    assert cancelled.json()["status"] == "cancelled"
    for rid in (first, second):
        assert client.get(f"/returns/{rid}", headers=buyer).json()["status"] == "approved"


def test_review_queue_for_blocklisted_buyer(client: TestClient, login: Login) -> None:
    ret = open_return(client, login("buyer5"), "TM2026000110", "L1")
    assert ret["status"] == "in_review"
    ops = login("ops1")
    queue = client.get("/ops/reviews", headers=ops).json()
    assert ret["return_id"] in [r["return_id"] for r in queue]
    decided = client.post(
        f"/ops/reviews/{ret['return_id']}",
        headers=ops,
        json={"approve": True, "note": "checked the order history"},
    )
    assert decided.json()["status"] == "approved"
    assert decided.json()["decision"]["decided_by"] == "ops-001"


def test_no_pickup_for_oversize_or_remote_with_reasons(client: TestClient, login: Login) -> None:
    trunk = open_return(client, login("buyer1"), "TM2026000112", "L1")
    assert trunk["status"] == "approved"
    assert trunk["decision"]["unavailable"]["pickup"] == "oversize_for_pickup"
    assert {m["method"] for m in trunk["decision"]["methods"]} == {"dropoff", "self_ship"}
    remote = open_return(client, login("buyer6"), "TM2026000111", "L1")
    assert remote["decision"]["unavailable"]["pickup"] == "area_remote"
    booked = client.post(
        f"/returns/{remote['return_id']}/pickup",
        headers=login("buyer6"),
        json={"carrier_id": "yto", "day": "2026-11-26", "start": "09:00"},
    )
    assert booked.status_code == 409


def test_precheck_explains(client: TestClient, login: Login) -> None:
    h = login("buyer1")
    ok = client.get("/precheck", params={"sku": "KR-SERUM-50ML", "adcode": "310104"}, headers=h)
    assert ok.json()["pickup"] is True
    big = client.get("/precheck", params={"sku": "CN-TRUNK-36IN", "adcode": "310104"}, headers=h)
    assert big.json()["pickup"] is False
    assert big.json()["findings"][0]["reason"] == "oversize_for_pickup"
    far = client.get("/precheck", params={"sku": "KR-SERUM-50ML", "adcode": "542523"}, headers=h)
    assert far.json()["pickup"] is False and far.json()["findings"][0]["text_zh"]


def test_policy_edit_creates_a_version_used_by_new_decisions(
    client: TestClient, login: Login
) -> None:
    ops = login("ops1")
    before = client.get("/ops/policy", headers=ops).json()["version"]
    revised = client.post(
        "/ops/policy",
        headers=ops,
        json={
            "rules": [{"code": "return_window", "params": {"no_reason_days": 10}}],
            "note": "promo",
        },
    )
    assert revised.status_code == 201 and revised.json()["version"] == before + 1
    # TM2026000104 was signed 9 days ago: outside 7 days, inside 10.
    ret = open_return(client, login("buyer2"), "TM2026000104", "L1")
    assert ret["status"] == "approved" and ret["decision"]["policy_version"] == before + 1
    bad = client.post(
        "/ops/policy",
        headers=ops,
        json={"rules": [{"code": "return_window", "params": {"no_reason_days": -1}}]},
    )
    assert bad.status_code == 422 and bad.json()["code"] == "policy_param_out_of_range"


def test_refund_only_is_paid_once_approved(
    client: TestClient, login: Login, payments: LocalPayments
) -> None:
    buyer = login("buyer3")
    photo = client.post(
        "/photos", headers=buyer, files={"file": ("broken.jpg", jpeg(), "image/jpeg")}
    ).json()["photo_id"]
    ret = open_return(
        client,
        buyer,
        "TM2026000105",
        "L2",
        reason="damaged_on_arrival",
        kind="refund_only",
        photo_ids=[photo],
    )
    # Above the instant limit and a buyer of trust 600: a person looks before money moves.
    assert ret["status"] == "in_review", ret
    assert ret["decision"]["methods"] == [] and payments.calls == 0
    first = client.post(
        f"/ops/reviews/{ret['return_id']}", headers=login("ops1"), json={"approve": True}
    )
    assert first.json()["status"] == "refunded" and len(payments.paid) == 1
    held = open_return(
        client, buyer, "TM2026000105", "L1", reason="quality", kind="refund_only"
    )  # no photo: a person looks first
    assert held["status"] == "in_review" and payments.calls == 1
    decided = client.post(
        f"/ops/reviews/{held['return_id']}", headers=login("ops1"), json={"approve": True}
    )
    assert decided.json()["status"] == "refunded" and len(payments.paid) == 2
