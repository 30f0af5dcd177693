"""HTTP fixtures: the real API over the real bootstrap, with sign-in helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app


@pytest.fixture
def client(wired: App) -> Iterator[TestClient]:
    with TestClient(create_app(wired), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def login(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Headers for a demo account (password ``demo-<username>``)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            r = client.post(
                "/auth/token", data={"username": username, "password": f"demo-{username}"}
            )
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        return cache[username]

    return headers
