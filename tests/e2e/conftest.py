"""HTTP fixtures: the real API over the real bootstrap, with sign-in helpers.

Every answer the ``client`` gets from a published operation is checked against the OpenAPI
document (status documented, body valid for its schema), so each end-to-end test also checks
that the successful responses match what the API publishes; the fuzz test covers odd input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app

# The published document of each route table the suite builds. FastAPI makes it again for every
# new app (~0.8 s of CPU, for each of the few hundred tests that take a ``client``), yet the
# routers are module-level and no setting adds or changes a route: apps with the same routes
# publish the same document. An app whose routes differ gets its own.
_SPECS: dict[tuple[tuple[Any, ...], ...], Any] = {}


def _route_table(app: FastAPI) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        (
            getattr(route, "path", ""),
            tuple(sorted(getattr(route, "methods", None) or ())),
            route.name if hasattr(route, "name") else "",
            getattr(route, "response_model", None),
            getattr(route, "include_in_schema", None),
        )
        for route in app.routes
    )


def _published(app: FastAPI) -> Any:
    """The app's published OpenAPI document, for schemathesis (made once per route table)."""
    import json

    key = _route_table(app)
    if key not in _SPECS:
        # A copy: schemathesis must not touch the dict the app serves.
        _SPECS[key] = schemathesis.openapi.from_dict(json.loads(json.dumps(app.openapi())))
    return _SPECS[key]


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
    app = create_app(wired)
    spec = _published(app)
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
