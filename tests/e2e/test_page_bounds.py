"""The pages' forms refuse what the API refuses: non-ASCII digits, days out of range, long ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

ARABIC_1 = "\u0661"  # ١
FULLWIDTH_1 = "\uff11"  # １


def signed_in(client: TestClient, username: str) -> Callable[..., Any]:
    """Sign in through the form; returns a poster that adds the CSRF field."""
    client.cookies.clear()
    client.get("/login")
    client.post(
        "/login",
        data={
            "username": username,
            "password": f"demo-{username}",
            "csrf_token": client.cookies["ds_csrf"],
        },
        follow_redirects=False,
    )

    def post(path: str, **fields: str) -> Any:
        return client.post(path, data={**fields, "csrf_token": client.cookies["ds_csrf"]})

    return post


def test_buyer_forms_refuse_non_ascii_numbers_and_days_out_of_range(client: TestClient) -> None:
    post = signed_in(client, "buyer1")
    line = {"order_id": "TM2026000101", "line_id": "L1", "reason": "no_reason"}
    r = post("/portal/returns", **line, quantity=ARABIC_1)
    assert r.status_code == 422 and "0-9" in r.text

    r = post("/portal/returns", **line, quantity="1")
    assert r.status_code == 200 and "/portal/returns/R-" in str(r.url)
    return_path = r.url.path
    for bad in ("sf|9999-12-31|10:00", "sf|0001-01-01|10:00", "sf|2026-11-26|10:00+08:00"):
        r = post(f"{return_path}/book", slot=bad)
        assert r.status_code == 422, (bad, r.status_code)


def test_courier_form_refuses_a_pickup_code_in_other_digits(client: TestClient) -> None:
    post = signed_in(client, "courier1")
    r = post("/courier/visits/A-1/pickup", pickup_code=FULLWIDTH_1 * 6)
    assert r.status_code == 422 and "0-9" in r.text


def test_page_addresses_take_ids_of_sane_length(client: TestClient) -> None:
    signed_in(client, "buyer1")
    assert client.get("/portal/returns/" + "R" * 65).status_code == 422
    assert client.get("/portal/precheck", params={"sku": "x" * 65}).status_code == 422
