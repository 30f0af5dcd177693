"""The console's disputes queue suggests the clawback the decision would take now: the express
refund's advance less the import tax customs gives back for goods back by day 45, which the
buyer keeps (RULES.md §2; ``customs.tax_kept_by_buyer``). Ops may type that amount to the fen;
the whole advance is refused on the page (``clawback_out_of_range``, zh and en), never a 500.
The queue reads what it needs for every listed dispute at once: its statements do not grow
with the disputes listed."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.e2e.test_statements import World  # type: ignore[import-not-found]
from tests.integration.bonded_returns import (  # type: ignore[import-not-found]
    BONDED_WH,
    PILLOW,
    bonded_orders,
    self_shipped,
)
from tests.statements import counting_statements  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.returns import Grade, ReturnStatus
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD
from doorstep.services import disputes, refunds, warehouse

Login = Callable[[str], dict[str, str]]
# Advance ¥120.50 less tax ¥11.37: a default with fen, which whole yuan cannot type.
PRICE, TAX = 10_913, 1_137
ADVANCE = PRICE + TAX


def _disputed_with_tax(app: App, n: int = 1) -> list[str]:
    """``n`` bonded orders of buyer-001 (trust 850), each sent back, refunded at once with its
    import tax advanced, received by day 45 (its declaration not answered yet) and failed at
    QC: the buyer keeps the tax if the dispute is lost."""
    svc = app.services
    made = []
    for order in bonded_orders(
        svc, n, tag="H", buyer="buyer-001", sku=PILLOW, price=PRICE, tax=TAX
    ):
        rid, _ = self_shipped(svc, order)
        paid = refunds.start_express_refund(svc, rid)
        assert paid is not None and paid.amount_fen == ADVANCE and paid.tax_fen == TAX
        warehouse.receive(svc, BONDED_WH, rid)
        graded = warehouse.grade(svc, BONDED_WH, rid, Grade.C, "scratched")
        assert graded.status is ReturnStatus.DISPUTED
        assert disputes.get_dispute(svc, rid).advanced_fen == ADVANCE
        made.append(rid)
    return made


def _card(page: str, return_id: str) -> str:
    """The dispute's card on the queue page."""
    found = re.search(
        rf'<section class="card dispute" id="dp-{return_id}">(.*?)</section>', page, re.S
    )
    assert found is not None, page[:2000]
    return found.group(1)


def _decide(browser: TestClient, return_id: str, lang: str, clawback_yuan: str) -> object:
    return browser.post(
        f"/console/disputes/{return_id}?lang={lang}",
        data={
            "decision": "qc_upheld",
            "note": "scratched",
            "clawback_yuan": clawback_yuan,
            CSRF_FIELD: browser.cookies[CSRF_COOKIE],
        },
    )


def test_the_queue_suggests_the_advance_less_the_tax_the_buyer_keeps(
    client: TestClient, wired: App, login: Login
) -> None:
    (rid,) = _disputed_with_tax(wired)
    ops = World(client, wired, login).browser("ops1")
    en = _card(ops.get("/console/disputes?lang=en").text, rid)
    assert 'placeholder="109.13"' in en, en
    assert "¥120.50" in en and "¥11.37" in en and "¥109.13" in en
    assert "Import tax the buyer keeps" in en
    zh = _card(ops.get("/console/disputes?lang=zh_CN").text, rid)
    assert 'placeholder="109.13"' in zh and "¥11.37" in zh and "买家保留的进口税" in zh


def test_the_api_queue_names_the_same_default_and_the_tax_kept(
    client: TestClient, wired: App, login: Login
) -> None:
    """``GET /ops/disputes`` (merchants' and ops' tools) gives what the console suggests."""
    (rid,) = _disputed_with_tax(wired)
    (queued,) = client.get("/ops/disputes", headers=login("ops1")).json()
    assert queued["return_id"] == rid and queued["advanced_fen"] == ADVANCE
    assert queued["default_clawback_fen"] == PRICE and queued["tax_kept_fen"] == TAX
    r = client.post(
        f"/ops/disputes/{rid}/decision",
        headers=login("ops1"),
        json={"buyer_upheld": False, "clawback_fen": queued["default_clawback_fen"] + 1},
    )
    assert r.status_code == 422 and r.json()["code"] == "clawback_out_of_range", r.text
    r = client.post(
        f"/ops/disputes/{rid}/decision",
        headers=login("ops1"),
        json={"buyer_upheld": False, "note": "scratched"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["clawback_fen"] == queued["default_clawback_fen"]
    assert client.get("/ops/disputes", headers=login("ops1")).json() == []


def test_the_suggested_amount_is_taken_and_the_whole_advance_refused_on_the_page(
    client: TestClient, wired: App, login: Login
) -> None:
    rid, other = _disputed_with_tax(wired, 2)
    ops = World(client, wired, login).browser("ops1")
    for lang, words in (("en", "at most ¥109.13"), ("zh_CN", "最多追回 ¥109.13")):
        r = _decide(ops, rid, lang, "120.50")
        assert r.status_code == 409, r.text[:500]  # type: ignore[attr-defined]
        assert words in r.text and "¥11.37" in r.text, r.text  # type: ignore[attr-defined]
        assert disputes.get_dispute(wired.services, rid).status.open
    for bad in ("109.135", "1,09", "１０９", "-1", "abc", "10000000.01"):
        r = _decide(ops, other, "en", bad)
        assert r.status_code == 409, (bad, r.text[:500])  # type: ignore[attr-defined]
        assert "Take back (yuan)" in r.text, bad  # type: ignore[attr-defined]
    assert disputes.get_dispute(wired.services, other).status.open
    r = _decide(ops, rid, "en", "109.13")
    assert r.status_code == 303, r.text[:500]  # type: ignore[attr-defined]
    decided = disputes.get_dispute(wired.services, rid).decision
    assert decided is not None and decided.clawback_fen == PRICE and decided.tax_kept_fen == TAX
    r = _decide(ops, other, "zh_CN", "109.1")
    assert r.status_code == 303, r.text[:500]  # type: ignore[attr-defined]
    decided = disputes.get_dispute(wired.services, other).decision
    assert decided is not None and decided.clawback_fen == 10_910


def test_the_queue_sends_as_many_statements_for_many_disputes_as_for_one(
    client: TestClient, wired: App, login: Login
) -> None:
    w = World(client, wired, login)
    _disputed_with_tax(wired)
    ops = w.browser("ops1")
    ops.get("/console/disputes?lang=en")  # signed in and warmed up outside the count
    with counting_statements(wired.engine) as one:
        assert ops.get("/console/disputes?lang=en").status_code == 200
    many = _disputed_with_tax(wired, 4)
    domestic = w.received("buyer1")  # no import tax: nothing kept
    r = client.post(
        f"/warehouse/returns/{domestic}/grade",
        headers=login("warehouse1"),
        json={"grade": "C", "note": "scratched"},
    )
    assert r.json()["status"] == "disputed", r.text
    with counting_statements(wired.engine) as more:
        page = ops.get("/console/disputes?lang=en")
    assert page.status_code == 200 and all(f'id="dp-{r}"' in page.text for r in many)
    assert page.text.count('placeholder="109.13"') == 5
    assert 'placeholder="399.00"' in _card(page.text, domestic)
    assert len(more) == len(one), (len(one), len(more))


def test_the_queue_pages_through_many_disputes_and_the_api_pages_alike(
    client: TestClient, wired: App, login: Login
) -> None:
    """Eight disputes to a screen (``web/paging.py``), earliest answer time first, each on one
    page only; the heading counts them all; the API's ``offset`` reads the same order."""
    made = set(_disputed_with_tax(wired, 9))
    ops = World(client, wired, login).browser("ops1")
    ids = re.compile(r'<section class="card dispute" id="dp-([^"]+)">')
    first = ops.get("/console/disputes?lang=en")
    second = ops.get("/console/disputes?lang=zh_CN&p=2")
    assert first.status_code == second.status_code == 200
    on_first, on_second = ids.findall(first.text), ids.findall(second.text)
    assert len(on_first) == 8 and len(on_second) == 1
    assert set(on_first) | set(on_second) == made and not set(on_first) & set(on_second)
    assert "(9)" in first.text and "Page 1 of 2" in first.text and "p=2" in first.text
    assert "第 2 页，共 2 页" in second.text and "截止更早的" in second.text
    assert len(first.content) < 16_384, len(first.content)
    past_the_end = ops.get("/console/disputes?lang=en&p=7")
    assert ids.findall(past_the_end.text) == on_second  # the last page, not an empty one
    assert ops.get("/console/disputes?p=0").status_code == 422
    api = [
        d["return_id"]
        for offset in (0, 5)
        for d in client.get(f"/ops/disputes?limit=5&offset={offset}", headers=login("ops1")).json()
    ]
    assert api == on_first + on_second
    r = client.get("/ops/disputes?offset=-1", headers=login("ops1"))
    assert r.status_code == 422, r.text
