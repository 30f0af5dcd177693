"""Liveness costs nothing and never depends on the database; readiness asks it once."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.e2e.test_observability import wait_ready  # type: ignore[import-not-found]

from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.entrypoints.api.app import create_app

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    # Bound and never listened on: connecting is refused at once, like a database that is down.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db_down() -> Iterator[TestClient]:
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"
    settings = Settings(env="test", database_url=url, secret_key="k" * 40, db_connect_timeout_s=1)
    wired = build(settings, run_migrations=False)
    with TestClient(create_app(wired), raise_server_exceptions=False) as client:
        yield client
    wired.engine.dispose()


def test_healthz_answers_with_the_database_down(db_down: TestClient) -> None:
    r = db_down.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_is_503_with_the_database_down(db_down: TestClient) -> None:
    r = db_down.get("/readyz")
    assert r.status_code == 503
    assert r.json()["code"] == "database_unavailable"


def test_a_request_needing_the_database_is_503_not_500_when_it_is_down(
    db_down: TestClient,
) -> None:
    r = db_down.post("/auth/token", data={"username": "buyer1", "password": "demo-buyer1"})
    assert r.status_code == 503
    assert r.json()["code"] == "database_busy"
    assert r.headers["retry-after"] == "1"


def test_healthz_runs_no_statement_and_readyz_answers(wired: App, client: TestClient) -> None:
    statements: list[str] = []

    @event.listens_for(wired.engine, "before_cursor_execute")
    def _count(_c: object, _cur: object, sql: str, *_a: object) -> None:
        statements.append(sql)

    assert client.get("/healthz").status_code == 200
    assert statements == []
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_serve_with_two_worker_processes(tmp_path: Path) -> None:
    port = _closed_port()
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": f"sqlite:///{tmp_path}/workers.db",
        "DOORSTEP_PORT": str(port),
        "DOORSTEP_ENV": "development",
    }
    cmd = ["uv", "run", "--frozen", "doorstep", "serve", "--workers", "2", "--worker-every", "0"]
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(server, base)
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/openapi.json").status_code == 200
    finally:
        server.terminate()
        try:
            out, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    # uvicorn's supervisor names each worker process it started.
    assert out.count("Started server process") >= 2, out
