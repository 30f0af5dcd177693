"""The measured calls of exchanges, customs returns, drop-off and self-ship (issue 9 §6-8) for
tests/e2e/test_statements.py: fresh targets in the states each path needs, every run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from doorstep.adapters.demo.data import PILLOW
from doorstep.domain.exchange import StockLevel
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.services import customs, exchanges, self_send


def _bonded_order(w: Any, username: str) -> str:
    buyer_id = w.actor(username)
    now = w.app.services.clock.now()
    order_id = f"NPX{next(w.serial):06d}"
    with w.app.services.uow() as uow:
        buyer = uow.buyers.get(buyer_id)
        uow.orders.put(
            Order(
                order_id,
                buyer_id,
                "shop-test",
                Channel.BONDED,
                now - timedelta(days=6),
                buyer.addresses[0],
                (OrderLine("L1", PILLOW, 1, 39_900, 3_630),),
                signed_at=now - timedelta(days=1),
                customs_released_at=now - timedelta(days=5),
                declaration_no=f"DX{order_id}",
            )
        )
        uow.commit()
    return order_id


def _file(w: Any, username: str, order_id: str, kind: str) -> str:
    body = {
        "order_id": order_id,
        "kind": kind,
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
    }
    r = w.client.post("/returns", json=body, headers=w.login(username))
    assert r.status_code == 201, r.text
    return str(r.json()["return_id"])


def _exchange(w: Any, username: str) -> str:
    return _file(w, username, w.orders(username, 1)[0], "exchange")


def _shipped_exchange(w: Any, username: str) -> str:
    """An exchange of a trusted buyer, picked up: its replacement left with the parcel."""
    return_id = _exchange(w, username)
    appt = w.book(username, return_id)
    assert appt is not None
    courier = w.courier(appt)
    aid = appt["appointment_id"]
    assert w.client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
    r = w.client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=courier,
        json={
            "return_id": return_id,
            "checklist": w.checklist(appt, return_id),
            "photo_ids": [w.photo(courier)],
            "verified_weight_g": 800,
        },
    )
    assert r.status_code == 200, r.text
    r = w.client.post(
        f"/courier/tasks/{aid}/pickup", headers=courier, json={"pickup_code": appt["pickup_code"]}
    )
    assert r.status_code == 200, r.text
    assert exchanges.get_exchange(w.app.services, return_id).status.value == "shipped"
    return return_id


def after_sales_calls(w: Any, call: Any, page: Any, b: str) -> list[Any]:
    """``call`` and ``page`` build test_statements' Call objects."""
    svc = w.app.services
    exchanges.upsert_stock(svc, [StockLevel(PILLOW, "latex-pillow", 39_900, 100_000)])
    shown = _exchange(w, b)
    instead = _exchange(w, b)
    tracked = _shipped_exchange(w, b)
    dropping = w.dropped_off(b)
    coded = w.dropped_off(b)
    svc_station = "st-xh-01"
    r = w.client.post(
        f"/returns/{coded}/dropoff-code", headers=w.login(b), json={"station_id": svc_station}
    )
    assert r.status_code == 201, r.text
    handed = w.dropped_off(b)
    to_hand = self_send.issue_dropoff_code(svc, w.actor(b), handed, svc_station).dropoff
    assert to_hand is not None
    declared = _file(w, b, _bonded_order(w, b), "refund")
    to_declare = _file(w, b, _bonded_order(w, b), "refund")
    to_settle = _file(w, b, _bonded_order(w, b), "refund")

    def cr_of(return_id: str) -> str:
        with svc.uow() as uow:
            (found,) = uow.customs.for_returns([return_id])
        return found.customs_return_id

    settle_id = cr_of(to_settle)
    customs.declare(svc, settle_id)
    cr = cr_of(declared)
    page_instead = _exchange(w, b)
    page_drop = w.dropped_off(b)
    page_declare = cr_of(_file(w, b, _bonded_order(w, b), "refund"))
    page_settle = cr_of(_file(w, b, _bonded_order(w, b), "refund"))
    customs.declare(svc, page_settle)
    ops = "ops1"
    pages = [
        page(
            "/portal/returns/{return_id}/send-yourself", b, f"/portal/returns/{coded}/send-yourself"
        ),
        page(
            "/portal/returns/{return_id}/dropoff-code",
            b,
            f"/portal/returns/{page_drop}/dropoff-code",
            {"station_id": svc_station},
        ),
        page("/portal/returns/{return_id}/exchange", b, f"/portal/returns/{tracked}/exchange"),
        page(
            "/portal/returns/{return_id}/refund-instead",
            b,
            f"/portal/returns/{page_instead}/refund-instead",
            {},
        ),
        page("/console/customs", ops, "/console/customs"),
        page(
            "/console/customs/{customs_return_id}/declare",
            ops,
            f"/console/customs/{page_declare}/declare",
            {},
        ),
        page(
            "/console/customs/{customs_return_id}/settle",
            ops,
            f"/console/customs/{page_settle}/settle",
            {},
        ),
    ]
    return [
        *pages,
        call("GET /exchanges/options", b, "GET", "/exchanges/options", {"params": {"sku": PILLOW}}),
        call("GET /returns/{return_id}/exchange", b, "GET", f"/returns/{shown}/exchange"),
        call(
            "POST /returns/{return_id}/exchange/refund-instead",
            b,
            "POST",
            f"/returns/{instead}/exchange/refund-instead",
        ),
        call(
            "POST /ops/exchanges/{return_id}/tracking",
            ops,
            "POST",
            f"/ops/exchanges/{tracked}/tracking",
            {"json": {"status": "in_transit", "location": "上海"}},
        ),
        call("GET /returns/{return_id}/self-send", b, "GET", f"/returns/{coded}/self-send"),
        call(
            "POST /returns/{return_id}/dropoff-code",
            b,
            "POST",
            f"/returns/{dropping}/dropoff-code",
            {"json": {"station_id": svc_station}},
        ),
        call(
            "GET /returns/{return_id}/dropoff-code.svg",
            b,
            "GET",
            f"/returns/{coded}/dropoff-code.svg",
        ),
        call(
            "POST /stations/{station_id}/dropoffs",
            "warehouse1",
            "POST",
            f"/stations/{svc_station}/dropoffs",
            {"json": {"code": to_hand.code}},
        ),
        call("GET /stations", b, "GET", "/stations", {"params": {"lat": 31.19, "lon": 121.437}}),
        call("GET /waybill-formats", b, "GET", "/waybill-formats"),
        call("GET /customs/quota", b, "GET", "/customs/quota"),
        call("GET /ops/customs", ops, "GET", "/ops/customs"),
        call("GET /ops/customs/{customs_return_id}", ops, "GET", f"/ops/customs/{cr}"),
        call(
            "GET /ops/customs/{customs_return_id}/declaration",
            ops,
            "GET",
            f"/ops/customs/{cr}/declaration",
        ),
        call(
            "POST /ops/customs/{customs_return_id}/declare",
            ops,
            "POST",
            f"/ops/customs/{cr_of(to_declare)}/declare",
        ),
        call(
            "POST /ops/customs/{customs_return_id}/settle",
            ops,
            "POST",
            f"/ops/customs/{settle_id}/settle",
            {"json": {"force": True}},
        ),
    ]
