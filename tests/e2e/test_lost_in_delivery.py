"""A buyer whose order was lost in delivery (issue 9 §4): the portal offers the reason, a
refund-only request for a loss the courier company declared is paid at once whatever the
refund-only limits, and the page explains the rule in Chinese and English."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.e2e.test_page_bounds import signed_in  # type: ignore[import-not-found]

from doorstep.adapters.payments.local import LocalPayments

Login = Any


def _lost_order(order_id: str, *, lost: bool) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "buyer_id": "buyer-001",
        "shop_id": "shop-kr-beauty",
        "channel": "domestic",
        "placed_at": "2026-11-05T10:00:00+08:00",
        **({"lost_at": "2026-11-20T18:00:00+08:00"} if lost else {}),
        "shipping_address": {
            "adcode": "310104", "province": "上海市", "city": "上海市", "district": "徐汇区",
            "detail": "漕溪北路88号", "contact_name": "林晓雯", "contact_phone": "13800001001",
        },
        "lines": [{"line_id": "L1", "sku": "KR-SERUM-50ML", "quantity": 1,
                   "unit_price_fen": 30_000}],
    }  # fmt: skip


def test_a_declared_loss_is_refunded_without_a_return(
    client: TestClient, login: Login, payments: LocalPayments
) -> None:
    r = client.post(
        "/partner/orders",
        json={"orders": [_lost_order("P-LOST-1", lost=True)]},
        headers=login("partner1"),
    )
    assert r.status_code == 200, r.text
    post = signed_in(client, "buyer1")
    form = client.get("/portal/returns/new", params={"order_id": "P-LOST-1", "line_id": "L1"})
    assert 'value="lost_in_delivery"' in form.text and "运输途中丢失" in form.text
    fields = {"order_id": "P-LOST-1", "line_id": "L1", "quantity": "1"}
    r = post("/portal/returns", **fields, kind="refund_only", reason="lost_in_delivery")
    assert r.status_code == 200 and "/portal/returns/R-" in str(r.url), r.text[:500]
    # 300 CNY is above the refund-only instant limit: paid anyway, the loss is the company's.
    assert "快递公司已于 2026-11-20 确认包裹丢失" in r.text
    english = client.get(r.url.path, params={"lang": "en"})
    assert "The courier company declared this parcel lost on 2026-11-20" in english.text
    assert len(payments.paid) == 1
    api = client.get(f"/returns/{r.url.path.rsplit('/', 1)[1]}", headers=login("buyer1"))
    assert api.json()["status"] == "refunded" and api.json()["decision"]["methods"] == []


def test_a_lost_parcel_is_never_sent_back_and_a_presumed_loss_keeps_the_limits(
    client: TestClient, login: Login, payments: LocalPayments
) -> None:
    client.post(
        "/partner/orders",
        json={"orders": [_lost_order("P-LOST-2", lost=False)]},
        headers=login("partner1"),
    )
    buyer = login("buyer1")
    body: dict[str, Any] = {
        "order_id": "P-LOST-2",
        "kind": "refund",
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "lost_in_delivery"}],
    }
    refused = client.post("/returns", json=body, headers=buyer).json()
    assert refused["status"] == "rejected"
    [why] = [f for f in refused["decision"]["findings"] if f["rule"] == "lost_in_delivery"]
    assert why["reason"] == "lost_refund_only" and "仅退款" in why["text_zh"]
    # Not signed for 20 days after the order, not declared lost: presumed lost, and 300 CNY
    # is above the instant limit, so a person decides.
    held = client.post("/returns", json={**body, "kind": "refund_only"}, headers=buyer).json()
    assert held["status"] == "in_review" and payments.calls == 0
    reasons = {f["reason"] for f in held["decision"]["findings"]}
    assert {"lost_presumed", "refund_only_above_instant_limit"} <= reasons
