"""Exchanges, customs returns, drop-off and self-ship over HTTP (issue 9 §6-8), with the
errors a buyer meets (zh and en, stable codes, never a 500)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]

Login = Callable[[str], dict[str, str]]
BONDED_ORDER = "TM2026000101"  # buyer1: serum + 2 lipsticks, bonded, released 3 days ago


def _exchange(client: TestClient, h: dict[str, str], to: str) -> object:
    return client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "kind": "exchange",
            "lines": [{"order_line_id": "L2", "quantity": 1, "reason": "no_reason"}],
            "replacements": {"L2": to},
        },
    )


def test_exchange_for_another_variant_over_http(client: TestClient, login: Login) -> None:
    h = login("buyer1")
    options = client.get("/exchanges/options", headers=h, params={"sku": "KR-LIPSTICK-V01"})
    assert {o["sku"] for o in options.json()} == {"KR-LIPSTICK-V01", "KR-LIPSTICK-V02"}
    r = _exchange(client, h, "KR-LIPSTICK-V02")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    rid = r.json()["return_id"]  # type: ignore[attr-defined]
    ex = client.get(f"/returns/{rid}/exchange", headers=h).json()
    assert ex["status"] == "reserved" and ex["ship_at"] == "pickup"
    # The dearer shade's 2,000 and the import tax on it at the bought line's rate.
    assert (ex["difference_fen"], ex["difference_tax_fen"]) == (2_462, 462)
    wrong = _exchange(client, h, "JP-DOWN-JACKET-L")
    assert wrong.status_code == 422 and wrong.json()["code"] == "not_a_variant"  # type: ignore[attr-defined]
    back = client.post(f"/returns/{rid}/exchange/refund-instead", headers=h)
    assert back.status_code == 200 and back.json()["kind"] == "refund", back.text
    names = [e["name"] for e in client.get(f"/returns/{rid}/timeline", headers=h).json()]
    assert "exchange.reserved" in names and "exchange.released" in names


def test_out_of_stock_answers_409_with_the_refund_alternative(
    client: TestClient, login: Login
) -> None:
    h = login("buyer1")
    for _ in range(2):  # the variant has 3 units; the order only has 2 lipsticks to exchange
        assert _exchange(client, h, "KR-LIPSTICK-V02").status_code == 201  # type: ignore[attr-defined]
    ops = login("ops1")
    r = client.get("/ops/customs", headers=ops)
    assert r.status_code == 200 and r.json()[0]["customs_return"]["declaration_no"]
    h5 = login("buyer5")
    sneakers = client.post(
        "/returns",
        headers=h5,
        json={
            "order_id": "TM2026000110",
            "kind": "exchange",
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
            "replacements": {"L1": "CN-RUNNING-SHOES-43"},
        },
    )
    assert sneakers.status_code == 409, sneakers.text
    body = sneakers.json()
    assert body["code"] == "out_of_stock" and body["details"]["alternative"] == "refund"
    assert body["message"]["zh"] and body["message"]["en"]


def test_self_send_guide_dropoff_code_and_waybill_check(client: TestClient, login: Login) -> None:
    h = login("buyer1")
    r = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    rid = r.json()["return_id"]
    assert (
        client.post(f"/returns/{rid}/self-send", headers=h, json={"method": "dropoff"}).status_code
        == 200
    )
    guide = client.get(f"/returns/{rid}/self-send", headers=h).json()
    assert guide["cross_border"] and guide["warehouse"]["bonded"]
    assert guide["stations"] and guide["stations"][0]["distance_m"] <= 5_000
    assert guide["freight"]["payer"] == "buyer" and not guide["freight"]["reimbursed"]
    station = guide["stations"][0]["station_id"]
    code = client.post(f"/returns/{rid}/dropoff-code", headers=h, json={"station_id": station})
    assert code.status_code == 201 and len(code.json()["code"]) == 8, code.text
    qr = client.get(f"/returns/{rid}/dropoff-code.svg", headers=h)
    assert qr.status_code == 200 and qr.text.startswith("<svg")
    bad = client.post(
        f"/returns/{rid}/shipment", headers=h, json={"waybill_no": "SF12345", "carrier_id": "sf"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "waybill_format"
    assert "SF" in bad.json()["details"]["example"]
    ok = client.post(
        f"/returns/{rid}/shipment",
        headers=h,
        json={"waybill_no": "SF1234567890123", "carrier_id": "sf"},
    )
    assert ok.json()["status"] == "in_transit", ok.text
    near = client.get("/stations", headers=h, params={"lat": 31.19, "lon": 121.437})
    assert [s["station_id"] for s in near.json()][:1] == ["st-xh-01"]
    assert client.get("/stations", headers=h, params={"lat": 91, "lon": 0}).status_code == 422
    assert {f["carrier_id"] for f in client.get("/waybill-formats", headers=h).json()} >= {
        "sf",
        "yto",
    }


def test_customs_return_declared_and_settled_by_ops(client: TestClient, login: Login) -> None:
    h = login("buyer1")
    r = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "kind": "exchange",
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    assert r.status_code in (201, 409), r.text  # the serum has no stock row: refused, kept
    refund = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    rid = refund.json()["return_id"]
    ops = login("ops1")
    (item,) = [
        i
        for i in client.get("/ops/customs", headers=ops).json()
        if rid in [ln["return_id"] for ln in i["customs_return"]["lines"]]
    ]
    cr = item["customs_return"]["customs_return_id"]
    assert item["deadline"] == "application"
    decl = client.get(f"/ops/customs/{cr}/declaration", headers=ops).json()
    assert (
        decl["trade_mode"] == "1210" and decl["return_warehouse"]["warehouse_id"] == "wh-sh-bonded"
    )
    declared = client.post(f"/ops/customs/{cr}/declare", headers=ops).json()
    assert declared["status"] == "accepted"
    forced = client.post(f"/ops/customs/{cr}/settle", headers=ops, json={"force": True}).json()
    assert forced["status"] == "settled"  # nothing arrived: no tax, no quota
    assert forced["tax_refund_fen"] == 0 and forced["quota_restored_fen"] == 0
    quota = client.get("/customs/quota", headers=h).json()
    assert quota["limit_fen"] == 2_600_000
    assert client.get("/ops/customs/CR-nope", headers=ops).status_code == 404
    assert client.get("/ops/customs", headers=h).status_code == 403


def test_pages_exchange_send_yourself_and_customs_queue(client: TestClient, login: Login) -> None:
    from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD

    b = signed_in(client, "buyer1")
    form = b.get(f"/portal/returns/new?order_id={BONDED_ORDER}&line_id=L2")
    assert form.status_code == 200 and 'name="swap:L2"' in form.text
    assert 'data-testid="swap-tax"' in form.text  # a dearer shade's difference is taxed
    csrf = b.cookies[CSRF_COOKIE]
    filed = b.post(
        "/portal/returns",
        data={
            "order_id": BONDED_ORDER,
            "kind": "exchange",
            "qty:L2": "1",
            "reason": "no_reason",
            "swap:L2": "KR-LIPSTICK-V02",
            # The item is intact (unchecked boxes are absent from a form).
            **dict.fromkeys(
                ("seal_intact", "tags_attached", "accessories_complete", "labels_intact"), "on"
            ),
            CSRF_FIELD: csrf,
        },
    )
    assert filed.status_code == 303, filed.text
    rid = filed.headers["location"].rsplit("/", 1)[-1].split("?")[0]
    page = b.get(f"/portal/returns/{rid}")
    assert 'data-testid="exchange-link"' in page.text
    x = b.get(f"/portal/returns/{rid}/exchange")
    assert x.status_code == 200 and 'data-testid="difference"' in x.text
    assert 'data-testid="difference-tax"' in x.text
    back = b.post(f"/portal/returns/{rid}/refund-instead", data={CSRF_FIELD: csrf})
    assert back.status_code == 303
    # Drop-off: the guide with the bonded warehouse, then a code and its QR.
    h = login("buyer1")
    r = client.post(
        "/returns",
        headers=h,
        json={
            "order_id": BONDED_ORDER,
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
        },
    )
    rid = r.json()["return_id"]
    client.post(f"/returns/{rid}/self-send", headers=h, json={"method": "dropoff"})
    guide = b.get(f"/portal/returns/{rid}/send-yourself?lang=zh-CN")
    assert guide.status_code == 200 and "保税区" in guide.text
    got = b.post(
        f"/portal/returns/{rid}/dropoff-code", data={"station_id": "st-xh-01", CSRF_FIELD: csrf}
    )
    assert got.status_code == 303
    assert "<svg" in b.get(f"/portal/returns/{rid}/send-yourself").text
    ops = signed_in(client, "ops1")
    queue = ops.get("/console/customs")
    assert (queue.status_code == 200 and BONDED_ORDER[-3:] in queue.text) or "1210" in queue.text
