"""Two API processes and two queue workers on one PostgreSQL, with processes killed mid-work.

Bookings and returns go to both API processes at once. One worker is SIGKILLed while it
re-plans a carrier-day, one API process while bookings stream into it (clients send what got
no answer to the other, as a load balancer would). Afterwards: every acknowledged booking is
stored, the killed re-plan was queued again and done once, the slot counters equal the visits
holding them, every other invariant of the race suite holds, and no route breaks a promise.

PostgreSQL only (the job queue needs it); in CI the conftest refuses to run without it.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url
from tests.integration.races import RecordingPayments, violations  # type: ignore[import-not-found]

from doorstep.bootstrap import build, migrate, seed_demo
from doorstep.config import Settings
from doorstep.domain.clock import SHANGHAI
from doorstep.entrypoints.queue import ensure_schema
from doorstep.services import routing

ROOT = Path(__file__).resolve().parents[2]


def _load_bench() -> ModuleType:
    """bench/load.py prepares data through the API; it is a script, not a package."""
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
Api, Plan = bench.Api, bench.Plan
PG_URL = os.environ.get("DOORSTEP_TEST_PG_URL")
SECRET = "topology-secret-" + "y" * 40
RETURNS = 48  # opened half at each API process, then booked half at each
KILL_API_AFTER = 8  # bookings the doomed API process acknowledges before it is killed

pytestmark = pytest.mark.skipif(
    not PG_URL and not os.environ.get("CI"), reason="needs DOORSTEP_TEST_PG_URL (PostgreSQL)"
)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test server, migrated and seeded with the demo data."""
    assert PG_URL, "CI runs the topology test on PostgreSQL: set DOORSTEP_TEST_PG_URL"
    name = f"doorstep_topo_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(False)
    migrate(url)
    ensure_schema(url)
    app = build(Settings(env="test", database_url=url, secret_key=SECRET), run_migrations=False)
    seed_demo(app)
    app.engine.dispose()
    yield url
    with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    """The child processes of one topology, their output in files; all stopped at the end."""

    def __init__(self, url: str, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "DOORSTEP_DATABASE_URL": url,
            "DOORSTEP_ENV": "test",
            "DOORSTEP_SECRET_KEY": SECRET,
            "DOORSTEP_LOG_FORMAT": "json",
            "DOORSTEP_DB_POOL_SIZE": "8",
            # Quick to notice a dead worker, so the test does not wait a minute.
            "DOORSTEP_QUEUE_HEARTBEAT_S": "1",
            "DOORSTEP_QUEUE_STALLED_AFTER_S": "4",
        }
        redis = os.environ.get("DOORSTEP_TEST_REDIS_URL")
        if redis:  # attempt limits shared by both API processes, as deployed
            self.env["DOORSTEP_RATE_LIMIT_STORAGE"] = redis

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen(
                # The interpreter itself, not `uv run`: a SIGKILL must reach the process
                # that does the work, not a launcher that would leave it running.
                [sys.executable, "-m", "doorstep.entrypoints.cli", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = proc
        return proc

    def api(self, name: str) -> str:
        port = _free_port()
        proc = self.start(name, "serve", "--port", str(port), "--worker-every", "0")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert proc.poll() is None, self.log(name)
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{name} not ready: {self.log(name)}")

    def log(self, name: str) -> str:
        text = (self.logs / f"{name}.log").read_text(errors="replace")
        lines = [line for line in text.splitlines() if '"event":"request"' not in line]
        return "\n".join(lines)[-6000:]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def _wait(what: str, check: Any, timeout_s: float = 240) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_ids(url: str) -> set[int]:
    return {row[0] for row in _query(url, "SELECT id FROM procrastinate_workers")}


def test_two_apis_two_workers_survive_kills(database: str, tmp_path: Path) -> None:
    url = make_url(database).set(drivername="postgresql").render_as_string(False)
    procs = Processes(database, tmp_path)
    try:
        _run(procs, url, database)
    except BaseException:
        for name in procs.procs:  # shown with the failure: what each process said last
            print(f"===== {name} =====\n{procs.log(name)}")
        raise
    finally:
        procs.stop_all()


def _run(procs: Processes, url: str, database: str) -> None:
    apis = [Api(procs.api("api1")), Api(procs.api("api2"))]
    try:
        _drive(procs, url, database, apis)
    finally:
        for api in apis:
            api.client.close()


def _drive(procs: Processes, url: str, database: str, apis: list[Any]) -> None:
    procs.start("worker_a", "worker", "--every", "2")
    worker_a = _wait("worker A to register", lambda: _worker_ids(url))
    procs.start("worker_b", "worker", "--every", "2")
    _wait("worker B to register", lambda: len(_worker_ids(url)) == 2)
    (a_id,) = worker_a

    for api in apis:
        for user in ("ops1", "buyer1", "buyer2", "buyer3"):
            api.login(user)
    centres = bench.raise_capacities(apis[0])
    bench.import_product(apis[0])
    areas = tuple(sorted(centres)[:2])
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    plan = Plan(areas, (tomorrow,))
    bench.add_bench_fleet(database, plan, centres, 3)
    orders = bench.import_orders(apis[0], [areas[i % 2] for i in range(RETURNS)], centres, "TOPO")
    buyer_of = dict(orders)
    # Returns opened at both API processes at once.
    halves = [orders[0::2], orders[1::2]]
    with ThreadPoolExecutor(2) as pool:
        opened = list(pool.map(lambda i: bench.open_returns(apis[i], halves[i], 3), (0, 1)))
    return_ids = [
        (rid, buyer_of[order_id])
        for half, rids in zip(halves, opened, strict=True)
        for (order_id, _), rid in zip(half, rids, strict=True)
    ]

    killed_job: list[int] = []

    def kill_worker_mid_replan() -> None:
        sql = (
            "SELECT id FROM procrastinate_jobs WHERE status = 'doing' "
            "AND task_name = 'plan_carrier_day' AND worker_id = %s"
        )
        found = _wait("worker A to re-plan", lambda: _query(url, sql, a_id))
        procs.procs["worker_a"].send_signal(signal.SIGKILL)
        killed_job.append(found[0][0])

    killer = threading.Thread(target=kill_worker_mid_replan)
    killer.start()

    acknowledged: dict[str, str] = {}  # appointment id -> return id
    lock = threading.Lock()
    api2_acks = [0]

    def book(item: tuple[int, tuple[str, str]]) -> None:
        i, (return_id, buyer) = item
        side = i % 2
        for attempt in range(60):
            _, body = plan.booking_body(i + attempt)
            api = apis[side]
            try:
                r = api.call("POST", f"/returns/{return_id}/pickup", buyer, body)
            except httpx.HTTPError:
                side = 0  # that process is gone: the client tries the other one
                continue
            if r.status_code == 201:
                with lock:
                    acknowledged[r.json()["appointment_id"]] = return_id
                    if side == 1:
                        api2_acks[0] += 1
                        if api2_acks[0] == KILL_API_AFTER:
                            procs.procs["api2"].send_signal(signal.SIGKILL)
                return
            code = r.json().get("code", "")
            if code == "not_bookable":
                return  # the booking sent to the killed process got in after all
            time.sleep(0.05)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(book, enumerate(return_ids)))
    killer.join(timeout=300)
    assert killed_job, procs.log("worker_a")
    assert procs.procs["api2"].poll() == -signal.SIGKILL
    assert len(acknowledged) >= RETURNS // 2

    # The killed re-plan comes back once worker A's heartbeat is stale, and B does it.
    def requeued_and_done() -> bool:
        rows = _query(
            url,
            "SELECT status::text, attempts FROM procrastinate_jobs WHERE id = %s",
            killed_job[0],
        )
        return rows[0][0] == "succeeded"

    _wait("the killed re-plan to be done", requeued_and_done, timeout_s=300)
    (attempts,) = _query(
        url, "SELECT attempts FROM procrastinate_jobs WHERE id = %s", killed_job[0]
    )
    assert attempts[0] >= 2
    # Let worker B finish what it holds, then stop everything but the checks.
    procs.procs["worker_b"].send_signal(signal.SIGTERM)
    assert procs.procs["worker_b"].wait(timeout=180) == 0, procs.log("worker_b")
    procs.stop_all()

    stored = {
        row[0]: row[1] for row in _query(url, "SELECT appointment_id, status FROM appointments")
    }
    missing = [a for a in acknowledged if a not in stored]
    assert missing == []
    assert {stored[a] for a in acknowledged} <= {"booked", "assigned"}
    left = _query(
        url,
        "SELECT task_name, status::text FROM procrastinate_jobs WHERE status "
        "IN ('doing', 'failed')",
    )
    assert left == []
    app = build(
        Settings(env="test", database_url=database, secret_key=SECRET), run_migrations=False
    )
    try:
        assert violations(app, RecordingPayments()) == []
        days = routing.carrier_days_to_plan(app.services, routing.TodayReplan.ALWAYS)
        assert days
        broken = {
            (carrier, day.isoformat()): routing.check_routes(app.services, carrier, day)
            for carrier, day in days
        }
        assert {k: v for k, v in broken.items() if v} == {}
    finally:
        app.engine.dispose()
