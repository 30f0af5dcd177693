"""Everyone sees only their own: other people's ids answer 404, other roles 403."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]


def _book(client: TestClient, h: dict[str, str]) -> tuple[str, dict]:
    r = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": "TM2026000101",
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    rid = r.json()["return_id"]
    slot = client.get(f"/returns/{rid}/slots", headers=h).json()["slots"][0]
    appt = client.post(
        f"/returns/{rid}/pickup",
        headers=h,
        json={"carrier_id": slot["carrier_id"], "day": slot["day"], "start": slot["start"]},
    ).json()
    return rid, appt


def test_buyer_cannot_see_or_touch_another_buyers_return(client: TestClient, login: Login) -> None:
    rid, appt = _book(client, login("buyer1"))
    other = login("buyer2")
    for method, path, body in [
        ("get", f"/returns/{rid}", None),
        ("get", f"/returns/{rid}/timeline", None),
        ("get", f"/returns/{rid}/receipt", None),
        ("get", f"/returns/{rid}/slots", None),
        ("post", f"/returns/{rid}/cancel", {}),
        ("post", f"/returns/{rid}/evidence", {"text": "mine now"}),
        ("get", f"/appointments/{appt['appointment_id']}", None),
        ("post", f"/appointments/{appt['appointment_id']}/cancel", None),
    ]:
        r = client.request(method, path, headers=other, json=body)
        assert r.status_code == 404, (path, r.status_code, r.text)
    # and nothing changed for the owner
    assert (
        client.get(f"/returns/{rid}", headers=login("buyer1")).json()["status"] == "awaiting_pickup"
    )


def test_buyer_cannot_open_a_return_on_another_buyers_order(
    client: TestClient, login: Login
) -> None:
    r = client.post(
        "/returns",
        headers=login("buyer2"),
        json={
            "order_id": "TM2026000101",
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    assert r.status_code == 404 and r.json()["code"] == "order_not_found"


def test_courier_sees_only_own_tasks(client: TestClient, login: Login) -> None:
    _rid, appt = _book(client, login("buyer1"))
    owner = {"courier-yto-01": "courier5", "courier-sf-01": "courier1"}[appt["courier_id"]]
    intruder = "courier8" if owner != "courier8" else "courier7"
    h = login(intruder)
    assert client.get("/courier/tasks", headers=h).json() == []
    r = client.post(f"/courier/tasks/{appt['appointment_id']}/arrive", headers=h)
    assert r.status_code == 404


def test_roles_are_enforced_and_tokens_required(client: TestClient, login: Login) -> None:
    assert client.get("/returns").status_code == 401
    assert client.get("/returns", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/ops/policy", headers=login("buyer1")).status_code == 403
    assert client.get("/courier/tasks", headers=login("ops1")).status_code == 403
    r = client.post("/auth/token", data={"username": "buyer1", "password": "wrong"})
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_partner_imports_only_its_own_shop(client: TestClient, login: Login) -> None:
    partner = login("partner1")  # shop-kr-beauty
    product = {
        "sku": "KR-TONER-200",
        "name_zh": "爽肤水",
        "name_en": "Toner",
        "category": "cosmetics",
        "weight_g": 260,
        "dimensions": {"length_mm": 60, "width_mm": 60, "height_mm": 180},
        "seal_sensitive": True,
        "shop_id": "shop-kr-beauty",
    }
    assert client.post(
        "/partner/products", headers=partner, json={"products": [product]}
    ).json() == {"imported": 1}
    foreign = {**product, "sku": "JP-X-1", "shop_id": "shop-jp-mall"}
    r = client.post("/partner/products", headers=partner, json={"products": [foreign]})
    assert r.status_code == 422 and r.json()["code"] == "foreign_shop"


def test_product_with_an_accessory_listed_twice_is_refused(
    client: TestClient, login: Login
) -> None:
    """Found by schema fuzzing: a repeated accessory reached the domain's check as a 500."""
    partner = login("partner1")  # shop-kr-beauty
    product = {
        "sku": "KR-LAMP-1",
        "name_zh": "台灯",
        "name_en": "Lamp",
        "category": "electronics",
        "weight_g": 900,
        "dimensions": {"length_mm": 200, "width_mm": 200, "height_mm": 300},
        "shop_id": "shop-kr-beauty",
        "accessories": ["manual", "manual"],
    }
    r = client.post("/partner/products", headers=partner, json={"products": [product]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_value"
    assert "accessories" in r.json()["message"]["en"]


def test_photo_of_another_user_is_not_found(client: TestClient, login: Login) -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "PNG")
    up = client.post(
        "/photos", headers=login("buyer1"), files={"file": ("a.png", buf.getvalue(), "image/png")}
    ).json()
    assert client.get(f"/photos/{up['photo_id']}", headers=login("buyer2")).status_code == 404
    mine = client.get(f"/photos/{up['photo_id']}", headers=login("buyer1"))
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
