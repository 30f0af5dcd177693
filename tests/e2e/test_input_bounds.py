"""Out-of-range times and non-ASCII digits are refused with 422 in both languages, and nothing
is stored; pages and the API keep answering for the buyer afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

Login = Callable[[str], dict[str, str]]

ARABIC_4 = "\u0664"  # ٤: str.isdigit() and \d both accept it
FULLWIDTH_1 = "\uff11"  # １

ADDRESS = {
    "adcode": "310104",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "detail": "漕溪北路88号",
    "contact_name": "林晓雯",
    "contact_phone": "13800001001",
}
# T0 of the tests is 2026-11-25 09:00 in Shanghai.
ORDER: dict[str, Any] = {
    "order_id": "TM2099000001",
    "buyer_id": "buyer-001",
    "shop_id": "shop-kr-beauty",
    "channel": "domestic",
    "placed_at": "2026-11-20T10:00:00+08:00",
    "signed_at": "2026-11-23T10:00:00+08:00",
    "shipping_address": ADDRESS,
    "lines": [{"line_id": "L1", "sku": "KR-SERUM-50ML", "quantity": 1, "unit_price_fen": 100}],
}
REFUND = {"lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}]}


def refused(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] and body["message"]["en"] and body["message"]["zh"], body
    return body


def order_exists(client: TestClient, login: Login, order_id: str) -> bool:
    r = client.post("/returns", headers=login("buyer1"), json={"order_id": order_id, **REFUND})
    return r.status_code != 404


IMPOSSIBLE_ORDERS: list[dict[str, Any]] = [
    {"signed_at": "9999-12-31T23:00:00+00:00"},
    {"placed_at": "0001-01-01T00:00:00+00:00"},
    {"signed_at": "2028-11-25T10:00:00+08:00"},  # years ahead of now
    {"signed_at": "2026-11-19T10:00:00+08:00"},  # before it was placed
    {"placed_at": "2026-11-26T10:00:00+08:00", "signed_at": None},  # placed tomorrow
    {"placed_at": "2026-11-20T10:00:00"},  # no offset
    {"shipping_address": {**ADDRESS, "adcode": "31010" + ARABIC_4}},
    {"shipping_address": {**ADDRESS, "contact_phone": "1380000100" + ARABIC_4}},
    {"channel": "bonded", "customs_released_at": "2026-11-24T10:00:00+08:00"},  # after signing
]


def test_partner_orders_with_impossible_values_are_refused_and_not_stored(
    client: TestClient, login: Login
) -> None:
    good = {**ORDER, "order_id": "TM2099000002"}
    for change in IMPOSSIBLE_ORDERS:
        bad = {**ORDER, **change}
        r = client.post("/partner/orders", headers=login("partner1"), json={"orders": [good, bad]})
        assert r.status_code == 422, (change, r.text)
        refused(r)
    # Each batch was refused whole: neither order exists, and the buyer's pages still work.
    assert not order_exists(client, login, "TM2099000001")
    assert not order_exists(client, login, "TM2099000002")
    assert client.get("/returns", headers=login("buyer1")).status_code == 200


def test_plausible_partner_order_is_imported(client: TestClient, login: Login) -> None:
    r = client.post("/partner/orders", headers=login("partner1"), json={"orders": [ORDER]})
    assert r.json() == {"imported": 1}
    assert order_exists(client, login, "TM2099000001")


def test_out_of_range_time_names_the_field_in_both_languages(
    client: TestClient, login: Login
) -> None:
    late = {**ORDER, "signed_at": "2026-11-19T10:00:00+08:00"}
    body = refused(
        client.post("/partner/orders", headers=login("partner1"), json={"orders": [late]})
    )
    assert body["code"] == "time_out_of_range"
    assert body["details"]["field"] == "signed_at"
    assert "signed_at" in body["message"]["en"] and "signed_at" in body["message"]["zh"]


def disruption(**change: Any) -> dict[str, Any]:
    return {
        "kind": "typhoon",
        "adcodes": ["310104"],
        "starts_at": "2026-11-25T12:00:00+08:00",
        "ends_at": "2026-11-26T12:00:00+08:00",
        "reason_en": "Typhoon",
        "reason_zh": "台风",
        **change,
    }


OUT_OF_HORIZON: list[dict[str, Any]] = [
    {"starts_at": "0001-01-01T00:00:00+00:00"},
    {"ends_at": "9999-12-31T23:59:59+00:00"},
    {"starts_at": "2026-11-01T00:00:00+08:00"},  # weeks ago
    {"starts_at": "2028-01-01T00:00:00+08:00", "ends_at": "2028-01-02T00:00:00+08:00"},
    {"ends_at": "2027-01-25T12:00:00+08:00"},  # two months long
    {"starts_at": "2026-11-20T00:00:00+08:00", "ends_at": "2026-11-21T00:00:00+08:00"},  # over
    {"adcodes": ["31010" + ARABIC_4]},
]


def test_disruptions_outside_a_sane_horizon_are_refused_and_not_stored(
    client: TestClient, login: Login
) -> None:
    ops = login("ops1")
    for change in OUT_OF_HORIZON:
        r = client.post("/ops/disruptions", headers=ops, json=disruption(**change))
        assert r.status_code == 422, (change, r.text)
        refused(r)
    assert client.get("/ops/disruptions", headers=ops).json() == []
    r = client.post("/ops/disruptions", headers=ops, json=disruption())
    assert r.status_code == 201, r.text


def test_booking_a_day_or_time_out_of_range_is_refused(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    rid = client.post("/returns", headers=buyer, json={"order_id": "TM2026000101", **REFUND})
    rid = rid.json()["return_id"]
    slot = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"][0]
    for day, start in [
        ("9999-12-31", slot["start"]),
        ("0001-01-01", slot["start"]),
        (slot["day"], slot["start"] + "+08:00"),
    ]:
        body = {"carrier_id": slot["carrier_id"], "day": day, "start": start}
        refused(client.post(f"/returns/{rid}/pickup", headers=buyer, json=body))
    assert client.get(f"/returns/{rid}", headers=buyer).json()["appointment_id"] is None


def test_codes_with_non_ascii_digits_are_refused(client: TestClient, login: Login) -> None:
    buyer, courier = login("buyer1"), login("courier1")
    for digit in (ARABIC_4, FULLWIDTH_1):
        adcode = {"sku": "KR-SERUM-50ML", "adcode": "31010" + digit}
        refused(client.get("/precheck", headers=buyer, params=adcode))
        code = {"pickup_code": "12345" + digit}
        refused(client.post("/courier/tasks/A-1/pickup", headers=courier, json=code))
        waybill = {"waybill_no": "SF12345" + digit, "carrier_id": "sf"}
        refused(client.post("/returns/R-1/shipment", headers=buyer, json=waybill))


def test_ops_inputs_are_bounded(client: TestClient, login: Login) -> None:
    ops = login("ops1")
    template = {
        "template_id": "t-offset",
        "name": "offset",
        "windows": [{"start": "09:00:00+08:00", "end": "11:00:00+08:00"}],
    }
    refused(client.put("/ops/templates/t-offset", headers=ops, json=template))
    carrier = {
        "carrier_id": "yto",
        "name_zh": "圆通速递",
        "name_en": "YTO Express",
        "waybill_prefix": "YT",
        "template_id": "generic-2h",
    }
    for bad in (
        {"waybill_prefix": "yt-1"},
        {"waybill_prefix": ""},
        {"name_en": "x" * 201},
        {"max_insured_fen": 0},
        {"max_insured_fen": -1},
        {"max_insured_fen": 10**11 + 1},
        {"max_insured_fen": "1e9"},
    ):
        refused(client.put("/ops/carriers/yto", headers=ops, json={**carrier, **bad}))
    capped = client.put("/ops/carriers/yto", headers=ops, json={**carrier, "max_insured_fen": 1})
    assert capped.status_code == 200 and capped.json()["max_insured_fen"] == 1, capped.text
    uncapped = client.put("/ops/carriers/yto", headers=ops, json=carrier)
    assert uncapped.status_code == 200 and uncapped.json()["max_insured_fen"] is None
    assert refused(client.put("/ops/carriers/sf", headers=ops, json=carrier))["code"] == (
        "carrier_id_mismatch"
    )
    missing = client.put("/ops/carriers/yto", headers=ops, json={**carrier, "template_id": "no"})
    assert missing.status_code == 404, missing.text
    for window in (
        "310104/yto/2026-11-27/24:00",
        "310104/yto/2026-11-27/9:00",
        "310104/yto/2026-13-01/09:00",
        f"310104/yto/2026-11-27/{ARABIC_4[:2]}:00",
        "31010/yto/2026-11-27/09:00",
        "310104/yto/9999-12-31/09:00",  # a real date outside the years 2000-2099
        "310104/yto/0001-01-01/09:00",
    ):
        refused(client.post(f"/ops/windows/{window}/rebalance", headers=ops))
    unknown = client.post("/ops/windows/310104/yto/2026-11-27/10:00/rebalance", headers=ops)
    assert unknown.status_code == 404, unknown.text  # not a window of YTO's template
    rules = [{"code": "evidence_required", "params": {"reasons": ["quality"] * 51}}]
    refused(client.post("/ops/policy", headers=ops, json={"rules": rules}))
    for limit in ("0", "501", ARABIC_4):
        over = client.get("/ops/windows/over-capacity", headers=ops, params={"limit": limit})
        refused(over)
