"""The refund amount over HTTP: a quote before filing, the same on the decision, partner data."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD

Login = Callable[[str], dict[str, str]]


def _quote(client: TestClient, h: dict[str, str], order: str, *lines: tuple[str, int, str]) -> dict:
    body = {
        "order_id": order,
        "lines": [{"order_line_id": ln, "quantity": q, "reason": why} for ln, q, why in lines],
    }
    r = client.post("/returns/quote", json=body, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_quote_before_filing_equals_the_decision(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    # TM2026000118: the castle blocks back, the pillows kept: the full reduction is lost.
    quote = _quote(client, buyer, "TM2026000118", ("L2", 1, "no_reason"))
    assert [(ln["part"], ln["amount_fen"]) for ln in quote["lines"]] == [
        ("goods", 129_900),
        ("coupon", -6_194),
        ("full_reduction", -15_000),
        ("return_freight", 1_200),
    ]
    assert quote["freight_payer"] == "insurance" and quote["total_fen"] == 109_906
    assert quote["tax_status"] == "no_tax"
    body = {"order_id": "TM2026000118", "lines": [{"order_line_id": "L2", "quantity": 1,
                                                   "reason": "no_reason"}]}  # fmt: skip
    filed = client.post("/returns", json=body, headers=buyer)
    assert filed.status_code == 201, filed.text
    assert filed.json()["refund_quote"] == quote
    again = client.post("/returns/quote", json=body, headers=buyer)
    assert again.status_code == 409 and again.json()["code"] == "quantity_already_claimed"


def test_cross_border_quote_says_until_when_the_tax_goes_back(
    client: TestClient, login: Login
) -> None:
    quote = _quote(client, login("buyer1"), "TM2026000101", ("L2", 1, "quality"))
    assert quote["tax_status"] == "if_arrives" and quote["tax_arrive_by"]
    assert quote["tax_fen"] == 7_392  # 14 784 withheld for two lipsticks, one goes back
    assert quote["freight_payer"] == "seller" and quote["freight_fen"] == 1_200


def test_quote_refuses_what_filing_refuses(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    body = {"order_id": "TM2026000118", "lines": [{"order_line_id": "L1", "quantity": 3,
                                                   "reason": "no_reason"}]}  # fmt: skip
    assert client.post("/returns/quote", json=body, headers=buyer).status_code == 422
    body["order_id"] = "TM2026000103"  # buyer2's order
    assert client.post("/returns/quote", json=body, headers=buyer).status_code == 404
    assert client.post("/returns/quote", json=body).status_code == 401


def test_partner_imports_promotions_and_gifts(client: TestClient, login: Login) -> None:
    order = {
        "order_id": "P-PROMO-1",
        "buyer_id": "buyer-001",
        "shop_id": "shop-kr-beauty",
        "channel": "domestic",
        "placed_at": "2026-11-20T10:00:00+08:00",
        "signed_at": "2026-11-24T10:00:00+08:00",
        "shipping_address": {
            "adcode": "310104", "province": "上海市", "city": "上海市", "district": "徐汇区",
            "detail": "漕溪北路88号", "contact_name": "林晓雯", "contact_phone": "13800001001",
        },
        "lines": [
            {"line_id": "L1", "sku": "KR-SERUM-50ML", "quantity": 1, "unit_price_fen": 30_000},
            {"line_id": "L2", "sku": "KR-LIPSTICK-V01", "quantity": 1, "unit_price_fen": 0,
             "gift_for": "L1", "gift_value_fen": 5_000},
        ],
        "promotions": {"coupon_fen": 3_000},
        "return_freight_by_shop": True,
    }  # fmt: skip
    partner = login("partner1")
    r = client.post("/partner/orders", json={"orders": [order]}, headers=partner)
    assert r.status_code == 200, r.text
    quote = _quote(client, login("buyer1"), "P-PROMO-1", ("L1", 1, "no_reason"))
    assert [(ln["part"], ln["amount_fen"]) for ln in quote["lines"]] == [
        ("goods", 30_000),
        ("coupon", -3_000),
        ("gift", -5_000),
        ("return_freight", 1_200),
    ]
    assert quote["freight_payer"] == "shop"
    bad = dict(order, order_id="P-PROMO-2", promotions={"coupon_fen": 40_000})
    r = client.post("/partner/orders", json={"orders": [bad]}, headers=partner)
    assert r.status_code == 422, r.text


def test_overdue_refunds_listed_for_ops_and_counted_on_the_dashboard(
    client: TestClient, login: Login, wired: App, clock: FixedClock
) -> None:
    from tests.integration.test_refund_money import _received  # type: ignore[import-not-found]

    ops = login("ops1")
    assert client.get("/ops/refunds/overdue", headers=ops).json() == []
    assert client.get("/ops/refunds/overdue", headers=login("buyer1")).status_code == 403
    rid = _received(wired)
    clock.advance(days=8)
    listed = client.get("/ops/refunds/overdue", headers=ops)
    [late] = listed.json()
    assert listed.headers["X-Total-Count"] == "1"
    assert late["return_id"] == rid and late["stage"] == "awaiting_qc"
    assert late["days_late"] == 1 and late["flagged"] is False

    page = TestClient(client.app, follow_redirects=False)
    page.get("/login")
    signed_in = page.post(
        "/login",
        data={"username": "ops1", "password": "demo-ops1", CSRF_FIELD: page.cookies[CSRF_COOKIE]},
    )
    assert signed_in.status_code == 303
    html = page.get("/console/dashboard", headers={"accept-language": "en"}).text
    assert 'data-testid="overdue-count">1<' in html and rid in html
