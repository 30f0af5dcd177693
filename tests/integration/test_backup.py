"""Backups as docs/deploy.md tells them: pg_dump, restore into an empty database, serve from it."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.integration.test_routing import TOMORROW, returns_at, ring  # type: ignore[import-not-found]

from doorstep.bootstrap import App, build, migrate
from doorstep.entrypoints.api.app import create_app
from doorstep.entrypoints.queue import ensure_schema
from doorstep.services import pickup

TABLES = ("returns", "appointments", "slot_capacity", "routes", "events", "orders", "users")

# A hung pg_dump, pg_restore or psql fails the test instead of stalling CI.
TOOL_TIMEOUT_S = 120


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _counts(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def test_a_dump_restored_into_an_empty_database_serves(wired: App, tmp_path: Path) -> None:
    url = wired.settings.database_url
    if make_url(url).get_backend_name() != "postgresql":
        pytest.skip("pg_dump backs up PostgreSQL; SQLite is the single-file demo")
    for tool in ("pg_dump", "pg_restore", "psql"):
        assert shutil.which(tool), f"{tool} is needed (Debian's postgresql-client)"
    ensure_schema(url)  # the dump carries the job queue's tables too
    (rid,) = returns_at(wired, ring(1, 1.0))
    appt = pickup.book_pickup(
        wired.services, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(15))
    )
    dump = tmp_path / "doorstep.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq(url)],
        check=True,
        timeout=TOOL_TIMEOUT_S,
    )

    name = f"doorstep_restore_{uuid.uuid4().hex[:8]}"
    admin = _libpq(make_url(url).set(database="postgres").render_as_string(False))
    subprocess.run(
        ["psql", "-X", "-q", admin, "-c", f'CREATE DATABASE "{name}"'],
        check=True,
        timeout=TOOL_TIMEOUT_S,
    )
    restored_url = make_url(url).set(database=name).render_as_string(False)
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_libpq(restored_url)}",
                str(dump),
            ],
            check=True,
            timeout=TOOL_TIMEOUT_S,
        )
        migrate(restored_url)  # already at head: the upgrade step is a no-op
        restored = build(
            wired.settings.model_copy(update={"database_url": restored_url}),
            clock=wired.services.clock,
            run_migrations=False,
        )
        try:
            assert _counts(restored) == _counts(wired)
            with TestClient(create_app(restored), raise_server_exceptions=False) as client:
                assert client.get("/readyz").status_code == 200
                token = client.post(
                    "/auth/token", data={"username": "buyer1", "password": "demo-buyer1"}
                ).json()["access_token"]
                got = client.get(f"/returns/{rid}", headers={"Authorization": f"Bearer {token}"})
                assert got.status_code == 200
                assert got.json()["appointment_id"] == appt.appointment_id
        finally:
            restored.engine.dispose()
    finally:
        subprocess.run(
            ["psql", "-X", "-q", admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=True,
            timeout=TOOL_TIMEOUT_S,
        )
