"""Attempt limits kept in the database (adapters/auth/sql_limits.py) on SQLite and PostgreSQL:
parallel hits on one key admit exactly the limit, and the table says so afterwards."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from tests.conftest import SECRET, T0  # type: ignore[import-not-found]
from tests.e2e.test_abuse import (  # type: ignore[import-not-found]
    test_pickup_code_tries_are_limited as pickup_code_tries_are_limited,
)
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]
from tests.integration.test_throttle_redis import (  # type: ignore[import-not-found]
    test_sign_in_limits_hold_across_api_processes as sign_in_limits_hold_across_api_processes,
)

from doorstep.adapters.auth import LimitsThrottle
from doorstep.adapters.auth.sql_limits import SqlLimitsStorage
from doorstep.adapters.db.tables import rate_limits
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.entrypoints import jobs
from doorstep.entrypoints.api.app import create_app

RULES = {"tries": "5/minute", "double": "3/second;7/minute"}


def _throttle(wired: App) -> tuple[LimitsThrottle, SqlLimitsStorage]:
    storage = SqlLimitsStorage(wired.engine)
    return LimitsThrottle(storage, RULES, remember_s={"known": 60}), storage


def _stored_hits(wired: App) -> dict[str, int]:
    with wired.engine.connect() as conn:
        rows = conn.execute(select(rate_limits.c.key, rate_limits.c.hits)).all()
    return {key: len(hits) for key, hits in rows}


def test_parallel_hits_on_one_key_admit_exactly_the_limit(wired: App) -> None:
    throttle, _ = _throttle(wired)
    out = race([lambda: throttle.hit("tries", "buyer|10.0.0.1") for _ in range(RACERS)])
    admitted = [w for w in out.won if w is None]
    waits = [w for w in out.won if w is not None]
    assert len(admitted) == 5
    assert len(waits) == RACERS - 5 and all(1 <= w <= 60 for w in waits)
    # In SQL: the key's window holds exactly the admitted hits.
    [(key, count)] = _stored_hits(wired).items()
    assert "tries" in key and count == 5
    assert throttle.check("tries", "buyer|10.0.0.1") is not None
    assert throttle.check("tries", "other|10.0.0.1") is None


def test_a_rule_of_two_limits_counts_each_in_its_own_row(wired: App) -> None:
    throttle, _ = _throttle(wired)
    out = race([lambda: throttle.hit("double", "k") for _ in range(RACERS)])
    # The per-second limit admits 3 (the racers start within a second; any later second
    # admits more, up to the per-minute 7).
    admitted = sum(1 for w in out.won if w is None)
    assert 3 <= admitted <= 7
    counts = sorted(_stored_hits(wired).values())
    assert counts[-1] == admitted  # the per-minute window holds every admitted hit
    assert counts[0] <= 3  # the per-second window never more than its limit


def test_clear_remember_and_purge(wired: App) -> None:
    throttle, storage = _throttle(wired)
    for _ in range(5):
        assert throttle.hit("tries", "a") is None
    assert throttle.hit("tries", "a") is not None
    throttle.clear("tries", "a")
    assert throttle.hit("tries", "a") is None
    assert not throttle.remembers("known", "pair")
    throttle.remember("known", "pair")
    throttle.remember("known", "pair")  # renewed, not doubled into something else
    assert throttle.remembers("known", "pair")
    assert storage.get_expiry("doorstep/memo/known/pair") > time.time()
    # Nothing is purged while it still counts; everything once it has expired.
    assert throttle.forget_expired() == 0
    assert storage.purge_expired(time.time() + 3600) == 2
    assert not throttle.remembers("known", "pair")
    assert throttle.check("tries", "a") is None


@pytest.mark.parametrize("limit", [1, 2])
def test_a_hit_above_the_limit_is_refused_without_a_write(wired: App, limit: int) -> None:
    _, storage = _throttle(wired)
    assert not storage.acquire_entry("k", limit, 60, amount=limit + 1)
    assert storage.acquire_entry("k", limit, 60, amount=limit)
    assert not storage.acquire_entry("k", limit, 60)
    start, count = storage.get_moving_window("k", limit, 60)
    assert count == limit and start <= time.time()


def _database_limits(database_url: str) -> App:
    settings = Settings(
        env="test", database_url=database_url, secret_key=SECRET, rate_limit_storage="database://"
    )
    return build(settings, clock=FixedClock(T0), run_migrations=False)


def test_wired_through_the_settings_on_postgresql_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        # On SQLite a wrong pickup code is counted while the visit holds the one write lock.
        with pytest.raises(ValidationError, match="PostgreSQL"):
            _database_limits(database_url)
        return
    # Two API processes count one account's failed sign-ins together (the Redis test's
    # journey, with database:// in place of the Redis URL) ...
    sign_in_limits_hold_across_api_processes(database_url, "database://")
    # ... and a courier's wrong pickup codes are counted while the visit's transaction holds
    # its route row (the limits' own connections: no wait on the main pool).
    app = _database_limits(database_url)
    try:
        with TestClient(create_app(app), client=("198.51.100.6", 40000)) as c:

            def login(username: str) -> dict[str, str]:
                r = c.post(
                    "/auth/token", data={"username": username, "password": f"demo-{username}"}
                )
                assert r.status_code == 200, r.text
                return {"Authorization": f"Bearer {r.json()['access_token']}"}

            pickup_code_tries_are_limited(c, login)
        with app.engine.connect() as conn:
            keys = conn.execute(select(rate_limits.c.key)).scalars().all()
        assert any("/pickup_code/" in k for k in keys) and any("/sign_in." in k for k in keys)
        # The worker's sweep keeps what still counts.
        assert jobs.SWEEPS["attempt_limits"](app) == {"attempts_forgotten": 0}
    finally:
        app.engine.dispose()
