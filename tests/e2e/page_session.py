"""A page session of its own (cookies) on a test client's app, signed in through the login form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from doorstep.entrypoints.web.session import CSRF_COOKIE, CSRF_FIELD


def signed_in(client: TestClient, username: str) -> TestClient:
    """A browser-like client signed in as demo user ``username`` (redirects not followed)."""
    browser = TestClient(client.app, follow_redirects=False)
    browser.get("/login")
    answer = browser.post(
        "/login",
        data={
            "username": username,
            "password": f"demo-{username}",
            CSRF_FIELD: browser.cookies[CSRF_COOKIE],
        },
    )
    assert answer.status_code == 303, answer.text
    return browser
