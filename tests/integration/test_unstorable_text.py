"""Text PostgreSQL cannot store (a NUL) is the client's bad input, never a 500: the engine turns
psycopg's refusal into ``text_not_storable`` (422, zh and en) on every path, and sign-in
answers a name with control characters like any unknown name, on both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from doorstep.bootstrap import App
from doorstep.domain.errors import InvalidInput
from doorstep.entrypoints.api.app import create_app


def test_a_nul_in_a_parameter_is_refused_as_bad_input(wired: App) -> None:
    with wired.engine.connect() as conn:
        if wired.engine.dialect.name != "postgresql":
            assert conn.execute(text("SELECT :x"), {"x": "a\x00b"}).scalar_one() == "a\x00b"
            return
        with pytest.raises(InvalidInput) as refused:
            conn.execute(text("SELECT :x"), {"x": "a\x00b"})
    assert refused.value.code == "text_not_storable"
    assert refused.value.message_zh and refused.value.message_en


def test_sign_in_with_a_nul_in_the_name_is_an_unknown_name(wired: App) -> None:
    with TestClient(create_app(wired), raise_server_exceptions=False) as client:
        r = client.post("/auth/token", data={"username": "buyer1\x00", "password": "x"})
        assert r.status_code == 401, r.text
        assert r.json()["message"]["zh"] and r.json()["message"]["en"]
        page = TestClient(client.app, follow_redirects=False)
        page.get("/login")
        r = page.post(
            "/login",
            data={"username": "\x00", "password": "x", "csrf_token": page.cookies["ds_csrf"]},
        )
        assert r.status_code == 401, r.text
