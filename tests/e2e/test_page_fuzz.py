"""No page form, however odd its input, gets a 500: every POST page route, found by walking the
web routers (so a page added tomorrow is fuzzed without anyone listing it), is sent by a
signed-in user of its role, with the CSRF token, each of a few hostile payloads in every
field it declares and in the fields the hand-read forms look for, once at ids that exist and
once at ids that do not. The API's routes have their own fuzz (test_api_fuzz.py, from the
OpenAPI document); the declared bounds are checked statically (tests/unit/test_inputs_bounded.py).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient
from tests.e2e.after_sales_calls import (  # type: ignore[import-not-found]
    _bonded_order as bonded_order,
)
from tests.e2e.after_sales_calls import _file as after_sales_file  # type: ignore[import-not-found]
from tests.e2e.carrier_calls import overtaken_order  # type: ignore[import-not-found]
from tests.e2e.money_calls import _claim as claim  # type: ignore[import-not-found]
from tests.e2e.test_statements import World  # type: ignore[import-not-found]
from tests.e2e.transfer_calls import given_up  # type: ignore[import-not-found]

import doorstep.entrypoints.web as web_pkg
from doorstep.bootstrap import App
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD

Login = Callable[[str], dict[str, str]]
# Who posts each page's forms, by the path's first segment; sign-in and sign-out as a guest.
ROLE = {
    "portal": "buyer1",
    "courier": "courier5",
    "console": "ops1",
    "warehouse": "warehouse1",
    "station": "station1",
}
# Fields the hand-read forms (request.form()) look for, beside the declared Form fields.
HAND_READ = (
    "order_id",
    "line_id",
    "quantity",
    "qty:L1",
    "swap:L1",
    "kind",
    "reason",
    "note",
    "return_id",
    "weight_g",
    "photo_id",
    "u:L1:1:appearance_ok",
    "u:L1:1:code",
    "all_ok",
    "contactless",
    "p:return_window:no_reason_days",
    "on:return_window",
    "slot",
    "code",
    "pickup_code",
    "handover",
    "outcome",
    "approve",
    "amount_fen",
    "clawback_fen",
    "username",
    "password",
)
PAYLOADS = (
    "x" * 20_000,  # long text: cut or refused, never stored whole
    "9" * 5_000,  # past int()'s 4,300-digit limit: a ValueError if parsed unchecked
    "\u0661\u0662",  # Arabic-Indic digits: str.isdigit() says yes
    "-1",
    "",
    "\x00<script>",
)
MISSING = {"return_id": "R-missing", "appointment_id": "A-missing"}


def page_posts() -> list[str]:
    """Every POST path of every page module."""
    out = []
    for info in pkgutil.iter_modules(web_pkg.__path__):
        module = importlib.import_module(f"{web_pkg.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            out += [
                r.path for r in router.routes if isinstance(r, APIRoute) and "POST" in r.methods
            ]
    return out


def _declared_fields(path: str) -> set[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(web_pkg.__path__):
        router = getattr(importlib.import_module(f"{web_pkg.__name__}.{info.name}"), "router", None)
        for r in getattr(router, "routes", []):
            if isinstance(r, APIRoute) and r.path == path and "POST" in r.methods:
                names |= {p.alias for p in r.dependant.body_params}
                for dep in r.dependant.dependencies:
                    names |= {p.alias for p in dep.body_params}
    return names


def _signed_in(client: TestClient, username: str | None) -> TestClient:
    browser = TestClient(client.app, raise_server_exceptions=False, follow_redirects=False)
    browser.get("/login")
    if username:
        r = browser.post(
            "/login",
            data={
                "username": username,
                "password": f"demo-{username}",
                CSRF_FIELD: browser.cookies[CSRF_COOKIE],
            },
        )
        assert r.status_code == 303, r.text
    return browser


def _more_real_ids(client: TestClient, wired: App, login: Login) -> dict[str, str]:
    """A claim, a customs return, a failed transfer, an area, template and courier company:
    the console's other forms' ids."""
    w = World(client, wired, login)
    to_declare = after_sales_file(w, "buyer2", bonded_order(w, "buyer2"), "refund")
    with wired.services.uow() as uow:
        (declaration,) = uow.customs.for_returns([to_declare])
    return {
        "adcode": "310104",
        "carrier_id": "yto",
        "template_id": "generic-2h",
        "claim_id": claim(w, "buyer2"),
        "customs_return_id": declaration.customs_return_id,
        "transfer_id": given_up(wired, "fuzz-subject"),
        "out_order_no": _overtaken(wired),
    }


def _overtaken(wired: App) -> str:
    """A parcel collected after a cancel, waiting for ops to settle it."""
    number = "A-fuzz-1-1"
    overtaken_order(wired, number, "L2")  # L1 is _real_ids' return
    return number


def _real_ids(client: TestClient, login: Login) -> dict[str, str]:
    """A return of buyer1 booked for pickup: ids the forms' paths can name."""
    h = login("buyer1")
    body = {
        "order_id": "TM2026000101",
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
    }
    r = client.post("/returns", headers=h, json=body)
    assert r.status_code == 201, r.text
    return_id = r.json()["return_id"]
    slot = client.get(f"/returns/{return_id}/slots", headers=h).json()["slots"][0]
    choice = {k: slot[k] for k in ("carrier_id", "day", "start")}
    booked = client.post(f"/returns/{return_id}/pickup", headers=h, json=choice)
    assert booked.status_code == 201, booked.text
    return {"return_id": return_id, "appointment_id": booked.json()["appointment_id"]}


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "X-missing"), path)


def test_no_page_form_produces_a_server_error(client: TestClient, wired: App, login: Login) -> None:
    paths = page_posts()
    assert len(paths) > 25  # the walk really reached the page routers
    browsers: dict[str, TestClient] = {}
    real = _real_ids(client, login) | _more_real_ids(client, wired, login)
    named = {m for path in paths for m in re.findall(r"\{(\w+)\}", path)}
    assert named <= real.keys(), f"give the fuzz a real id for {sorted(named - real.keys())}"
    failures: list[str] = []
    sent = 0
    # Sign-out last: it ends the session the others need.
    for path in sorted(paths, key=lambda p: p == "/logout"):
        role = ROLE.get(path.strip("/").split("/")[0])
        key = role or "guest"
        if key not in browsers:
            browsers[key] = _signed_in(client, role)
        browser = browsers[key]
        fields = sorted(_declared_fields(path) | set(HAND_READ))
        for ids in (real, MISSING):
            url = _fill(path, ids)
            for payload in PAYLOADS:
                data: dict[str, Any] = dict.fromkeys(fields, payload)
                data[CSRF_FIELD] = browser.cookies.get(CSRF_COOKIE, "")
                r = browser.post(url, data=data)
                sent += 1
                if r.status_code >= 500:
                    failures.append(f"{url} {payload[:12]!r}: {r.status_code} {r.text[:300]}")
    assert sent >= len(paths) * len(PAYLOADS) * 2
    assert failures == [], "\n".join(failures)
