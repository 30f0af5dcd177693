"""The sandbox courier company and its command refuse inputs beyond what a company sends
(a 422 or a usage error, never a 500 or a traceback)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from doorstep.entrypoints.cli import app as cli
from doorstep.sandbox_carrier.app import create_app

KEY = "sandbox-key-" + "k" * 20


@pytest.fixture
def company() -> TestClient:
    return TestClient(create_app(api_key=KEY, callback_secret="s" * 32))


def test_an_overlong_key_or_order_number_is_refused(company: TestClient) -> None:
    with company:
        assert company.get("/api/orders/NONE", headers={"X-Api-Key": KEY}).status_code == 404
        long_key = company.get("/api/orders/NONE", headers={"X-Api-Key": "k" * 201})
        assert long_key.status_code == 422, long_key.text
        number = "N" * 81
        for method, path in (
            ("GET", f"/api/orders/{number}"),
            ("POST", f"/api/orders/{number}/cancel"),
        ):
            r = company.request(method, path, headers={"X-Api-Key": KEY})
            assert r.status_code == 422, (path, r.text)
        r = company.post(f"/sandbox/orders/{number}/advance", json={"to": "ACCEPTED"})
        assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "field", [{"pickupDate": "x" * 10_000}, {"pickupStart": "9"}, {"pickupEnd": "25:000"}]
)
def test_an_advance_with_a_malformed_window_is_refused(
    company: TestClient, field: dict[str, str]
) -> None:
    with company:
        r = company.post("/sandbox/orders/N1/advance", json={"to": "RESCHEDULED", **field})
        assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-create", "sometimes"],
        ["--api-key", "k" * 201],
        ["--callback-secret", ""],
        ["--callback-secret", "秘密"],
    ],
)
def test_the_command_refuses_bad_options_before_starting(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["sandbox-carrier", *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
