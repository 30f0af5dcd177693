"""HTTP fixtures: the real API over the real bootstrap, with sign-in helpers.

Every answer the ``client`` gets from a published operation is checked against the OpenAPI
document (status documented, body valid for its schema), so each end-to-end test also checks
that the successful responses match what the API publishes; the fuzz test covers odd input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app


@cache
def _published(spec: str) -> Any:
    import json

    return schemathesis.openapi.from_dict(json.loads(spec))


def _conforms(spec: Any) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        request = response.request
        operation = spec.find_operation_by_path(request.method, request.url.path)
        if operation is None:
            return  # pages, static files, /docs: not part of the published API
        response.read()
        try:
            request.read()  # schemathesis reports the request too; large uploads stream it
        except Exception:
            return  # a one-shot stream (generator) already sent: nothing to report it with
        try:
            operation.validate_response(response)
        except BaseExceptionGroup as exc:
            raise AssertionError(
                f"{request.method} {request.url.path} answered {response.status_code} "
                f"outside the published schema: {exc}\n{response.text[:500]}"
            ) from None

    return check


@pytest.fixture
def client(wired: App) -> Iterator[TestClient]:
    import json

    app = create_app(wired)
    spec = _published(json.dumps(app.openapi(), sort_keys=True))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.event_hooks = {"request": [], "response": [_conforms(spec)]}
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
