"""Inputs no form declares, at their extremes: tokens, cookies, headers, echoed query strings
and callback bodies far longer than any real one get a clear answer, never a 500, and cost
only what the limit allows (found by the input audit of session 18)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.e2e.carrier_calls import SECRET, connect_company  # type: ignore[import-not-found]
from tests.e2e.page_session import signed_in  # type: ignore[import-not-found]

from doorstep.adapters.auth.tokens import MAX_TOKEN_CHARS
from doorstep.bootstrap import App
from doorstep.domain.signature import signed_headers
from doorstep.entrypoints.web.render import MAX_HERE
from doorstep.entrypoints.web.session import SESSION_COOKIE
from doorstep.services.carrier_callbacks import MAX_BODY_BYTES


def test_an_overlong_bearer_token_is_refused_as_invalid(
    client: TestClient, login: Callable[[str], dict[str, str]]
) -> None:
    real = login("buyer1")["Authorization"].removeprefix("Bearer ")
    padded = real + "A" * (MAX_TOKEN_CHARS + 1 - len(real))
    r = client.get("/returns", headers={"Authorization": f"Bearer {padded}"})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "token_invalid"
    assert client.get("/returns", headers=login("buyer1")).status_code == 200


def test_an_overlong_session_cookie_counts_as_signed_out(client: TestClient) -> None:
    browser = signed_in(client, "buyer1")
    assert browser.get("/").status_code == 200
    token = browser.cookies[SESSION_COOKIE]
    browser.cookies.delete(SESSION_COOKIE)
    browser.cookies.set(SESSION_COOKIE, token + "A" * MAX_TOKEN_CHARS)
    answer = browser.get("/")
    assert answer.status_code == 303 and "/login" in answer.headers["location"], answer.text


def test_a_huge_accept_language_still_picks_a_language(client: TestClient) -> None:
    header = ",".join(f"x{i};q=0.{i % 9}" for i in range(5_000)) + ",en-US"
    page = client.get("/login", headers={"Accept-Language": header})
    assert page.status_code == 200
    # The tag past the cut is not read: the default language answers.
    assert '<html lang="zh-CN">' in page.text
    near = client.get("/login", headers={"Accept-Language": "en-US," + header})
    assert near.status_code == 200 and '<html lang="en">' in near.text


def test_a_long_undeclared_query_string_is_not_echoed_into_the_language_switch(
    client: TestClient,
) -> None:
    browser = signed_in(client, "buyer1")
    page = browser.get("/", params={"junk": "x" * 5_000})
    assert page.status_code == 200
    links = [html.unescape(u) for u in re.findall(r'href="(/lang\?[^"]*)"', page.text)]
    assert links and all(len(u) < MAX_HERE + 60 for u in links), links
    assert all("junk" not in u for u in links)
    # The link it renders works (before, /lang refused its 5,000-character ``next``).
    followed = browser.get(links[0])
    assert followed.status_code == 303, followed.text
    short = browser.get("/", params={"junk": "x"})
    assert "junk" in html.unescape(short.text)  # a short one is still carried through


def test_a_callback_body_over_the_limit_is_refused_without_reading_it_all(
    client: TestClient, wired: App
) -> None:
    connect_company(wired)
    body = b'{"eventId":"' + b"x" * 1_000_000 + b'"}'
    now = wired.services.clock.now()
    r = client.post(
        "/carriers/sbx/callbacks",
        content=body,
        headers={"Content-Type": "application/json", **signed_headers(SECRET, now, body)},
    )
    assert r.status_code == 401 and r.json()["code"] == "signature_invalid", r.text
    with wired.engine.connect() as conn:
        journaled = conn.execute(
            text(
                "SELECT request FROM carrier_exchanges WHERE operation = 'callback'"
                " ORDER BY seq DESC LIMIT 1"
            )
        ).scalar_one()
    request = journaled if isinstance(journaled, dict) else json.loads(journaled)
    assert request["bytes"] == MAX_BODY_BYTES + 1
