"""No request path sends more SQL statements when there is more data around it (no N+1).

Every API path and page is called against a small world, then again, on fresh targets in
the same states, after the measured buyer got about ten times as many returns (27 → ~300, of
every product, with visits, evidence, drop-offs and their events), its courier three times
the day's visits and the review queue thirty times the returns, and other buyers theirs;
each call must send no more statements the second time. Runs on SQLite and PostgreSQL (the
``wired`` fixture). The booking paths (GET /returns/{id}/slots, POST /returns/{id}/pickup,
POST /appointments/{id}/reschedule and their pages) are the booking tests' to measure
(tests/integration/test_booking_*.py); here they only set things up.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from tests.statements import counting_statements  # type: ignore[import-not-found]

from doorstep.adapters.demo import demo_dataset
from doorstep.adapters.demo.data import COURIERS, HANGZHOU_XIHU, PILLOW
from doorstep.bootstrap import App
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.policy import RULE_DEFAULTS
from doorstep.entrypoints.api.schemas import AreaIn, TemplateIn
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.services import courier as courier_service

Login = Callable[[str], dict[str, str]]
# Returns opened between the two measurements; the first sees 27 of buyer1's.
GROWTH = {"buyer1": 240, "buyer2": 40, "buyer3": 40}
BUYER, OTHERS = "buyer1", ("buyer2", "buyer3")
COURIER_USER = {c.courier_id: f"courier{i}" for i, c in enumerate(COURIERS, 1)}
CHECKLIST = dict.fromkeys(courier_service.CHECKLIST, True)


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 40)).save(buf, "JPEG")
    return buf.getvalue()


@dataclass
class World:
    """Puts returns into the states the measured calls need, over HTTP and the services."""

    client: TestClient
    app: App
    login: Login
    serial: Iterator[int] = field(default_factory=itertools.count)

    browsers: dict[str, TestClient] = field(default_factory=dict)

    def browser(self, username: str) -> TestClient:
        """A signed-in page session of its own (cookies), on the same app."""
        if username not in self.browsers:
            b = TestClient(self.client.app, follow_redirects=False)
            b.get("/login")
            r = b.post(
                "/login",
                data={
                    "username": username,
                    "password": f"demo-{username}",
                    CSRF_FIELD: b.cookies[CSRF_COOKIE],
                },
            )
            assert r.status_code == 303, r.text
            self.browsers[username] = b
        return self.browsers[username]

    def actor(self, username: str) -> str:
        return str(self.client.get("/auth/me", headers=self.login(username)).json()["actor_id"])

    def address(self, username: str) -> dict[str, Any]:
        buyer_id = self.actor(username)  # over HTTP: not inside the unit of work below
        with self.app.services.uow() as uow:
            buyer = uow.buyers.get(buyer_id)
        assert buyer is not None
        return asdict(buyer.addresses[0])

    def orders(self, username: str, count: int, skus: tuple[str, ...] = (PILLOW,)) -> list[str]:
        """Fresh signed orders of one item each (SKUs in turn), written in one transaction."""
        buyer_id = self.actor(username)
        now = self.app.services.clock.now()
        ids = []
        with self.app.services.uow() as uow:
            buyer = uow.buyers.get(buyer_id)
            assert buyer is not None and buyer.addresses
            for i in range(count):
                order_id = f"NP{next(self.serial):06d}"
                uow.orders.put(
                    Order(
                        order_id,
                        buyer_id,
                        "shop-test",
                        Channel.DOMESTIC,
                        now - timedelta(days=3),
                        buyer.addresses[0],
                        (OrderLine("L1", skus[i % len(skus)], 1, 39_900),),
                        signed_at=now - timedelta(days=1),
                    )
                )
                ids.append(order_id)
            uow.commit()
        return ids

    def open(self, username: str, order_id: str, reason: str = "no_reason") -> str:
        return str(self.opened(username, order_id, reason)["return_id"])

    def opened(self, username: str, order_id: str, reason: str = "no_reason") -> dict[str, Any]:
        body = {
            "order_id": order_id,
            "lines": [{"order_line_id": "L1", "quantity": 1, "reason": reason}],
        }
        r = self.client.post("/returns", json=body, headers=self.login(username))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def approved(self, username: str) -> str:
        return self.open(username, self.orders(username, 1)[0])

    def book(self, username: str, return_id: str, nth: int = 0) -> dict[str, Any] | None:
        """Book the ``nth`` offered window (counting round); None when nothing is offered."""
        h = self.login(username)
        slots = self.client.get(f"/returns/{return_id}/slots", headers=h).json()["slots"]
        for slot in slots[nth % max(len(slots), 1) :] + slots:
            r = self.client.post(
                f"/returns/{return_id}/pickup",
                headers=h,
                json={k: slot[k] for k in ("carrier_id", "day", "start")},
            )
            if r.status_code == 201:
                return dict(r.json())
        return None

    def booked(self, username: str) -> tuple[str, dict[str, Any]]:
        return_id = self.approved(username)
        appt = self.book(username, return_id)
        assert appt is not None, "no window could be booked"
        return return_id, appt

    def courier(self, appt: dict[str, Any]) -> dict[str, str]:
        return self.login(COURIER_USER[appt["courier_id"]])

    def photo(self, headers: dict[str, str]) -> str:
        r = self.client.post(
            "/photos", headers=headers, files={"file": ("p.jpg", jpeg(), "image/jpeg")}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["photo_id"])

    def arrived(self, username: str) -> tuple[str, dict[str, Any]]:
        return_id, appt = self.booked(username)
        r = self.client.post(
            f"/courier/tasks/{appt['appointment_id']}/arrive", headers=self.courier(appt)
        )
        assert r.status_code == 200, r.text
        return return_id, appt

    def inspected(self, username: str) -> tuple[str, dict[str, Any]]:
        return_id, appt = self.arrived(username)
        courier = self.courier(appt)
        r = self.client.post(
            f"/courier/tasks/{appt['appointment_id']}/inspect",
            headers=courier,
            json={
                "return_id": return_id,
                "checklist": CHECKLIST,
                "photo_ids": [self.photo(courier)],
                "verified_weight_g": 800,
            },
        )
        assert r.status_code == 200, r.text
        return return_id, appt

    def picked_up(self, username: str) -> tuple[str, dict[str, Any]]:
        return_id, appt = self.inspected(username)
        r = self.client.post(
            f"/courier/tasks/{appt['appointment_id']}/pickup",
            headers=self.courier(appt),
            json={"pickup_code": appt["pickup_code"]},
        )
        assert r.status_code == 200, r.text
        return return_id, appt

    def received(self, username: str) -> str:
        return_id, _ = self.picked_up(username)
        r = self.client.post(
            f"/warehouse/returns/{return_id}/receive", headers=self.login("warehouse1")
        )
        assert r.status_code == 200, r.text
        return return_id

    def dropped_off(self, username: str) -> str:
        return_id = self.approved(username)
        r = self.client.post(
            f"/returns/{return_id}/self-send",
            headers=self.login(username),
            json={"method": "dropoff"},
        )
        assert r.status_code == 200, r.text
        return return_id


@dataclass(frozen=True)
class Call:
    """One measured request: ``label`` names the path, ``who`` signs it (a bearer token, or
    for ``page`` a browser session with the CSRF field added to forms)."""

    label: str
    who: str
    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    page: bool = False


def page(label: str, who: str, url: str, form: dict[str, Any] | None = None, **kw: Any) -> Call:
    """A page GET, or a form POST when ``form`` is given."""
    if form is None:
        return Call(label, who, "GET", url, kw, page=True)
    return Call(label, who, "POST", url, {"data": form, **kw}, page=True)


@dataclass(frozen=True)
class Targets:
    """Fresh returns and visits of the buyer, one for each write a path makes."""

    open_order: str
    precheck_order: str
    cancel_id: str
    selfsend_id: str
    join_id: str
    ship_id: str
    review_id: str
    unbook_id: str
    unbook_appt: dict[str, Any]
    arrive_appt: dict[str, Any]
    fail_appt: dict[str, Any]
    inspect_id: str
    inspect_appt: dict[str, Any]
    pickup_appt: dict[str, Any]
    receive_id: str
    grade_id: str


def targets(w: World, b: str) -> Targets:
    open_order, precheck_order = w.orders(b, 2)
    cancel_id, selfsend_id, join_id = (w.approved(b) for _ in range(3))
    ship_id = w.dropped_off(b)
    review_id = w.open(b, w.orders(b, 1)[0], reason="quality")
    unbook_id, unbook_appt = w.booked(b)
    _, arrive_appt = w.booked(b)
    _, fail_appt = w.booked(b)
    inspect_id, inspect_appt = w.arrived(b)
    _, pickup_appt = w.inspected(b)
    receive_id, _ = w.picked_up(b)
    return Targets(
        open_order,
        precheck_order,
        cancel_id,
        selfsend_id,
        join_id,
        ship_id,
        review_id,
        unbook_id,
        unbook_appt,
        arrive_appt,
        fail_appt,
        inspect_id,
        inspect_appt,
        pickup_appt,
        receive_id,
        w.received(b),
    )


def calls(w: World) -> list[Call]:
    """Fresh targets in every state a path needs, and the call of each path on them."""
    b = BUYER
    shown_id, shown_appt = w.picked_up(b)  # reads: a return with a visit, events, a refund
    _, host = w.booked(b)
    evidence_id = w.approved(b)
    t = targets(w, b)
    courier = COURIER_USER[shown_appt["courier_id"]]
    photo_id = w.photo(w.login(b))
    ops = w.login("ops1")
    disruption = {
        "kind": "rainstorm",
        "adcodes": [HANGZHOU_XIHU],
        "starts_at": (w.app.services.clock.now() + timedelta(days=2)).isoformat(),
        "ends_at": (w.app.services.clock.now() + timedelta(days=2, hours=2)).isoformat(),
        "capacity_pct": 50,
        "reason_en": "storm",
        "reason_zh": "暴雨",
    }
    lifted = w.client.post("/ops/disruptions", headers=ops, json=disruption)
    assert lifted.status_code == 201, lifted.text
    serial = next(w.serial)
    policy = w.client.get("/ops/policy", headers=w.login("ops1")).json()
    areas = w.client.get("/ops/areas", headers=w.login("ops1")).json()
    area = next(a for a in areas if a["adcode"] == host["address"]["adcode"])
    templates = w.client.get("/ops/templates", headers=w.login("ops1")).json()
    product_sku = f"KR-NP-{serial}"
    aid = "appointment_id"
    return [
        # reads
        Call("GET /auth/me", b, "GET", "/auth/me"),
        Call(
            "GET /precheck",
            b,
            "GET",
            "/precheck",
            {"params": {"sku": PILLOW, "adcode": area["adcode"], "order_id": t.precheck_order}},
        ),
        Call("GET /returns", b, "GET", "/returns"),
        Call("GET /returns/{id}", b, "GET", f"/returns/{shown_id}"),
        Call("GET /returns/{id}/timeline", b, "GET", f"/returns/{shown_id}/timeline"),
        Call("GET /returns/{id}/receipt", b, "GET", f"/returns/{shown_id}/receipt"),
        Call("GET /appointments/{id}", b, "GET", f"/appointments/{host[aid]}"),
        Call("GET /photos/{id}", b, "GET", f"/photos/{photo_id}"),
        Call("GET /courier/tasks", courier, "GET", "/courier/tasks"),
        Call("GET /ops/policy", "ops1", "GET", "/ops/policy"),
        Call("GET /ops/policy/{v}", "ops1", "GET", f"/ops/policy/{policy['version']}"),
        Call("GET /ops/areas", "ops1", "GET", "/ops/areas"),
        Call("GET /ops/templates", "ops1", "GET", "/ops/templates"),
        Call("GET /ops/reviews", "ops1", "GET", "/ops/reviews"),
        Call("GET /ops/returns/{id}", "ops1", "GET", f"/ops/returns/{shown_id}"),
        Call("GET /ops/returns/{id}/timeline", "ops1", "GET", f"/ops/returns/{shown_id}/timeline"),
        Call("GET /ops/disruptions", "ops1", "GET", "/ops/disruptions"),
        # writes
        Call(
            "POST /auth/token",
            "",
            "POST",
            "/auth/token",
            {"data": {"username": b, "password": f"demo-{b}"}},
        ),
        Call(
            "POST /returns",
            b,
            "POST",
            "/returns",
            {
                "json": {
                    "order_id": t.open_order,
                    "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
                }
            },
        ),
        Call(
            "POST /returns/{id}/evidence",
            b,
            "POST",
            f"/returns/{evidence_id}/evidence",
            {"json": {"text": "scratched on arrival"}},
        ),
        Call(
            "POST /returns/{id}/cancel", b, "POST", f"/returns/{t.cancel_id}/cancel", {"json": {}}
        ),
        Call(
            "POST /returns/{id}/self-send",
            b,
            "POST",
            f"/returns/{t.selfsend_id}/self-send",
            {"json": {"method": "self_ship"}},
        ),
        Call(
            "POST /returns/{id}/shipment",
            b,
            "POST",
            f"/returns/{t.ship_id}/shipment",
            {"json": {"waybill_no": f"YT{serial:010d}", "carrier_id": "yto"}},
        ),
        Call(
            "POST /returns/{id}/pickup/join",
            b,
            "POST",
            f"/returns/{t.join_id}/pickup/join",
            {"json": {aid: host[aid]}},
        ),
        Call(
            "POST /appointments/{id}/cancel",
            b,
            "POST",
            f"/appointments/{t.unbook_appt[aid]}/cancel",
        ),
        Call(
            "POST /courier/tasks/{id}/arrive",
            COURIER_USER[t.arrive_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.arrive_appt[aid]}/arrive",
        ),
        Call(
            "POST /courier/tasks/{id}/inspect",
            COURIER_USER[t.inspect_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.inspect_appt[aid]}/inspect",
            {
                "json": {
                    "return_id": t.inspect_id,
                    "checklist": CHECKLIST,
                    "photo_ids": [w.photo(w.courier(t.inspect_appt))],
                }
            },
        ),
        Call(
            "POST /courier/tasks/{id}/pickup",
            COURIER_USER[t.pickup_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.pickup_appt[aid]}/pickup",
            {"json": {"pickup_code": t.pickup_appt["pickup_code"]}},
        ),
        Call(
            "POST /courier/tasks/{id}/fail",
            COURIER_USER[t.fail_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.fail_appt[aid]}/fail",
            {"json": {"reason": "buyer_unreachable"}},
        ),
        Call(
            "POST /warehouse/returns/{id}/receive",
            "warehouse1",
            "POST",
            f"/warehouse/returns/{t.receive_id}/receive",
        ),
        Call(
            "POST /warehouse/returns/{id}/grade",
            "warehouse1",
            "POST",
            f"/warehouse/returns/{t.grade_id}/grade",
            {"json": {"grade": "A"}},
        ),
        Call(
            "POST /ops/reviews/{id}",
            "ops1",
            "POST",
            f"/ops/reviews/{t.review_id}",
            {"json": {"approve": True, "note": "photos fine"}},
        ),
        Call(
            "POST /ops/policy",
            "ops1",
            "POST",
            "/ops/policy",
            {"json": {"rules": policy["rules"], "note": f"same rules {serial}"}},
        ),
        Call(
            "PUT /ops/areas/{adcode}",
            "ops1",
            "PUT",
            f"/ops/areas/{area['adcode']}",
            {"json": {k: v for k, v in area.items() if k in AreaIn.model_fields}},
        ),
        Call(
            "PUT /ops/templates/{id}",
            "ops1",
            "PUT",
            f"/ops/templates/{templates[0]['template_id']}",
            {"json": {k: v for k, v in templates[0].items() if k in TemplateIn.model_fields}},
        ),
        Call(
            "POST /partner/products",
            "partner1",
            "POST",
            "/partner/products",
            {
                "json": {
                    "products": [
                        {
                            "sku": product_sku,
                            "name_zh": "面霜",
                            "name_en": "Face cream",
                            "category": "cosmetics",
                            "weight_g": 120,
                            "dimensions": {"length_mm": 60, "width_mm": 60, "height_mm": 50},
                            "shop_id": "shop-kr-beauty",
                        }
                    ]
                }
            },
        ),
        Call(
            "POST /partner/orders",
            "partner1",
            "POST",
            "/partner/orders",
            {
                "json": {
                    "orders": [
                        {
                            "order_id": f"KR-NP-{serial}",
                            "buyer_id": w.actor(b),
                            "shop_id": "shop-kr-beauty",
                            "channel": "domestic",
                            "placed_at": "2026-11-20T10:00:00+08:00",
                            "shipping_address": w.address(b),
                            "lines": [
                                {
                                    "line_id": "L1",
                                    "sku": product_sku,
                                    "quantity": 1,
                                    "unit_price_fen": 12_000,
                                }
                            ],
                        }
                    ]
                }
            },
        ),
        Call("POST /photos", b, "POST", "/photos", {"files": {"file": ("x.jpg", jpeg())}}),
        Call("POST /ops/disruptions", "ops1", "POST", "/ops/disruptions", {"json": disruption}),
        Call(
            "POST /ops/disruptions/{id}/lift",
            "ops1",
            "POST",
            f"/ops/disruptions/{lifted.json()['disruption']['disruption_id']}/lift",
        ),
        *page_calls(w, shown_id, shown_appt, host, area["adcode"]),
    ]


def page_calls(
    w: World, shown_id: str, shown_appt: dict[str, Any], host: dict[str, Any], adcode: str
) -> list[Call]:
    """The pages (entrypoints/web) on their own fresh targets; booking pages excepted."""
    b = BUYER
    courier = COURIER_USER[shown_appt["courier_id"]]
    t = targets(w, b)
    aid = "appointment_id"
    visit = "/courier/visits"
    return [
        page("page /", b, "/"),
        page(
            "page /portal/precheck",
            b,
            "/portal/precheck",
            params={"sku": PILLOW, "adcode": adcode, "order_id": t.precheck_order},
        ),
        page(
            "page /portal/returns/new",
            b,
            "/portal/returns/new",
            params={"order_id": t.open_order, "line_id": "L1"},
        ),
        page("page /portal/returns/{id}", b, f"/portal/returns/{shown_id}"),
        page("page /courier", courier, "/courier"),
        page("page /warehouse", "warehouse1", "/warehouse", params={"return_id": shown_id}),
        page("page /console", "ops1", "/console"),
        page("page /console/policy", "ops1", "/console/policy"),
        page("page /console/areas", "ops1", "/console/areas"),
        page("page /console/dashboard", "ops1", "/console/dashboard"),
        page("page /partner", "partner1", "/partner"),
        page(
            "form /portal/returns",
            b,
            "/portal/returns",
            {"order_id": t.open_order, "line_id": "L1", "reason": "no_reason"},
        ),
        page("form /portal/returns/{id}/cancel", b, f"/portal/returns/{t.cancel_id}/cancel", {}),
        page(
            "form /portal/returns/{id}/self-send",
            b,
            f"/portal/returns/{t.selfsend_id}/self-send",
            {"method": "self_ship"},
        ),
        page(
            "form /portal/returns/{id}/shipment",
            b,
            f"/portal/returns/{t.ship_id}/shipment",
            {"waybill_no": f"SF{next(w.serial):010d}", "carrier_id": "sf"},
        ),
        page(
            "form /portal/returns/{id}/join",
            b,
            f"/portal/returns/{t.join_id}/join",
            {aid: host[aid]},
        ),
        page(
            "form /portal/returns/{id}/cancel-pickup",
            b,
            f"/portal/returns/{t.unbook_id}/cancel-pickup",
            {},
        ),
        page(
            "form /courier/visits/{id}/arrive",
            COURIER_USER[t.arrive_appt["courier_id"]],
            f"{visit}/{t.arrive_appt[aid]}/arrive",
            {},
        ),
        page(
            "form /courier/visits/{id}/inspect",
            COURIER_USER[t.inspect_appt["courier_id"]],
            f"{visit}/{t.inspect_appt[aid]}/inspect",
            {"return_id": t.inspect_id, "weight_g": "800", **dict.fromkeys(CHECKLIST, "on")},
            files={"photo": ("door.jpg", jpeg(), "image/jpeg")},
        ),
        page(
            "form /courier/visits/{id}/pickup",
            COURIER_USER[t.pickup_appt["courier_id"]],
            f"{visit}/{t.pickup_appt[aid]}/pickup",
            {"pickup_code": t.pickup_appt["pickup_code"]},
        ),
        page(
            "form /courier/visits/{id}/fail",
            COURIER_USER[t.fail_appt["courier_id"]],
            f"{visit}/{t.fail_appt[aid]}/fail",
            {"reason": "buyer_unreachable"},
        ),
        page(
            "form /warehouse/parcels/{id}/receive",
            "warehouse1",
            f"/warehouse/parcels/{t.receive_id}/receive",
            {},
        ),
        page(
            "form /warehouse/parcels/{id}/grade",
            "warehouse1",
            f"/warehouse/parcels/{t.grade_id}/grade",
            {"grade": "A"},
        ),
        page(
            "form /console/reviews/{id}",
            "ops1",
            f"/console/reviews/{t.review_id}",
            {"decision": "approve", "note": "ok"},
        ),
        page(
            "form /console/policy",
            "ops1",
            "/console/policy",
            {**{f"on:{code}": "on" for code in RULE_DEFAULTS}, "note": "unchanged"},
        ),
    ]


def prepared(w: World, call: Call) -> Callable[[], Any]:
    """The request, ready to send: signing in happens here, outside the count."""
    if call.page:
        browser = w.browser(call.who)
        kwargs = dict(call.kwargs)
        if call.method == "POST":
            kwargs["data"] = {**kwargs["data"], CSRF_FIELD: browser.cookies[CSRF_COOKIE]}
        return lambda: browser.request(call.method, call.url, **kwargs)
    headers = w.login(call.who) if call.who else {}
    return lambda: w.client.request(call.method, call.url, headers=headers, **call.kwargs)


def measure(w: World, todo: list[Call]) -> tuple[dict[str, int], dict[str, int]]:
    """Statements per call, and the length of each list a call answered with."""
    counts, sizes = {}, {}
    for call in todo:
        send = prepared(w, call)
        with counting_statements(w.app.engine) as statements:
            r = send()
        assert r.status_code < 400, (call.label, r.status_code, r.text[:500])
        counts[call.label] = len(statements)

        if r.headers.get("content-type") == "application/json":
            body = r.json()
            if isinstance(body, list):
                sizes[call.label] = len(body)
    return counts, sizes


def grow(w: World, returns: dict[str, int]) -> None:
    """Many more returns, of every product and in every state, for the measured buyer (and so
    its courier) and for other buyers: visits, evidence, drop-offs, reviews and their events."""
    skus = tuple(p.sku for p in demo_dataset(w.app.services.clock.now()).products)
    for username, count in returns.items():
        h = w.login(username)
        for i, order_id in enumerate(w.orders(username, count, skus)):
            ret = w.opened(username, order_id, reason="quality" if i % 5 == 4 else "no_reason")
            if ret["status"] != "approved":
                continue
            return_id = ret["return_id"]
            w.client.post(f"/returns/{return_id}/evidence", headers=h, json={"text": f"n{i}"})
            if i % 5 == 3:
                w.client.post(
                    f"/returns/{return_id}/self-send", headers=h, json={"method": "dropoff"}
                )
            elif i % 5 < 2:
                w.book(username, return_id, nth=i)


@pytest.mark.slow
def test_no_request_sends_more_statements_with_more_data(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    small, small_sizes = measure(w, calls(w))
    grow(w, GROWTH)
    large, large_sizes = measure(w, calls(w))
    # The second world really is larger where it matters: the buyer's returns, the courier's
    # day, the review queue.
    for label in ("GET /returns", "GET /courier/tasks", "GET /ops/reviews"):
        assert large_sizes[label] > small_sizes[label], (label, small_sizes, large_sizes)
    grown = {k: (small[k], large[k]) for k in small if large[k] > small[k]}

    assert not grown, f"statements per path (small data, more data): {grown}"
