"""Transfers given up, for ops over HTTP and on the console: listed by status a page at a
time, sent again under the same key; every refusal a stable code in both languages, never
a 500."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.e2e.test_statements import World  # type: ignore[import-not-found]
from tests.e2e.transfer_calls import given_up  # type: ignore[import-not-found]

from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App
from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD

Login = Callable[[str], dict[str, str]]


def _error(r: object, status: int, code: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["message"]["en"] and body["message"]["zh"], body


def test_ops_list_failed_transfers_page_by_page_and_send_one_again(
    client: TestClient, wired: App, login: Login, payments: LocalPayments
) -> None:
    ops = login("ops1")
    failed = [given_up(wired, f"CR-http-{n}") for n in range(3)]
    first = client.get("/ops/transfers", headers=ops, params={"per_page": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["total"], body["pages"], body["next_page"]) == ("failed", 3, 2, 2)
    second = client.get("/ops/transfers", headers=ops, params={"per_page": 2, "page": 2}).json()
    listed = [x["transfer_id"] for x in body["items"] + second["items"]]
    # Oldest first (one fixed clock here: ties go by id), none twice, none left out.
    assert sorted(listed) == sorted(failed) and len(set(listed)) == 3
    assert second["next_page"] is None
    shown = next(x for x in body["items"] + second["items"] if x["transfer_id"] == failed[0])
    assert shown["purpose"] == "customs_tax" and shown["direction"] == "pay_out"
    assert shown["failure"] == "account_closed" and shown["idempotency_key"].startswith("customs-")

    r = client.post(f"/ops/transfers/{failed[0]}/retry", headers=ops)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert payments.paid[shown["idempotency_key"]][1] == 7_270
    again = client.post(f"/ops/transfers/{failed[0]}/retry", headers=ops)
    assert again.json()["status"] == "succeeded" and len(payments.paid) == 1  # answered as is
    done = client.get("/ops/transfers", headers=ops, params={"status": "succeeded"}).json()
    assert [x["transfer_id"] for x in done["items"]] == [failed[0]]
    assert client.get("/ops/transfers", headers=ops).json()["total"] == 2


def test_transfer_paths_refuse_bad_input_and_other_roles(client: TestClient, login: Login) -> None:
    ops = login("ops1")
    for params in (
        {"status": "lost"},
        {"page": 0},
        {"page": 10_001},
        {"per_page": 101},
        {"per_page": "x"},
    ):
        _error(client.get("/ops/transfers", headers=ops, params=params), 422, "validation_error")
    _error(client.post("/ops/transfers/T-none/retry", headers=ops), 404, "transfer_not_found")
    _error(client.post(f"/ops/transfers/{'x' * 65}/retry", headers=ops), 422, "validation_error")
    r = client.get("/ops/transfers", headers=login("buyer1"))
    assert r.status_code == 403 and r.json()["message"]["zh"], r.text
    assert client.get("/ops/transfers").status_code == 401


def test_console_lists_failed_transfers_and_sends_one_again(
    client: TestClient, wired: App, login: Login, payments: LocalPayments
) -> None:
    w = World(client, wired, login)
    empty = w.browser("ops1").get("/console/transfers", params={"lang": "en"})
    assert empty.status_code == 200 and "No transfer was given up." in empty.text
    failed = given_up(wired, "CR-http-page")
    b = w.browser("ops1")
    zh = b.get("/console/transfers", params={"lang": "zh_CN"})
    assert zh.status_code == 200 and failed in zh.text and "退还进口税" in zh.text
    form = {CSRF_FIELD: b.cookies[CSRF_COOKIE]}
    r = b.post(f"/console/transfers/{failed}/retry", data=form)
    assert r.status_code == 303 and r.headers["location"].endswith("?retried=1"), r.text
    assert len(payments.paid) == 1
    shown = b.get("/console/transfers", params={"status": "succeeded", "lang": "en"})
    assert failed in shown.text and "Sent to the provider again." not in shown.text
    bad = b.post("/console/transfers/T-none/retry", data=form)
    assert bad.status_code == 409 and "transfer" in bad.text.lower()
    assert b.get("/console/transfers", params={"status": "lost"}).status_code == 422
    assert w.browser("buyer1").get("/console/transfers").status_code in (303, 403)
