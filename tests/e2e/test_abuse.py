"""Abuse limits and sessions through the API: 429 with Retry-After, sessions that end."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from tests.e2e.test_access import _book  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app
from doorstep.services import courier

Login = Callable[[str], dict[str, str]]
COURIER_USERS = {f"courier-sf-0{i}": f"courier{i}" for i in range(1, 5)} | {
    f"courier-yto-0{i}": f"courier{i + 4}" for i in range(1, 5)
}


@pytest.fixture
def api(wired: App) -> FastAPI:
    return create_app(wired)


@pytest.fixture
def from_address(api: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """Clients of the same server seen from different network addresses."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        client = TestClient(api, raise_server_exceptions=False, client=(address, 40000))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _sign_in(client: TestClient, user: str, password: str | None = None) -> tuple[int, dict]:
    r = client.post("/auth/token", data={"username": user, "password": password or f"demo-{user}"})
    return r.status_code, {**r.json(), "_retry_after": r.headers.get("retry-after")}


def _bearer(body: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_sign_in_is_throttled_with_retry_after(
    from_address: Callable[[str], TestClient],
) -> None:
    client = from_address("198.51.100.1")
    statuses = [_sign_in(client, "buyer2", "wrong")[0] for _ in range(5)]
    assert statuses == [401] * 5
    status, body = _sign_in(client, "buyer2")  # the right password must wait too
    assert status == 429
    assert body["code"] == "sign_in_throttled"
    assert body["message"]["en"] and body["message"]["zh"]
    assert 1 <= int(body["_retry_after"]) <= 300
    assert body["details"]["retry_after_s"] == int(body["_retry_after"])
    # Other accounts from the same address are not blocked by this account's count.
    assert _sign_in(client, "buyer3")[0] == 200


def test_a_victim_is_not_locked_out_by_guesses_from_elsewhere(
    from_address: Callable[[str], TestClient],
) -> None:
    home = from_address("10.1.2.3")
    assert _sign_in(home, "buyer1")[0] == 200  # the owner has used this address before
    refused = 0
    for n in range(12):  # a botnet, two guesses per address, past the account limit
        attacker = from_address(f"203.0.113.{n}")
        for _ in range(2):
            status, body = _sign_in(attacker, "buyer1", "guess")
            assert status in (401, 429), body
            refused += status == 429
    assert refused > 0
    assert _sign_in(home, "buyer1")[0] == 200
    # A new address of the owner waits at most the account window (10 minutes).
    status, body = _sign_in(from_address("10.9.9.9"), "buyer1")
    assert status == 429 and int(body["_retry_after"]) <= 600


def test_sign_in_errors_name_no_library_classes(client: TestClient) -> None:
    for headers in ({"Authorization": "Bearer a.b.c"}, {"Authorization": "Bearer x"}):
        r = client.get("/auth/me", headers=headers)
        assert r.status_code == 401
        assert "Error" not in r.text and "jwt" not in r.text.lower()
    r = client.post("/auth/token", data={"username": "buyer1", "password": "\x00"})
    assert r.status_code in (401, 422) and "Error" not in r.text


def test_logout_revokes_the_token(client: TestClient) -> None:
    _, first = _sign_in(client, "buyer1")
    _, second = _sign_in(client, "buyer1")
    assert client.get("/auth/me", headers=_bearer(first)).status_code == 200
    assert client.post("/auth/logout", headers=_bearer(first)).status_code == 204
    r = client.get("/returns", headers=_bearer(first))
    assert r.status_code == 401 and r.json()["code"] == "session_ended"
    assert client.post("/auth/logout", headers=_bearer(first)).status_code == 401
    assert client.get("/auth/me", headers=_bearer(second)).status_code == 200


def test_password_change_revokes_every_other_token(client: TestClient) -> None:
    _, old = _sign_in(client, "buyer2")
    r = client.post(
        "/auth/password",
        headers=_bearer(old),
        json={"current_password": "demo-buyer2", "new_password": "a-better-secret"},
    )
    assert r.status_code == 200, r.text
    assert client.get("/auth/me", headers=_bearer(old)).status_code == 401
    assert client.get("/auth/me", headers=_bearer(r.json())).status_code == 200
    assert _sign_in(client, "buyer2", "a-better-secret")[0] == 200
    assert _sign_in(client, "buyer2")[0] == 401


def test_disabled_and_deleted_users_are_refused_at_once(client: TestClient, login: Login) -> None:
    ops = login("ops1")
    _, buyer = _sign_in(client, "buyer2")
    _, courier_user = _sign_in(client, "courier3")
    r = client.post("/ops/users/buyer2/disable", headers=ops)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/returns", headers=_bearer(buyer)).status_code == 401
    assert _sign_in(client, "buyer2")[0] == 401
    assert client.post("/ops/users/buyer2/enable", headers=ops).status_code == 200
    assert client.get("/returns", headers=_bearer(buyer)).status_code == 401  # stays ended
    assert _sign_in(client, "buyer2")[0] == 200

    assert client.delete("/ops/users/courier3", headers=ops).status_code == 204
    assert client.get("/courier/tasks", headers=_bearer(courier_user)).status_code == 401
    assert client.delete("/ops/users/courier3", headers=ops).status_code == 404
    assert client.post("/ops/users/buyer1/disable", headers=login("buyer1")).status_code == 403


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_pickup_code_tries_are_limited(client: TestClient, login: Login) -> None:
    buyer = login("buyer1")
    rid, appt = _book(client, buyer)
    aid, code = appt["appointment_id"], appt["pickup_code"]
    me = login(COURIER_USERS[appt["courier_id"]])
    assert client.post(f"/courier/tasks/{aid}/arrive", headers=me).status_code == 200
    photo = client.post("/photos", headers=me, files={"file": ("d.jpg", _jpeg(), "image/jpeg")})
    r = client.post(
        f"/courier/tasks/{aid}/inspect",
        headers=me,
        json={
            "return_id": rid,
            "checklist": dict.fromkeys((*courier.CHECKLIST, "seal_intact"), True),
            "photo_ids": [photo.json()["photo_id"]],
            "verified_weight_g": 130,
        },
    )
    assert r.status_code == 200, r.text
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = client.post(f"/courier/tasks/{aid}/pickup", headers=me, json={"pickup_code": wrong})
        assert r.status_code == 409 and r.json()["code"] == "pickup_code_mismatch"
    r = client.post(f"/courier/tasks/{aid}/pickup", headers=me, json={"pickup_code": code})
    assert r.status_code == 429
    assert r.json()["code"] == "pickup_code_attempts_exhausted"
    assert 1 <= int(r.headers["retry-after"]) <= 600
    assert "买家" in r.json()["message"]["zh"]
    status = client.get(f"/returns/{rid}", headers=buyer).json()["status"]
    assert status == "awaiting_pickup"


def _web_sign_in(client: TestClient, user: str, password: str) -> int:
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": client.cookies["ds_csrf"]},
        follow_redirects=False,
    )
    return r.status_code


def test_pages_sign_out_revokes_the_cookie_and_throttle_sign_in(
    from_address: Callable[[str], TestClient],
) -> None:
    browser = from_address("192.0.2.10")
    assert _web_sign_in(browser, "buyer1", "demo-buyer1") == 303
    stolen = browser.cookies["ds_session"]
    assert browser.get("/", follow_redirects=False).status_code == 200
    r = browser.post(
        "/logout", data={"csrf_token": browser.cookies["ds_csrf"]}, follow_redirects=False
    )
    assert r.status_code == 303
    # A copy of the cookie taken before sign-out no longer opens the pages.
    thief = from_address("192.0.2.66")
    thief.cookies.set("ds_session", stolen)
    r = thief.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

    other = from_address("192.0.2.11")
    assert [_web_sign_in(other, "buyer2", "wrong") for _ in range(5)] == [401] * 5
    other.get("/login")
    r = other.post(
        "/login",
        data={"username": "buyer2", "password": "x", "csrf_token": other.cookies["ds_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
