"""The money-after-refund paths (disputes, claims, trust, settlements) for the statement
count test (tests/e2e/test_statements.py): fresh targets in the states each call needs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.e2e.test_statements import BUYER, Call, World, page  # type: ignore[import-not-found]

from doorstep.services import catalog, identity


def _trusted_buyer(w: World) -> str:
    """A buyer of its own for the disputes: a lost dispute lowers trust, and the measured
    buyer's express refunds must stay as they were for the other paths."""
    n = next(w.serial)
    username, buyer_id = f"trusted{n}", f"buyer-trusted-{n}"
    model_id = w.actor(BUYER)  # over HTTP: not inside the unit of work below
    with w.app.services.uow() as uow:
        model = uow.buyers.get(model_id)
    assert model is not None
    catalog.upsert_buyers(w.app.services, [replace(model, buyer_id=buyer_id, trust_score=1000)])
    identity.add_user(
        w.app.services, f"U-{username}", username, f"demo-{username}", "buyer", buyer_id
    )
    return username


def _disputed(w: World, username: str) -> str:
    """A return picked up (an express refund for a trusted buyer), received, failed QC."""
    return_id = w.received(username)
    r = w.client.post(
        f"/warehouse/returns/{return_id}/grade",
        headers=w.login("warehouse1"),
        json={"grade": "C", "note": "scratched"},
    )
    assert r.status_code == 200 and r.json()["status"] == "disputed", r.text
    return return_id


def _claim(w: World, username: str, *, contested: bool = False) -> str:
    h = w.login(username)
    body = {
        "order_id": w.orders(username, 1)[0],
        "kind": "damage_on_arrival",
        "lines": [{"line_id": "L1", "quantity": 1}],
        "text": "crushed box",
        "photo_ids": [w.photo(h)],
    }
    r = w.client.post("/claims", headers=h, json=body)
    assert r.status_code == 201, r.text
    claim_id = str(r.json()["claim_id"])
    if contested:
        r = w.client.post(
            f"/partner/claims/{claim_id}/answer",
            headers=w.login("ops1"),
            json={"accept": False, "text": "shipped intact"},
        )
        assert r.status_code == 200, r.text
    return claim_id


def money_calls(w: World) -> list[Call]:
    """One call per money path and page, each on its own fresh target."""
    b, t = BUYER, _trusted_buyer(w)
    shown = _disputed(w, t)
    answer_id, decide_id = _disputed(w, t), _disputed(w, t)
    page_answer_id, page_decide_id = _disputed(w, t), _disputed(w, t)
    h = w.login(b)
    dispute_photo = w.photo(w.login(t))
    claim_shown = _claim(w, b)
    to_answer, to_decide = _claim(w, b), _claim(w, b, contested=True)
    page_answer, page_decide = _claim(w, b), _claim(w, b, contested=True)
    new_claim: dict[str, Any] = {
        "order_id": w.orders(b, 1)[0],
        "kind": "damage_on_arrival",
        "lines": [{"line_id": "L1", "quantity": 1}],
        "text": "torn",
        "photo_ids": [w.photo(h)],
    }
    page_claim_order = w.orders(b, 1)[0]
    buyer_id = w.actor(b)
    return [
        Call("GET /returns/{return_id}/dispute", t, "GET", f"/returns/{shown}/dispute"),
        Call(
            "POST /returns/{return_id}/dispute/evidence",
            t,
            "POST",
            f"/returns/{answer_id}/dispute/evidence",
            {"json": {"text": "it left intact", "photo_ids": [dispute_photo]}},
        ),
        Call("GET /ops/disputes", "ops1", "GET", "/ops/disputes"),
        Call(
            "POST /ops/disputes/{return_id}/decision",
            "ops1",
            "POST",
            f"/ops/disputes/{decide_id}/decision",
            {"json": {"buyer_upheld": False, "note": "deep scratches"}},
        ),
        Call("GET /ops/buyers/{buyer_id}/trust", "ops1", "GET", f"/ops/buyers/{buyer_id}/trust"),
        Call("POST /claims", b, "POST", "/claims", {"json": new_claim}),
        Call("GET /claims", b, "GET", "/claims"),
        Call("GET /claims/{claim_id}", b, "GET", f"/claims/{claim_shown}"),
        Call(
            "POST /partner/claims/{claim_id}/answer",
            "ops1",
            "POST",
            f"/partner/claims/{to_answer}/answer",
            {"json": {"accept": True, "text": "sorry"}},
        ),
        Call("GET /ops/claims", "ops1", "GET", "/ops/claims"),
        Call("GET /ops/refunds/lead-times", "ops1", "GET", "/ops/refunds/lead-times"),
        Call(
            "POST /ops/claims/{claim_id}/decision",
            "ops1",
            "POST",
            f"/ops/claims/{to_decide}/decision",
            {"json": {"approve": True, "note": "photos show the damage"}},
        ),
        Call(
            "GET /ops/carriers/{carrier_id}/settlement",
            "ops1",
            "GET",
            "/ops/carriers/sf/settlement",
        ),
        page("/portal/returns/{return_id}/dispute", t, f"/portal/returns/{shown}/dispute"),
        page(
            "/portal/returns/{return_id}/dispute",
            t,
            f"/portal/returns/{page_answer_id}/dispute",
            {"text": "it was new when it left"},
        ),
        page("/portal/claims", b, "/portal/claims"),
        page(
            "/portal/claims",
            b,
            "/portal/claims",
            {"line": f"{page_claim_order}|L1", "kind": "damage_on_arrival", "text": "crushed"},
            files={"photo": ("c.jpg", _jpeg(), "image/jpeg")},
        ),
        page("/console/disputes", "ops1", "/console/disputes"),
        page(
            "/console/disputes/{return_id}",
            "ops1",
            f"/console/disputes/{page_decide_id}",
            {"decision": "qc_upheld", "note": "scratches"},
        ),
        page("/console/claims", "ops1", "/console/claims"),
        page(
            "/console/claims/{claim_id}",
            "ops1",
            f"/console/claims/{page_decide}",
            {"decision": "approve", "note": "ok"},
        ),
        page(
            "/console/claims/{claim_id}/answer",
            "ops1",
            f"/console/claims/{page_answer}/answer",
            {"decision": "accept", "note": "ok"},
        ),
        page("/console/buyers/{buyer_id}", "ops1", f"/console/buyers/{buyer_id}"),
    ]


def _jpeg() -> bytes:
    from tests.e2e.test_statements import jpeg  # type: ignore[import-not-found]

    return bytes(jpeg())
