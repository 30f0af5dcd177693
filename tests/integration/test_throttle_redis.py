"""Attempt limits held in Redis hold across API processes (SQLite and PostgreSQL).

Redis comes from DOORSTEP_TEST_REDIS_URL (.ci/run starts one) or from Debian's
``redis-server`` started here; in CI its absence fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.entrypoints.api.app import create_app
from doorstep.services import courier

SECRET = "test-secret-" + "x" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis URL: the one CI started, or a throwaway server on a free loopback port."""
    if url := os.environ.get("DOORSTEP_TEST_REDIS_URL"):
        yield url
        return
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        message = "redis-server is missing (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield url
    server.terminate()
    server.wait(timeout=15)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


def _process(database_url: str, redis_url: str) -> App:
    settings = Settings(
        env="test", database_url=database_url, secret_key=SECRET, rate_limit_storage=redis_url
    )
    from tests.conftest import T0  # type: ignore[import-not-found]

    return build(settings, clock=FixedClock(T0), run_migrations=False)


def test_sign_in_limits_hold_across_api_processes(database_url: str, redis_url: str) -> None:
    one, two = _process(database_url, redis_url), _process(database_url, redis_url)
    address = ("198.51.100.5", 40000)
    try:
        with (
            TestClient(create_app(one), client=address) as a,
            TestClient(create_app(two), client=address) as b,
        ):
            wrong = {"username": "buyer1", "password": "wrong"}
            statuses = [c.post("/auth/token", data=wrong).status_code for c in (a, b, a, b, a)]
            assert statuses == [401] * 5
            for c in (a, b):
                r = c.post("/auth/token", data={"username": "buyer1", "password": "demo-buyer1"})
                assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_pickup_code_tries_are_shared_with_another_os_process(
    database_url: str, redis_url: str
) -> None:
    app = _process(database_url, redis_url)
    app.engine.dispose()
    # Another interpreter spends the five tries of appointment A-1 ...
    script = (
        "import sys\n"
        "from doorstep.bootstrap import make_throttle\n"
        "from doorstep.config import Settings\n"
        "t = make_throttle(Settings(env='test', secret_key='s'*40, rate_limit_storage=sys.argv[1]))\n"
        "print([t.hit('pickup_code', 'A-1') for _ in range(5)])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, redis_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == "[None, None, None, None, None]"
    # ... and this one sees them spent.
    wait = app.services.throttle.hit(courier.PICKUP_CODE, "A-1")
    assert wait is not None and 1 <= wait <= 600
    assert app.services.throttle.check(courier.PICKUP_CODE, "A-2") is None
