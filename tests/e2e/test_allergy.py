"""过敏包退 over HTTP (RULES.md §3): a cosmetics promise. A serum signed 50 days ago goes back
as an allergy with the seller paying the freight; a latex pillow signed as long ago is refused
with its own decision code explained in Chinese and English, and its quote is refused too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import T0  # type: ignore[import-not-found]
from tests.e2e.test_journey import jpeg  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.services import catalog

Login = Any


def _order(app: App, order_id: str, sku: str) -> None:
    with app.services.uow() as uow:
        buyer = uow.buyers.get("buyer-001")
    assert buyer is not None
    order = Order(
        order_id, "buyer-001", "shop-test", Channel.DOMESTIC, T0 - timedelta(days=53),
        buyer.addresses[0], (OrderLine("L1", sku, 1, 39_900),),
        signed_at=T0 - timedelta(days=50),
    )  # fmt: skip
    catalog.import_orders(app.services, [order], None)


def _body(order_id: str, photo_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "allergy"}],
        "photo_ids": [photo_id],
    }


def test_allergy_returns_are_for_cosmetics_only(
    client: TestClient, login: Login, wired: App
) -> None:
    _order(wired, "ALLERGY-SERUM", "KR-SERUM-50ML")
    _order(wired, "ALLERGY-PILLOW", "CN-LATEX-PILLOW")
    buyer = login("buyer1")
    shot = client.post("/photos", headers=buyer, files={"file": ("p.jpg", jpeg(), "image/jpeg")})
    assert shot.status_code == 201, shot.text
    photo_id = shot.json()["photo_id"]

    lines = _body("ALLERGY-PILLOW", photo_id)["lines"]
    quote = client.post(
        "/returns/quote", json={"order_id": "ALLERGY-PILLOW", "lines": lines}, headers=buyer
    )
    assert quote.status_code == 422, quote.text
    assert quote.json()["code"] == "allergy_not_for_category"
    assert "过敏包退" in quote.json()["message"]["zh"]
    refused = client.post("/returns", json=_body("ALLERGY-PILLOW", photo_id), headers=buyer)
    assert refused.status_code == 201, refused.text
    body = refused.json()
    assert body["status"] == "rejected" and body["refund_quote"] is None
    [why] = [f for f in body["decision"]["findings"] if f["rule"] == "return_window"]
    assert why["verdict"] == "reject" and why["reason"] == "allergy_not_for_category"
    assert "cosmetics" in why["text_en"] and "过敏包退" in why["text_zh"]

    taken = client.post("/returns", json=_body("ALLERGY-SERUM", photo_id), headers=buyer)
    assert taken.status_code == 201, taken.text
    serum = taken.json()
    assert serum["status"] != "rejected", serum["decision"]
    assert {f["reason"] for f in serum["decision"]["findings"]} >= {"within_window"}
    assert serum["refund_quote"]["freight_payer"] == "seller"
