"""Schemathesis against our own OpenAPI spec: no input, however odd, gets a 500."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import build
from doorstep.config import Settings
from doorstep.entrypoints.api.app import create_app

# The account whose token each operation is called with, so calls reach the handlers instead
# of stopping at the role check: by path first (ops, partner, courier, warehouse and station
# paths sit under tags shared with buyers' paths), then by tag. An operation neither names
# fails the test rather than being fuzzed as the wrong role.
ROLE_FOR_PATH = {
    "/ops/": "ops1",
    "/partner/": "partner1",
    "/courier/": "courier5",
    "/warehouse/": "warehouse1",
    "/stations/": "station1",
    # Signed by the company, not by a token: any token reaches the signature check.
    "/carriers/": "buyer1",
}
ROLE_FOR_TAG = {
    "buyer": "buyer1",
    "pickup": "buyer1",
    "after-sales": "buyer1",
    "claims": "buyer1",
    "contactless": "buyer1",
    "disputes": "buyer1",
    "photos": "buyer1",
    "meta": "buyer1",
    "carriers": "buyer1",
    # Its own account: fuzzing /auth/logout revokes the token it is called with.
    "auth": "buyer4",
}


def role_for(path: str, tags: list[str]) -> str:
    """The account an operation is fuzzed as."""
    for prefix, user in ROLE_FOR_PATH.items():
        if path.startswith(prefix):
            return user
    if not tags or tags[0] not in ROLE_FOR_TAG:
        raise AssertionError(f"{path}: name its role in ROLE_FOR_PATH or ROLE_FOR_TAG ({tags})")
    return ROLE_FOR_TAG[tags[0]]


EXAMPLES_PER_OPERATION = 12
# No 500, and every answer is what the published OpenAPI document says: a documented status,
# its content type and headers, and a body that validates against its schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests.conftest import SECRET, T0  # type: ignore[import-not-found]

    target = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copy(sqlite_template, target)
    wired = build(
        Settings(env="test", database_url=f"sqlite:///{target}", secret_key=SECRET),
        clock=FixedClock(T0),
        run_migrations=False,
    )
    app = create_app(wired)
    with TestClient(app) as client:
        tokens = {}
        for user in {*ROLE_FOR_TAG.values(), *ROLE_FOR_PATH.values()}:
            r = client.post("/auth/token", data={"username": user, "password": f"demo-{user}"})
            tokens[user] = r.json()["access_token"]
    app.state.fuzz_tokens = tokens
    yield app
    wired.engine.dispose()


def test_no_request_produces_a_server_error(fuzz_app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    tokens = fuzz_app.state.fuzz_tokens  # type: ignore[attr-defined]
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        tags = operation.definition.raw.get("tags") or []
        fuzz = _fuzzer(operation, tokens[role_for(operation.path, tags)])
        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert operations >= 30, operations
    assert not failures, "\n\n".join(failures)


def _fuzzer(operation: Any, token: str) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    # Shrinking is off: a failing example is reported as found, and the run stays bounded.
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return fuzz  # type: ignore[no-any-return]
