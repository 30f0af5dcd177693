"""Disputes, clawbacks, claims and trust over HTTP: the journeys and their refusals, each
with a stable code and both languages, never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.e2e.money_calls import _claim  # type: ignore[import-not-found]
from tests.e2e.test_statements import World  # type: ignore[import-not-found]

from doorstep.bootstrap import App

Login = Callable[[str], dict[str, str]]


def _disputed(w: World, username: str) -> str:
    return_id = w.received(username)
    r = w.client.post(
        f"/warehouse/returns/{return_id}/grade",
        headers=w.login("warehouse1"),
        json={"grade": "C", "note": "scratched"},
    )
    assert r.json()["status"] == "disputed", r.text
    return return_id


def _error(r: object, status: int, code: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["message"]["en"] and body["message"]["zh"], body


def test_failed_qc_dispute_answered_and_lost_claws_back_the_express_refund(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    rid = _disputed(w, "buyer1")
    h, ops = login("buyer1"), login("ops1")
    before = client.get("/ops/buyers/buyer-001/trust", headers=ops).json()
    shown = client.get(f"/returns/{rid}/dispute", headers=h).json()
    assert shown["status"] == "awaiting_buyer" and shown["advanced_fen"] == 39_900
    _error(client.get(f"/returns/{rid}/dispute", headers=login("buyer2")), 404, "dispute_not_found")
    _error(
        client.post(f"/returns/{rid}/dispute/evidence", headers=h, json={"text": " "}),
        422,
        "dispute_evidence_empty",
    )
    photo = w.photo(h)
    r = client.post(
        f"/returns/{rid}/dispute/evidence",
        headers=h,
        json={"text": "it left my home intact", "photo_ids": [photo]},
    )
    assert r.status_code == 200 and r.json()["status"] == "answered", r.text
    (queued,) = client.get("/ops/disputes", headers=ops).json()
    assert queued["return_id"] == rid and queued["advanced_fen"] == 39_900
    # A domestic order: no import tax to leave with the buyer, the whole advance by default.
    assert queued["default_clawback_fen"] == 39_900 and queued["tax_kept_fen"] == 0
    _error(
        client.post(
            f"/ops/disputes/{rid}/decision",
            headers=ops,
            json={"buyer_upheld": False, "clawback_fen": 50_000},
        ),
        422,
        "clawback_out_of_range",
    )
    r = client.post(
        f"/ops/disputes/{rid}/decision", headers=ops, json={"buyer_upheld": False, "note": "deep"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["clawback_fen"] == 39_900
    assert r.json()["decision"]["tax_kept_fen"] == 0  # a domestic order: no import tax
    assert r.json()["clawback_status"] == "succeeded"
    _error(
        client.post(f"/ops/disputes/{rid}/decision", headers=ops, json={"buyer_upheld": True}),
        409,
        "illegal_transition",
    )
    after = client.get("/ops/buyers/buyer-001/trust", headers=ops).json()
    assert after["score"] < before["score"]
    assert {"disputes_lost", "clawbacks"} <= {line["code"] for line in after["lines"]}
    timeline = client.get(f"/returns/{rid}/timeline", headers=h).json()
    names = [e["name"] for e in timeline]
    assert {"dispute.opened", "dispute.decided", "clawback.succeeded"} <= set(names)
    page = w.browser("buyer1").get(f"/portal/returns/{rid}/dispute")
    assert page.status_code == 200 and "39,900" not in page.text and "¥399.00" in page.text


def test_claim_filed_answered_decided_and_refused(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    h, ops = login("buyer1"), login("ops1")
    order_id = w.orders("buyer1", 1)[0]
    body = {
        "order_id": order_id,
        "kind": "damage_on_arrival",
        "lines": [{"line_id": "L1", "quantity": 1}],
        "text": "crushed",
        "photo_ids": [],
    }
    _error(client.post("/claims", headers=h, json=body), 422, "claim_photos_required")
    body["photo_ids"] = [w.photo(h)]
    r = client.post("/claims", headers=h, json=body)
    assert r.status_code == 201, r.text
    claim = r.json()
    assert claim["status"] == "awaiting_merchant" and claim["compensation_fen"] == 39_900
    _error(client.post("/claims", headers=h, json=body), 409, "claim_exists")
    _error(
        client.post(
            f"/partner/claims/{claim['claim_id']}/answer",
            headers=login("partner1"),
            json={"accept": True},
        ),
        404,
        "claim_not_found",
    )
    r = client.post(
        f"/partner/claims/{claim['claim_id']}/answer", headers=ops, json={"accept": False}
    )
    assert r.json()["status"] == "in_review"
    queue = client.get("/ops/claims", headers=ops).json()
    assert claim["claim_id"] in [c["claim_id"] for c in queue]
    r = client.post(
        f"/ops/claims/{claim['claim_id']}/decision", headers=ops, json={"approve": True}
    )
    assert r.json()["status"] == "compensated", r.text
    mine = client.get(f"/claims/{claim['claim_id']}", headers=h).json()
    assert mine["status"] == "compensated"
    _error(
        client.get(f"/claims/{claim['claim_id']}", headers=login("buyer2")), 404, "claim_not_found"
    )
    assert client.get("/ops/carriers/sf/settlement", headers=ops).json()["total_fen"] == 0
    bad = dict(body, kind="transit_damage")
    _error(client.post("/claims", headers=h, json=bad), 422, "claim_kind_not_for_buyers")


def test_transit_damage_over_http_is_charged_to_the_carrier(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    rid = w.received("buyer3")  # no express refund: refunded after QC
    r = client.post(
        f"/warehouse/returns/{rid}/grade",
        headers=login("warehouse1"),
        json={"grade": "C", "note": "crushed corner", "damaged": True},
    )
    assert r.status_code == 200 and r.json()["status"] == "refunded", r.text
    carrier = r.json()["carrier_id"]
    settlement = client.get(f"/ops/carriers/{carrier}/settlement", headers=login("ops1")).json()
    assert settlement["total_fen"] == -39_900 and len(settlement["entries"]) == 1


def test_refund_lead_times_over_http_and_on_the_dashboard(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    w.picked_up("buyer1")  # trusted: paid at pickup
    rid = w.received("buyer3")
    r = client.post(
        f"/warehouse/returns/{rid}/grade", headers=login("warehouse1"), json={"grade": "A"}
    )
    assert r.json()["status"] == "refunded", r.text
    lead = client.get("/ops/refunds/lead-times", headers=login("ops1")).json()
    assert lead["request_to_money"]["count"] >= 2 and lead["pickup_to_money"]["count"] >= 2
    assert lead["days"] and lead["days"][-1]["request_to_money"]["count"] >= 2
    assert lead["bucket_h"] == 0.1 and "covers_from" not in lead
    r = client.get("/ops/refunds/lead-times", params={"days": 0}, headers=login("ops1"))
    assert r.status_code == 422
    page = w.browser("ops1").get("/console/dashboard")
    assert page.status_code == 200 and 'data-testid="refund-lead-time"' in page.text
    assert 'data-testid="lead-time-resolution"' in page.text


def test_a_lost_dispute_shows_the_tax_left_with_the_buyer(
    client: TestClient, wired: App, login: Login
) -> None:
    """The decision page and API say what was taken back and the import tax the buyer keeps
    (customs gives it back for goods back by day 45, RULES.md §2), in both languages."""
    w = World(client, wired, login)
    rid = _disputed(w, "buyer1")
    with wired.services.uow() as uow:
        # Decided as a cross-border return whose goods were back in time would be: the
        # refund's 36.30 yuan of tax stays with the buyer.
        dispute = uow.disputes.get_for_update(f"D-{rid}")
        assert dispute is not None
        dispute.decide("ops-001", wired.services.clock.now(), buyer_upheld=False, note="",
                       clawback_fen=None, tax_kept_fen=3_630)  # fmt: skip
        uow.disputes.save(dispute)
        uow.commit()
    shown = client.get(f"/returns/{rid}/dispute", headers=login("buyer1")).json()
    assert shown["decision"]["clawback_fen"] == 39_900 - 3_630
    assert shown["decision"]["tax_kept_fen"] == 3_630
    page = w.browser("buyer1")
    en = page.get(f"/portal/returns/{rid}/dispute?lang=en").text
    assert "Import tax left with you" in en and "¥36.30" in en and "¥362.70" in en
    zh = page.get(f"/portal/returns/{rid}/dispute?lang=zh_CN").text
    assert "留给您的进口税" in zh and "¥36.30" in zh


def test_the_console_claims_queue_pages_through_many_claims(
    client: TestClient, wired: App, login: Login
) -> None:
    """Eight claims to a screen, oldest filed first, each on one page only; the heading counts
    them all; ``GET /ops/claims`` pages the same order by ``offset``."""
    w = World(client, wired, login)
    filed = {_claim(w, "buyer1", contested=n % 2 == 0) for n in range(9)}
    ops = w.browser("ops1")
    ids = re.compile(r'<section class="card claim" id="cl-([^"]+)">')
    first = ops.get("/console/claims?lang=en")
    second = ops.get("/console/claims?lang=zh_CN&p=2")
    on_first, on_second = ids.findall(first.text), ids.findall(second.text)
    assert len(on_first) == 8 and len(on_second) == 1, (on_first, on_second)
    assert set(on_first) | set(on_second) == filed and not set(on_first) & set(on_second)
    assert "(9)" in first.text and "Page 1 of 2" in first.text
    assert "第 2 页，共 2 页" in second.text
    assert len(first.content) < 16_384, len(first.content)
    assert ops.get("/console/claims?p=10001").status_code == 422
    api = [
        c["claim_id"]
        for offset in (0, 4, 8)
        for c in client.get(f"/ops/claims?limit=4&offset={offset}", headers=login("ops1")).json()
    ]
    assert api == on_first + on_second
