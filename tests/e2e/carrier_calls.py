"""The courier-company and tracking paths for the statement-count test (test_statements.py).

The company is the real HTTP adapter over ``httpx.MockTransport`` answering as the sandbox
does; callbacks are signed with its secret on the app's clock.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

import httpx

from doorstep.adapters.carriers.http import HttpCourierCompany
from doorstep.adapters.demo.data import COURIERS
from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.carrier_order import (
    Cargo,
    CarrierUpdate,
    CourierInfo,
    Party,
    PickupOrder,
    UnifiedOrder,
    UpdateKind,
)
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.domain.signature import signed_headers
from doorstep.services import returns
from doorstep.services.context import CarrierRules

SECRET = "statements-callback-secret-" + "s" * 20
COURIER_USER = {c.courier_id: f"courier{i}" for i, c in enumerate(COURIERS, 1)}
FENGXIAN = Address("310120", "上海市", "上海市", "奉贤区", "南桥镇88号", "林晓雯", "13800001111")


def _company(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path == "/api/orders":
        number = json.loads(request.content)["outOrderNo"]
        return httpx.Response(200, json={"orderId": f"SBX-{number}", "outOrderNo": number})
    return httpx.Response(200, json={})


def connect_company(app: App) -> None:
    """Give the app the sandbox company (carrier ``sbx``) behind a mock transport."""
    svc = app.services
    company = HttpCourierCompany(
        "sbx", "http://sandbox.test", "key", svc.exchanges, svc.clock,
        transport=httpx.MockTransport(_company),
    )  # fmt: skip
    app.services = replace(
        svc, carriers={"sbx": company}, carrier_rules=CarrierRules(secrets={"sbx": SECRET})
    )


def _company_order(w: Any) -> str:
    """A return of buyer1 in the company-served district, booked with the company."""
    h = w.login("buyer1")
    buyer_id = w.actor("buyer1")
    now = w.app.services.clock.now()
    order_id = f"SBX{uuid.uuid4().hex[:8]}"
    with w.app.services.uow() as uow:
        uow.orders.put(
            Order(
                order_id, buyer_id, "shop-test", Channel.DOMESTIC, now - timedelta(days=3),
                FENGXIAN, (OrderLine("L1", "CN-LATEX-PILLOW", 1, 39_900),),
                signed_at=now - timedelta(days=1),
            )
        )  # fmt: skip
        uow.commit()
    body = {
        "order_id": order_id,
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
    }
    return_id = w.client.post("/returns", json=body, headers=h).json()["return_id"]
    slots = w.client.get(f"/returns/{return_id}/slots", headers=h).json()["slots"]
    slot = next(s for s in slots if s["carrier_id"] == "sbx")
    appt = w.client.post(
        f"/returns/{return_id}/pickup",
        headers=h,
        json={k: slot[k] for k in ("carrier_id", "day", "start")},
    ).json()
    return str(appt["appointment_id"])


def _callback(w: Any, number: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "eventId": f"EV-{uuid.uuid4().hex}",
            "eventType": "COURIER_ASSIGNED",
            "occurredAt": w.app.services.clock.now().isoformat(),
            "order": {
                "outOrderNo": number,
                "status": "COURIER_ASSIGNED",
                "courier": {"name": "张师傅", "mobile": "138****5678"},
            },
        }
    ).encode()
    headers = signed_headers(SECRET, w.app.services.clock.now(), body)
    return body, {"Content-Type": "application/json", **headers}


_HOME = Party("林晓雯", "13800001111", "上海市", "上海市", "奉贤区", "南桥镇88号", "310120")
_WH = Party("仓", "02161234567", "上海市", "上海市", "浦东新区", "华京路8号", "310115")


def overtaken_order(app: App, number: str, line_id: str = "L1") -> str:
    """A company order the buyer cancelled after its courier took the parcel, whose one
    return was booked elsewhere meanwhile: the late pickup leaves it to ops. Its return id."""
    svc = app.services
    now = svc.clock.now()
    line = (returns.LineRequest(line_id, 1, Reason.NO_REASON),)
    left = returns.open_return(
        svc, returns.OpenReturn("buyer-001", "TM2026000101", ReturnKind.REFUND, line)
    )
    with svc.uow() as uow:
        order = UnifiedOrder(
            number, "sbx", "return_pickup", _HOME, _WH, Cargo("枕头", 1, 500, 4900),
            date(2026, 11, 26), time(9), time(11), "http://127.0.0.1/carriers/sbx/callbacks",
        )  # fmt: skip
        po = PickupOrder.intend(order, number.rsplit("-", 1)[0], [left.return_id], now)
        po.created(f"SBX-{number}", now)
        po.request_cancel(now, "buyer_cancelled")
        picked = CarrierUpdate(
            f"EV-{number}", number, UpdateKind.PICKED_UP, now + timedelta(minutes=1),
            courier=CourierInfo("张师傅", "138****5678"), waybill_no="SBX2611260009",
        )  # fmt: skip
        assert po.apply(picked, now, waiting=[]) and po.awaits_ops
        uow.pickup_orders.add(po)
        uow.commit()
    return left.return_id


def overtaken(w: Any, count: int) -> list[str]:
    """Company orders whose pickup overtook our cancel and left their returns to ops (as
    ``PickupOrder._cancel_overtaken`` leaves them; written straight to the orders, the
    path there is the carrier tests' to run), so the ops list is measured over rows."""
    numbers = [f"{_company_order(w)}-1" for _ in range(count)]
    svc = w.app.services
    with svc.uow() as uow:
        for number in numbers:
            po = uow.pickup_orders.get_for_update(number)
            po.needs_ops, po.needs_ops_at = list(po.return_ids), svc.clock.now()
            uow.pickup_orders.save(po)
        uow.commit()
    return numbers


def carrier_calls(w: Any) -> list[tuple[Any, ...]]:
    """(label, who, method, url, kwargs) of each courier-company and tracking path."""
    visit = _company_order(w)
    number = f"{visit}-1"
    body, headers = _callback(w, number)
    shown_id, _ = w.picked_up("buyer1")
    shown = w.client.get(f"/returns/{shown_id}", headers=w.login("buyer1")).json()
    receive_id, _ = w.picked_up("buyer1")
    receive = w.client.get(f"/returns/{receive_id}", headers=w.login("buyer1")).json()
    handover_id, handover_appt = w.picked_up("buyer1")
    handover = w.client.get(f"/returns/{handover_id}", headers=w.login("buyer1")).json()
    courier = COURIER_USER[handover_appt["courier_id"]]
    settled, settled_page = overtaken(w, 2)
    return [
        ("POST /carriers/{carrier_id}/callbacks", "", "POST", "/carriers/sbx/callbacks",
         {"content": body, "headers": headers}),
        ("GET /ops/carrier-orders/{out_order_no}", "ops1", "GET", f"/ops/carrier-orders/{number}"),
        ("GET /ops/carrier-exchanges", "ops1", "GET", "/ops/carrier-exchanges"),
        ("GET /ops/carrier-orders/overtaken", "ops1", "GET", "/ops/carrier-orders/overtaken"),
        ("page GET /console/overtaken", "ops1", "GET", "/console/overtaken", {}, True),
        ("POST /ops/carrier-orders/{out_order_no}/settle", "ops1", "POST",
         f"/ops/carrier-orders/{settled}/settle", {"json": {"note": "buyer called"}}),
        ("page POST /console/overtaken/{out_order_no}/settle", "ops1", "POST",
         f"/console/overtaken/{settled_page}/settle", {"data": {"note": "sent back"}}, True),
        ("GET /appointments/{appointment_id}/carrier", "buyer1", "GET",
         f"/appointments/{visit}/carrier"),
        ("GET /warehouse/waybills/{waybill_no}", "warehouse1", "GET",
         f"/warehouse/waybills/{shown['waybill_no']}"),
        ("POST /warehouse/waybills/{waybill_no}/receive", "warehouse1", "POST",
         f"/warehouse/waybills/{receive['waybill_no']}/receive"),
        ("GET /warehouse/returns/{return_id}/parcel", "warehouse1", "GET",
         f"/warehouse/returns/{shown_id}/parcel"),
        ("POST /courier/handover", courier, "POST", "/courier/handover",
         {"json": {"waybill_no": handover["waybill_no"]}}),
    ]  # fmt: skip
