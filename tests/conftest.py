"""Shared fixtures: a seeded database per test on every configured backend.

SQLite always runs. PostgreSQL runs when DOORSTEP_TEST_PG_URL points at a server; in CI it is
required, and its absence fails the session instead of skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from doorstep.adapters.ids import FixedClock
from doorstep.adapters.payments.local import LocalPayments
from doorstep.bootstrap import App, build, migrate, seed_demo
from doorstep.config import Settings

# 09:00 in Shanghai on a Wednesday: same-day slots are still open.
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40
PG_URL = os.environ.get("DOORSTEP_TEST_PG_URL")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError(
            "CI needs PostgreSQL: DOORSTEP_TEST_PG_URL is not set (see scripts/pg-test-cluster)"
        )


def backends() -> list[str]:
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


def _settings(url: str) -> Settings:
    return Settings(env="test", database_url=url, secret_key=SECRET)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file that each test copies (seeding hashes passwords: slow)."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    app = build(_settings(f"sqlite:///{path}"), clock=FixedClock(T0))
    seed_demo(app)
    app.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database that each test clones with CREATE DATABASE."""
    assert PG_URL is not None
    name = f"doorstep_tpl_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    app = build(_settings(url), clock=FixedClock(T0), run_migrations=False)
    seed_demo(app)
    app.engine.dispose()
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_ADMIN: list[Engine] = []


def _admin(sql: str) -> None:
    # One engine for the session: a fresh engine and connection per statement cost ~50 ms,
    # twice for each PostgreSQL test (its database made, then dropped).
    assert PG_URL is not None
    if not _ADMIN:
        url = make_url(PG_URL).set(drivername="postgresql+psycopg")
        _ADMIN.append(create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1))
    with _ADMIN[0].connect() as conn:
        conn.execute(text(sql))


def pytest_unconfigure(config: pytest.Config) -> None:
    for engine in _ADMIN:
        engine.dispose()


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded demo database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    # Named after its test, so that a connection one test leaks and another test's garbage
    # collection reports (a ResourceWarning names the database) points at the leaking test.
    test = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40]
    name = f"doorstep_t_{test}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    assert PG_URL is not None
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def payments() -> LocalPayments:
    return LocalPayments()


@pytest.fixture
def wired(database_url: str, clock: FixedClock, payments: LocalPayments) -> Iterator[App]:
    app = build(_settings(database_url), clock=clock, payments=payments, run_migrations=False)
    yield app
    app.engine.dispose()


@pytest.fixture
def json_logs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Logging configured as in production (JSON on stderr); call the fixture's value for the
    lines logged so far, parsed. Logging is put back as it was afterwards."""
    import json
    import logging

    import structlog

    from doorstep.adapters.observability import logs

    root = logging.getLogger()
    level = root.level
    monkeypatch.setattr(logs, "_configured", None)
    logs.configure_logging("json", "INFO")
    capsys.readouterr()

    def lines() -> list[dict[str, Any]]:
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    yield lines
    for handler in [h for h in root.handlers if h.get_name() == "doorstep"]:
        root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()
