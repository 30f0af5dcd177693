"""No request path sends more SQL statements when there is more data around it (no N+1).

Every route the app serves (API paths, pages, and those outside the published spec: /metrics,
/docs, /openapi.json, the favicon, the static files) is called against a small world, then
again, on fresh targets in the same states, after the measured buyer got about ten times as
many returns (27 → ~300, of every product, with visits, evidence, drop-offs and their events),
its courier three times the day's visits and the review queue thirty times the returns, and
other buyers theirs; each call must send no more statements the second time, and each list it
answers with (JSON, or the items of a listing page) must have grown. Runs on SQLite and
PostgreSQL (the ``wired`` fixture). The booking paths (GET /returns/{id}/slots, POST
/returns/{id}/pickup, POST /appointments/{id}/reschedule and their pages) are the booking
tests' to measure (tests/e2e/test_booking_statements.py); here they only set things up.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from PIL import Image
from starlette.routing import BaseRoute, Mount
from tests.e2e.after_sales_calls import after_sales_calls  # type: ignore[import-not-found]
from tests.e2e.carrier_calls import (  # type: ignore[import-not-found]
    carrier_calls,
    connect_company,
    overtaken,
)
from tests.e2e.station_calls import station_calls  # type: ignore[import-not-found]
from tests.statements import counting_statements  # type: ignore[import-not-found]

import doorstep.entrypoints.web as web_package
from doorstep.adapters.demo import demo_dataset
from doorstep.adapters.demo.data import COURIERS, HANGZHOU_XIHU, PILLOW
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.coverage import Window
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.outbox import Delivery, DeliveryStatus, event_id
from doorstep.domain.pickup import SlotRef
from doorstep.domain.policy import RULE_DEFAULTS
from doorstep.entrypoints.api.schemas import AreaIn, TemplateIn
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.services import catalog, identity, outbox
from doorstep.services import courier as courier_service

Login = Callable[[str], dict[str, str]]
# Returns opened between the two measurements; the first sees 27 of buyer1's.
GROWTH = {"buyer1": 240, "buyer2": 40, "buyer3": 40}
BUYER, OTHERS = "buyer1", ("buyer2", "buyer3")
# tests/e2e/test_booking_statements.py counts these on an empty and a busy day.
BOOKING = {
    "GET /returns/{return_id}/slots",
    "POST /returns/{return_id}/pickup",
    "POST /appointments/{appointment_id}/reschedule",
}
BOOKING_PAGES = {
    "page GET /portal/returns/{return_id}/slots",
    "page POST /portal/returns/{return_id}/book",
}
# Served without the database: a statement here would be sent on every request.
NO_DATABASE = {
    "GET /healthz",
    "GET /metrics",
    "GET /docs",
    "GET /docs/oauth2-redirect",
    "GET /openapi.json",
    "GET /docs-assets/{path}",
    "GET /static/{path}",
    "page GET /favicon.ico",
}
# Lists as long in the grown world as in the small one: reference data the seed fixes, one
# return's events and receipt items, one waybill's parcel. Every other list a call answers must
# have grown, or its flat statement count proves nothing.
FLAT_LISTS = {
    "GET /ops/areas",
    "GET /ops/templates",
    "GET /ops/carriers",
    "GET /stations",
    "GET /waybill-formats",
    "GET /exchanges/options",
    "GET /returns/{return_id}/timeline",
    "GET /ops/returns/{return_id}/timeline",
    "GET /returns/{return_id}/receipt",
    "GET /receipts/verify",
    "GET /warehouse/waybills/{waybill_no}",
    "POST /warehouse/waybills/{waybill_no}/receive",
    "POST /courier/handover",
}
# One item of each page that lists what grows, counted in the HTML as a JSON list's length is.
_ROW = r"(?<!<thead>)<tr\b"  # a table row outside the header
PAGE_ITEMS = {
    "page GET /console": r'<section class="card review"',
    "page GET /console/claims": r'<section class="card claim"',
    "page GET /console/disputes": r'<section class="card dispute"',
    "page GET /console/contactless": r'data-testid="dispute"',
    "page GET /console/customs": _ROW,
    "page GET /console/transfers": _ROW,
    "page GET /console/outbox": _ROW,
    "page GET /console/areas/over-capacity": _ROW,
    "page GET /console/overtaken": _ROW,
    "page GET /portal/claims": r'<section class="card claim"',
    "page GET /courier": r'class="visit card|<li><a href="/courier/visits/',  # next, later
}
COURIER_USER = {c.courier_id: f"courier{i}" for i, c in enumerate(COURIERS, 1)}
CHECKLIST = dict.fromkeys(courier_service.CHECKLIST, True)
MORE_CHECKS = ("seal_intact", "serial_matches", "tags_attached")


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

    def browser(self, username: str, key: str = "") -> TestClient:
        """A page session of its own (cookies) on the same app, signed in as ``username``
        (kept under ``key``, the username by default); no username: a guest."""
        key = key or username
        if key not in self.browsers:
            b = TestClient(self.client.app, follow_redirects=False)
            b.get("/login")
            if username:
                r = b.post(
                    "/login",
                    data={
                        "username": username,
                        "password": f"demo-{username}",
                        CSRF_FIELD: b.cookies[CSRF_COOKIE],
                    },
                )
                assert r.status_code == 303, r.text
            self.browsers[key] = b
        return self.browsers[key]

    def account(self) -> tuple[str, dict[str, str]]:
        """A new buyer account (the services add it) and a bearer token of its own."""
        username, password = f"tmp{next(self.serial)}", "temporary-pass-1"
        identity.add_user(self.app.services, f"U-{username}", username, password, "buyer", "b-x")
        r = self.client.post("/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return username, {"Authorization": f"Bearer {r.json()['access_token']}"}

    def leaving_buyer(self) -> str:
        """A buyer of their own (one account, buyer1's address) with a booked visit and a
        return still choosing how to send it: what deleting the account cancels."""
        n = next(self.serial)
        username, buyer_id = f"leaver{n}", f"b-leave-{n}"
        model_id = self.actor(BUYER)
        with self.app.services.uow() as uow:
            model = uow.buyers.get(model_id)
        assert model is not None
        catalog.upsert_buyers(self.app.services, [replace(model, buyer_id=buyer_id)])
        identity.add_user(
            self.app.services, f"U-{username}", username, f"demo-{username}", "buyer", buyer_id
        )
        self.booked(username)
        self.approved(username)
        return username

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
        """Book the ``nth`` offered window in time order (counting round; the offer lists
        the cheapest first), so that the first is today's when today has one (the courier's
        page shows today's visits); None when nothing is offered."""
        h = self.login(username)
        slots = self.client.get(f"/returns/{return_id}/slots", headers=h).json()["slots"]
        slots.sort(key=lambda s: (s["day"], s["start"]))
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

    def checklist(self, appt: dict[str, Any], return_id: str) -> dict[str, bool]:
        """Every check the return's items ask for at the door, ticked."""
        r = self.client.get(
            f"/courier/tasks/{appt['appointment_id']}/checklists", headers=self.courier(appt)
        )
        assert r.status_code == 200, r.text
        lines = [ln for ln in r.json()["lines"] if ln["return_id"] == return_id]
        return {c["key"]: True for ln in lines for c in ln["checks"]}

    def receipt(self, return_id: str) -> dict[str, Any]:
        r = self.client.get(f"/returns/{return_id}/receipt", headers=self.login(BUYER))
        assert r.status_code == 200, r.text
        return dict(r.json())

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
                "checklist": self.checklist(appt, return_id),
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

    def left_in_locker(self, username: str, *, disputed: bool = False) -> str:
        """A contactless pickup collected from a locker, its review open (or disputed)."""
        return_id = self.approved(username)
        h = self.login(username)
        slot = self.client.get(f"/returns/{return_id}/slots", headers=h).json()["slots"][0]
        r = self.client.post(
            f"/returns/{return_id}/pickup",
            headers=h,
            json={**{k: slot[k] for k in ("carrier_id", "day", "start")}, "handover": "locker"},
        )
        assert r.status_code == 201, r.text
        appt = r.json()
        aid, courier = appt["appointment_id"], self.courier(appt)
        assert self.client.post(f"/courier/tasks/{aid}/arrive", headers=courier).status_code == 200
        r = self.client.post(
            f"/courier/tasks/{aid}/inspect",
            headers=courier,
            json={
                "return_id": return_id,
                "photo_ids": [self.photo(courier)],
                "verified_weight_g": 800,
            },
        )
        assert r.status_code == 200, r.text
        r = self.client.post(f"/courier/tasks/{aid}/pickup", headers=courier, json={})
        assert r.status_code == 200, r.text
        if disputed:
            r = self.client.post(
                f"/appointments/{aid}/contactless/dispute", headers=h, json={"text": "not mine"}
            )
            assert r.status_code == 200, r.text
        return str(aid)

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


def page(route: str, who: str, url: str, form: dict[str, Any] | None = None, **kw: Any) -> Call:
    """A page GET of ``route``, or a form POST when ``form`` is given."""
    if form is None:
        return Call(f"page GET {route}", who, "GET", url, kw, page=True)
    return Call(f"page POST {route}", who, "POST", url, {"data": form, **kw}, page=True)


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
    _, changer = w.account()
    _, leaver = w.account()
    disabled, _ = w.account()
    deleted = w.leaving_buyer()
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
        Call("GET /healthz", "", "GET", "/healthz"),
        Call("GET /readyz", "", "GET", "/readyz"),
        Call("GET /metrics", "", "GET", "/metrics"),
        Call("GET /docs", "", "GET", "/docs"),
        Call("GET /docs/oauth2-redirect", "", "GET", "/docs/oauth2-redirect"),
        Call("GET /openapi.json", "", "GET", "/openapi.json"),
        Call("GET /docs-assets/{path}", "", "GET", "/docs-assets/swagger-ui.css"),
        Call("GET /static/{path}", "", "GET", "/static/web.css"),
        page("/favicon.ico", "", "/favicon.ico"),
        Call("GET /auth/me", b, "GET", "/auth/me"),
        Call(
            "GET /precheck",
            b,
            "GET",
            "/precheck",
            {"params": {"sku": PILLOW, "adcode": area["adcode"], "order_id": t.precheck_order}},
        ),
        Call("GET /returns", b, "GET", "/returns"),
        Call("GET /returns/{return_id}", b, "GET", f"/returns/{shown_id}"),
        Call("GET /returns/{return_id}/timeline", b, "GET", f"/returns/{shown_id}/timeline"),
        Call("GET /returns/{return_id}/receipt", b, "GET", f"/returns/{shown_id}/receipt"),
        Call("GET /ops/contactless/disputes", "ops1", "GET", "/ops/contactless/disputes"),
        Call(
            "POST /appointments/{appointment_id}/contactless/confirm",
            b,
            "POST",
            f"/appointments/{w.left_in_locker(b)}/contactless/confirm",
        ),
        Call(
            "POST /appointments/{appointment_id}/contactless/dispute",
            b,
            "POST",
            f"/appointments/{w.left_in_locker(b)}/contactless/dispute",
            {"json": {"text": "the weight is wrong", "photo_ids": [w.photo(w.login(b))]}},
        ),
        Call(
            "POST /ops/contactless/{appointment_id}/resolve",
            "ops1",
            "POST",
            f"/ops/contactless/{w.left_in_locker(b, disputed=True)}/resolve",
            {"json": {"outcome": "buyer_upheld", "note": "scale unreadable"}},
        ),
        Call(
            "GET /receipts/verify",
            "",
            "GET",
            "/receipts/verify",
            {"params": {"t": w.receipt(shown_id)["token"]}},
        ),
        Call("GET /appointments/{appointment_id}", b, "GET", f"/appointments/{host[aid]}"),
        Call("GET /photos/{photo_id}", b, "GET", f"/photos/{photo_id}"),
        Call("GET /courier/tasks", courier, "GET", "/courier/tasks"),
        Call("GET /ops/policy", "ops1", "GET", "/ops/policy"),
        Call("GET /ops/policy/{version}", "ops1", "GET", f"/ops/policy/{policy['version']}"),
        Call("GET /ops/areas", "ops1", "GET", "/ops/areas"),
        Call("GET /ops/templates", "ops1", "GET", "/ops/templates"),
        Call("GET /ops/carriers", "ops1", "GET", "/ops/carriers"),
        Call("GET /ops/reviews", "ops1", "GET", "/ops/reviews"),
        Call("GET /ops/returns/{return_id}", "ops1", "GET", f"/ops/returns/{shown_id}"),
        Call(
            "GET /ops/returns/{return_id}/timeline",
            "ops1",
            "GET",
            f"/ops/returns/{shown_id}/timeline",
        ),
        Call("GET /ops/disruptions", "ops1", "GET", "/ops/disruptions"),
        Call("GET /ops/refunds/overdue", "ops1", "GET", "/ops/refunds/overdue"),
        Call("GET /ops/retention", "ops1", "GET", "/ops/retention"),
        # Every district's seven coming days: the return wave's grouped reads over all orders.
        Call("GET /ops/outlook", "ops1", "GET", "/ops/outlook", {"params": {"days": 7}}),
        Call("GET /ops/windows/over-capacity", "ops1", "GET", "/ops/windows/over-capacity"),
        # Here, not with the other pages: the capacity edits below give every counter its
        # template's figure again, and so leave the page nothing to list.
        page("/console/areas/over-capacity", "ops1", "/console/areas/over-capacity"),
        Call("GET /ops/deliveries", "ops1", "GET", "/ops/deliveries"),
        Call("GET /ops/messages", "ops1", "GET", "/ops/messages"),
        Call(
            "PUT /me/notifications",
            b,
            "PUT",
            "/me/notifications",
            {"json": {"lang": "en", "email": "lin@example.com"}},
        ),
        Call(
            "POST /ops/deliveries/redrive",
            "ops1",
            "POST",
            "/ops/deliveries/redrive",
            {"json": dead_letter(w)},
        ),
        # writes
        Call(
            "POST /auth/token",
            "",
            "POST",
            "/auth/token",
            {"data": {"username": b, "password": f"demo-{b}"}},
        ),
        Call(
            "POST /returns/quote",
            b,
            "POST",
            "/returns/quote",
            {
                "json": {
                    "order_id": t.precheck_order,
                    "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "quality"}],
                }
            },
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
            "POST /returns/{return_id}/evidence",
            b,
            "POST",
            f"/returns/{evidence_id}/evidence",
            {"json": {"text": "scratched on arrival"}},
        ),
        Call(
            "POST /returns/{return_id}/cancel",
            b,
            "POST",
            f"/returns/{t.cancel_id}/cancel",
            {"json": {}},
        ),
        Call(
            "POST /returns/{return_id}/self-send",
            b,
            "POST",
            f"/returns/{t.selfsend_id}/self-send",
            {"json": {"method": "self_ship"}},
        ),
        Call(
            "POST /returns/{return_id}/shipment",
            b,
            "POST",
            f"/returns/{t.ship_id}/shipment",
            {"json": {"waybill_no": f"YT{serial:013d}", "carrier_id": "yto"}},
        ),
        Call(
            "POST /returns/{return_id}/pickup/join",
            b,
            "POST",
            f"/returns/{t.join_id}/pickup/join",
            {"json": {aid: host[aid]}},
        ),
        Call(
            "POST /appointments/{appointment_id}/cancel",
            b,
            "POST",
            f"/appointments/{t.unbook_appt[aid]}/cancel",
        ),
        Call(
            "POST /courier/tasks/{appointment_id}/arrive",
            COURIER_USER[t.arrive_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.arrive_appt[aid]}/arrive",
        ),
        Call(
            "POST /courier/tasks/{appointment_id}/inspect",
            COURIER_USER[t.inspect_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.inspect_appt[aid]}/inspect",
            {
                "json": {
                    "return_id": t.inspect_id,
                    "checklist": w.checklist(t.inspect_appt, t.inspect_id),
                    "photo_ids": [w.photo(w.courier(t.inspect_appt))],
                }
            },
        ),
        Call(
            "GET /courier/tasks/{appointment_id}/checklists",
            COURIER_USER[t.inspect_appt["courier_id"]],
            "GET",
            f"/courier/tasks/{t.inspect_appt[aid]}/checklists",
        ),
        Call(
            "POST /courier/tasks/{appointment_id}/pickup",
            COURIER_USER[t.pickup_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.pickup_appt[aid]}/pickup",
            {"json": {"pickup_code": t.pickup_appt["pickup_code"]}},
        ),
        Call(
            "POST /courier/tasks/{appointment_id}/fail",
            COURIER_USER[t.fail_appt["courier_id"]],
            "POST",
            f"/courier/tasks/{t.fail_appt[aid]}/fail",
            {"json": {"reason": "buyer_unreachable"}},
        ),
        Call(
            "POST /warehouse/returns/{return_id}/receive",
            "warehouse1",
            "POST",
            f"/warehouse/returns/{t.receive_id}/receive",
        ),
        Call(
            "POST /warehouse/returns/{return_id}/grade",
            "warehouse1",
            "POST",
            f"/warehouse/returns/{t.grade_id}/grade",
            {"json": {"grade": "A"}},
        ),
        Call(
            "POST /ops/reviews/{return_id}",
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
            "PUT /ops/templates/{template_id}",
            "ops1",
            "PUT",
            f"/ops/templates/{templates[0]['template_id']}",
            {"json": {k: v for k, v in templates[0].items() if k in TemplateIn.model_fields}},
        ),
        Call(
            "POST /ops/windows/{adcode}/{carrier_id}/{day}/{start}/rebalance",
            "ops1",
            "POST",
            f"/ops/windows/310104/yto/{over_day(w)}/09:00/rebalance",
        ),
        Call(
            "PUT /ops/carriers/{carrier_id}",
            "ops1",
            "PUT",
            "/ops/carriers/yto",
            {
                "json": {
                    "carrier_id": "yto",
                    "name_zh": "圆通速递",
                    "name_en": "YTO Express",
                    "waybill_prefix": "YT",
                    "template_id": "generic-2h",
                }
            },
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
            "POST /auth/password",
            "",
            "POST",
            "/auth/password",
            {
                "headers": changer,
                "json": {"current_password": "temporary-pass-1", "new_password": "another-pass-2"},
            },
        ),
        Call("POST /auth/logout", "", "POST", "/auth/logout", {"headers": leaver}),
        Call(
            "POST /ops/users/{username}/{action}",
            "ops1",
            "POST",
            f"/ops/users/{disabled}/disable",
        ),
        Call("DELETE /ops/users/{username}", "ops1", "DELETE", f"/ops/users/{deleted}"),
        Call(
            "POST /ops/disruptions/{disruption_id}/lift",
            "ops1",
            "POST",
            f"/ops/disruptions/{lifted.json()['disruption']['disruption_id']}/lift",
        ),
        *page_calls(w, shown_id, shown_appt, host, area["adcode"]),
        *after_sales_calls(w, Call, page, b),  # issue 9 §6-8
        *station_calls(w, page, b),  # the station desk
        *_money_calls(w),
        *_transfer_calls(w),
    ]


def _money_calls(w: World) -> list[Call]:
    # Imported here: money_calls builds on this module's World and Call.
    from tests.e2e.money_calls import money_calls  # type: ignore[import-not-found]

    return list(money_calls(w))


def _transfer_calls(w: World) -> list[Call]:
    # Imported here, like money_calls: transfer_calls builds on World and Call.
    from tests.e2e.transfer_calls import transfer_calls  # type: ignore[import-not-found]

    return transfer_calls(w)


def page_calls(
    w: World, shown_id: str, shown_appt: dict[str, Any], host: dict[str, Any], adcode: str
) -> list[Call]:
    """The pages (entrypoints/web) on their own fresh targets; booking pages excepted."""
    b = BUYER
    # The capacity forms post what is stored: the edits move the counters and change nothing.
    template = w.client.get("/ops/templates", headers=w.login("ops1")).json()[0]
    area = next(
        a
        for a in w.client.get("/ops/areas", headers=w.login("ops1")).json()
        if a["adcode"] == adcode
    )
    courier = COURIER_USER[shown_appt["courier_id"]]
    t = targets(w, b)
    aid = "appointment_id"
    visit = "/courier/visits"
    guest, leaver = f"guest{next(w.serial)}", f"leaver{next(w.serial)}"
    w.browser("", key=guest)
    w.browser(OTHERS[0], key=leaver)
    return [
        page("/", b, "/"),
        page(
            "/portal/precheck",
            b,
            "/portal/precheck",
            params={"sku": PILLOW, "adcode": adcode, "order_id": t.precheck_order},
        ),
        page(
            "/portal/returns/new",
            b,
            "/portal/returns/new",
            params={"order_id": t.open_order, "line_id": "L1"},
        ),
        page("/portal/returns/{return_id}", b, f"/portal/returns/{shown_id}"),
        page("/portal/returns/{return_id}/receipt", b, f"/portal/returns/{shown_id}/receipt"),
        page(
            "/portal/returns/{return_id}/door-photos/{photo_id}",
            b,
            f"/portal/returns/{shown_id}/door-photos/{w.receipt(shown_id)['photo_ids'][0]}",
        ),
        page(
            "/portal/appointments/{appointment_id}/contactless/confirm",
            b,
            f"/portal/appointments/{w.left_in_locker(b)}/contactless/confirm",
            {},
        ),
        page(
            "/portal/appointments/{appointment_id}/contactless/dispute",
            b,
            f"/portal/appointments/{w.left_in_locker(b)}/contactless/dispute",
            {"text": "the weight is wrong"},
            files={"photo": ("mine.jpg", jpeg(), "image/jpeg")},
        ),
        page("/console/contactless", "ops1", "/console/contactless"),
        page(
            "/console/contactless/{appointment_id}/resolve",
            "ops1",
            f"/console/contactless/{w.left_in_locker(b, disputed=True)}/resolve",
            {"outcome": "courier_upheld", "note": "label visible"},
        ),
        page("/console/photos/{photo_id}", "ops1", f"/console/photos/{w.photo(w.login(b))}"),
        page(
            "/receipt/verify", guest, "/receipt/verify", params={"t": w.receipt(shown_id)["token"]}
        ),
        page("/courier", courier, "/courier"),
        page("/courier/visits/{appointment_id}", courier, f"{visit}/{shown_appt[aid]}"),
        page("/warehouse", "warehouse1", "/warehouse", params={"return_id": shown_id}),
        page(
            "/warehouse/photos/{photo_id}",
            "warehouse1",
            f"/warehouse/photos/{w.photo(w.login('warehouse1'))}",
        ),
        page("/console", "ops1", "/console"),
        page("/console/policy", "ops1", "/console/policy"),
        page("/console/areas", "ops1", "/console/areas"),
        page("/console/dashboard", "ops1", "/console/dashboard"),
        # Each time series reads something else: every one is measured.
        *(
            replace(
                page(
                    "/console/dashboard/trends/{name}.svg",
                    "ops1",
                    f"/console/dashboard/trends/{name}.svg",
                ),
                **({"label": f"page GET /console/dashboard/trends/{name}.svg"} if i else {}),
            )
            for i, name in enumerate(("returns", "on-time", "refund-time", "km"))
        ),
        page(
            "/console/areas/over-capacity/rebalance",
            "ops1",
            "/console/areas/over-capacity/rebalance",
            {"adcode": "310104", "carrier_id": "yto", "day": over_day(w), "start": "09:00"},
        ),
        page(
            "/console/templates/{template_id}",
            "ops1",
            f"/console/templates/{template['template_id']}",
            {
                "capacity": str(template["capacity"]),
                "holiday_capacity_pct": str(template["holiday_capacity_pct"]),
            },
        ),
        page(
            "/console/areas/{adcode}/capacity",
            "ops1",
            f"/console/areas/{area['adcode']}/capacity",
            {"capacity_override": str(area["capacity_override"] or "")},
        ),
        page(
            "/console/carriers/{carrier_id}",
            "ops1",
            "/console/carriers/yto",
            {"template_id": "generic-2h"},
        ),
        page("/console/outbox", "ops1", "/console/outbox"),
        page("/console/outbox/redrive", "ops1", "/console/outbox/redrive", dead_form(w)),
        page("/partner", "partner1", "/partner"),
        page("/login", b, "/login"),
        page("/lang", b, "/lang", params={"to": "en", "next": "/"}),
        page(
            "/portal/returns/quote",
            b,
            "/portal/returns/quote",
            {"order_id": t.precheck_order, "line_id": "L1", "reason": "no_reason"},
        ),
        page(
            "/portal/returns",
            b,
            "/portal/returns",
            {"order_id": t.open_order, "line_id": "L1", "reason": "no_reason"},
        ),
        page("/portal/returns/{return_id}/cancel", b, f"/portal/returns/{t.cancel_id}/cancel", {}),
        page(
            "/portal/returns/{return_id}/self-send",
            b,
            f"/portal/returns/{t.selfsend_id}/self-send",
            {"method": "self_ship"},
        ),
        page(
            "/portal/returns/{return_id}/shipment",
            b,
            f"/portal/returns/{t.ship_id}/shipment",
            {"waybill_no": f"SF{next(w.serial):013d}", "carrier_id": "sf"},
        ),
        page(
            "/portal/returns/{return_id}/join",
            b,
            f"/portal/returns/{t.join_id}/join",
            {aid: host[aid]},
        ),
        page(
            "/portal/returns/{return_id}/cancel-pickup",
            b,
            f"/portal/returns/{t.unbook_id}/cancel-pickup",
            {},
        ),
        page(
            "/courier/visits/{appointment_id}/arrive",
            COURIER_USER[t.arrive_appt["courier_id"]],
            f"{visit}/{t.arrive_appt[aid]}/arrive",
            {},
        ),
        page(
            "/courier/visits/{appointment_id}/inspect",
            COURIER_USER[t.inspect_appt["courier_id"]],
            f"{visit}/{t.inspect_appt[aid]}/inspect",
            {
                "return_id": t.inspect_id,
                "weight_g": "800",
                # Every check any category asks; the page reads those of the item.
                **{f"u|L1|1|{k}": "on" for k in (*CHECKLIST, *MORE_CHECKS)},
            },
            files={"photo": ("door.jpg", jpeg(), "image/jpeg")},
        ),
        page(
            "/courier/visits/{appointment_id}/pickup",
            COURIER_USER[t.pickup_appt["courier_id"]],
            f"{visit}/{t.pickup_appt[aid]}/pickup",
            {"pickup_code": t.pickup_appt["pickup_code"]},
        ),
        page(
            "/courier/visits/{appointment_id}/fail",
            COURIER_USER[t.fail_appt["courier_id"]],
            f"{visit}/{t.fail_appt[aid]}/fail",
            {"reason": "buyer_unreachable"},
        ),
        page(
            "/warehouse/parcels/{return_id}/receive",
            "warehouse1",
            f"/warehouse/parcels/{t.receive_id}/receive",
            {},
        ),
        page(
            "/warehouse/parcels/{return_id}/grade",
            "warehouse1",
            f"/warehouse/parcels/{t.grade_id}/grade",
            {"grade": "A"},
        ),
        page(
            "/console/reviews/{return_id}",
            "ops1",
            f"/console/reviews/{t.review_id}",
            {"decision": "approve", "note": "ok"},
        ),
        page(
            "/console/policy",
            "ops1",
            "/console/policy",
            {**{f"on:{code}": "on" for code in RULE_DEFAULTS}, "note": "unchanged"},
        ),
        page(
            "/login",
            guest,
            "/login",
            {"username": OTHERS[1], "password": f"demo-{OTHERS[1]}"},
        ),
        page("/logout", leaver, "/logout", {}),
    ]


def dead_letter(w: World) -> dict[str, str]:
    """A dead-lettered webhook delivery of a stored event, for one re-drive."""
    now = w.app.services.clock.now()
    receiver = f"merchant:stmt-{next(w.serial)}"
    with w.app.services.uow() as uow:
        seq = uow.outbox.take_unpublished(1) or []
        stored = seq[0].seq if seq else 1
        uow.outbox.add_deliveries(
            [Delivery(stored, receiver, "buyer", DeliveryStatus.DEAD, 8, now, now, "HTTP 500")]
        )
        uow.commit()
    return {"event_id": event_id(stored), "receiver": receiver}


def dead_form(w: World) -> dict[str, str]:
    """The console's re-drive form for a fresh dead letter."""
    dead = dead_letter(w)
    return {"event": dead["event_id"], "receiver": dead["receiver"]}


def all_calls(w: World) -> list[Call]:
    """Every measured call: the paths above and the courier-company and tracking ones."""
    return calls(w) + [Call(*c) for c in carrier_calls(w)]


def prepared(w: World, call: Call) -> Callable[[], Any]:
    """The request, ready to send: signing in happens here, outside the count."""
    if call.page:
        browser = w.browser(call.who)
        kwargs = dict(call.kwargs)
        if call.method == "POST":
            kwargs["data"] = {**kwargs["data"], CSRF_FIELD: browser.cookies[CSRF_COOKIE]}
        return lambda: browser.request(call.method, call.url, **kwargs)
    kwargs = dict(call.kwargs)
    headers = {**(w.login(call.who) if call.who else {}), **kwargs.pop("headers", {})}
    return lambda: w.client.request(call.method, call.url, headers=headers, **kwargs)


def route_labels(routes: list[BaseRoute], prefix: str = "") -> set[str]:
    """The label a call of each route bears, for every route of the app: those of included
    routers and the ones the app adds itself (outside the spec: /metrics, /docs, /favicon.ico),
    and each mount as ``GET <mount>/{path}``. A page is a route of entrypoints/web."""
    web = web_package.__name__
    labels = set()
    for context in iter_route_contexts(routes):
        path = prefix + str(context.path)
        if isinstance(context.original_route, Mount):
            inner = context.original_route.routes  # a mounted app's own routes, if it has any
            labels |= route_labels(list(inner), path) if inner else {f"GET {path}/{{path}}"}
            continue
        module = getattr(context.endpoint, "__module__", "") or ""
        kind = "page " if module == web or module.startswith(f"{web}.") else ""
        # No methods: not an HTTP route (a websocket); named so that it shows as not covered.
        for method in (context.methods or {type(context.original_route).__name__}) - {"HEAD"}:
            labels.add(f"{kind}{method} {path}")
    return labels


def measure(w: World, todo: list[Call]) -> tuple[dict[str, int], dict[str, int]]:
    """Statements per call, and the length of each list a call answered with (JSON, or the
    items of a page in ``PAGE_ITEMS``)."""
    counts, sizes = {}, {}
    for call in todo:
        send = prepared(w, call)
        with counting_statements(w.app.engine) as statements:
            r = send()
        assert r.status_code < 400, (call.label, r.status_code, r.text[:500])
        counts[call.label] = len(statements)

        if r.headers.get("content-type") == "application/json":
            body = r.json()
            # A paged answer ({"items": [...], "page": ...}) is a list too.
            items = body.get("items") if isinstance(body, dict) else body
            if isinstance(items, list):
                sizes[call.label] = len(items)
        elif call.label in PAGE_ITEMS:
            sizes[call.label] = len(re.findall(PAGE_ITEMS[call.label], r.text))
    return counts, sizes


def overdue(w: World, count: int) -> None:
    """Returns received nine days ago whose money is still owed (buyer3: no express refund),
    so GET /ops/refunds/overdue and the dashboard's card are measured over rows: the clock
    is moved back for the journey and forward again."""
    clock = w.app.services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(days=-9)
    try:
        for _ in range(count):
            w.received("buyer3")
    finally:
        clock.advance(days=9)


def over_day(w: World) -> str:
    """The first day ``over_capacity`` writes a window over capacity on (a rebalance of it
    moves nothing: it has a counter but no visit)."""
    return (w.app.services.clock.now().date() + timedelta(days=20)).isoformat()


def over_capacity(w: World, count: int) -> None:
    """Windows holding more visits than their capacity, as an edit lowering it leaves them,
    so GET /ops/windows/over-capacity and its page are measured over rows. Written straight
    to counters on days no measured call books (a visit per counter is not needed here)."""
    svc = w.app.services
    first = svc.clock.now().date() + timedelta(days=20)
    with svc.uow() as uow:
        shown = len(uow.slots.over_capacity((first, time(0)), 500))
        for i in range(shown, shown + count):
            slot = SlotRef("310104", "yto", first + timedelta(days=i), Window(time(9), time(11)))
            uow.slots.set_capacity(slot, 0)
            uow.slots.take_over(slot, 0)
        uow.commit()


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
    overdue(w, 4)
    over_capacity(w, 9)
    # The outbox lists (GET /ops/messages, /ops/deliveries, the console's outbox page) are
    # empty or tiny in the small world: send what the returns above published, so a query per
    # text or delivery shows as growth.
    svc = w.app.services
    for _ in range(10):
        if not outbox.dispatch_pending(svc, svc.clock.now(), 500):
            break


# Issue 10: a page is at most 16 KB of HTML, however much data lies behind it.
PAGE_BUDGET = 16 * 1024


def page_weights(w: World, todo: list[Call]) -> dict[str, int]:
    """Uncompressed HTML bytes of every page ``todo`` GETs, the larger of Chinese and English;
    a courier's page for every courier (the busiest day is the heaviest)."""
    weights: dict[str, int] = {}
    for call in todo:
        if not (call.page and call.method == "GET"):
            continue
        readers = COURIER_USER.values() if call.who in COURIER_USER.values() else (call.who,)
        for browser, lang in itertools.product(map(w.browser, readers), ("zh_CN", "en")):
            r = browser.get(
                call.url,
                params={**call.kwargs.get("params", {}), "lang": lang},
                headers={"accept-encoding": "identity"},
            )
            if r.status_code == 200 and r.headers["content-type"].startswith("text/html"):
                weights[call.label] = max(weights.get(call.label, 0), len(r.content))
    return weights


@pytest.mark.slow
def test_no_request_sends_more_statements_with_more_data(
    client: TestClient, wired: App, login: Login
) -> None:
    connect_company(wired)
    w = World(client, wired, login)
    todo = all_calls(w)
    # Every route the app answers, not only the published ones and the page routers: a route
    # the app adds itself or a mount is measured too, and a new one fails here until it is.
    app = client.app
    assert isinstance(app, FastAPI)
    missing = route_labels(app.routes) - {c.label for c in todo}
    assert missing == BOOKING | BOOKING_PAGES, (
        f"measure in calls(): {missing - BOOKING - BOOKING_PAGES}"
    )
    overdue(w, 1)
    over_capacity(w, 1)
    overtaken(w, 1)
    small, small_sizes = measure(w, todo)
    assert small_sizes["GET /ops/refunds/overdue"] > 0, "measure the overdue list with rows"
    assert small_sizes["GET /ops/windows/over-capacity"] > 0, "measure the list with rows"
    grow(w, GROWTH)
    overtaken(w, 6)
    large, large_sizes = measure(w, all_calls(w))
    # The second world really is larger wherever a call answers with a list: a flat count
    # over a list that did not grow would prove nothing. A list whose answer stops being one
    # (or a page whose item no longer matches) must not drop out unseen.
    assert FLAT_LISTS | PAGE_ITEMS.keys() <= small_sizes.keys(), small_sizes
    assert {
        "GET /returns",
        "GET /courier/tasks",
        "GET /ops/reviews",
        "GET /ops/messages",
        "GET /ops/refunds/overdue",
        "GET /ops/windows/over-capacity",
        "GET /claims",
        "GET /ops/claims",
        "GET /ops/disputes",
        "GET /ops/customs",
        "GET /ops/transfers",
        "GET /ops/carrier-exchanges",
        "GET /ops/carrier-orders/overtaken",
        "GET /ops/contactless/disputes",
    } <= small_sizes.keys(), small_sizes
    flat = {
        label: (n, large_sizes.get(label))
        for label, n in small_sizes.items()
        if label not in FLAT_LISTS and large_sizes.get(label, 0) <= n
    }
    assert not flat, f"lists that did not grow (small data, more data): {flat}"
    touching = {k: (small[k], large[k]) for k in NO_DATABASE if small[k] or large[k]}
    assert not touching, f"statements where none is needed (small data, more data): {touching}"
    grown = {k: (small[k], large[k]) for k in small if large[k] > small[k]}

    assert not grown, f"statements per path (small data, more data): {grown}"

    # The same pages again, now that every list behind them has grown.
    weights = page_weights(w, todo)
    print("page bytes:", dict(sorted(weights.items(), key=lambda kv: -kv[1])))
    heavy = {label: n for label, n in weights.items() if n > PAGE_BUDGET}
    assert not heavy, f"pages over {PAGE_BUDGET} bytes of HTML with more data: {heavy}"
