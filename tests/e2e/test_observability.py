"""Request ids, request logs and /metrics over the real app."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from tests.e2e.test_journey import open_return  # type: ignore[import-not-found]

from doorstep.bootstrap import App, build
from doorstep.config import Settings
from doorstep.domain.clock import local
from doorstep.entrypoints.api.app import create_app
from doorstep.entrypoints.worker import run_worker

Lines = Callable[[], list[dict[str, Any]]]
Login = Callable[[str], dict[str, str]]
GENERATED = re.compile(r"[0-9a-f]{32}")
LATENCY = "doorstep_http_request_duration_seconds"
ROOT = Path(__file__).resolve().parents[2]


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample /metrics exposes, by name and labels."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def count(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_the_callers_request_id_is_echoed(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "trace-0001.a:b"})
    assert r.headers["x-request-id"] == "trace-0001.a:b"


def test_a_request_id_is_generated_when_none_is_sent(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(GENERATED.fullmatch(i) for i in ids)


@pytest.mark.parametrize("bad", [b"a" * 129, b"two words", b"<script>", b"caf\xe9", b""])
def test_an_unsafe_request_id_is_replaced(client: TestClient, bad: bytes) -> None:
    r = client.get("/healthz", headers=[(b"X-Request-ID", bad)])
    assert GENERATED.fullmatch(r.headers["x-request-id"])


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    r = client.get("/returns/R-nope", headers={"X-Request-ID": "req-401"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "req-401"


def test_json_log_lines_carry_the_request_and_return_ids(wired: App, json_logs: Lines) -> None:
    app = create_app(wired)

    @app.get("/probe/{return_id}")
    def probe(return_id: str) -> dict[str, str]:
        # A sync route runs in a worker thread: the bound ids must follow it there.
        structlog.get_logger("doorstep.probe").info("inside_the_route")
        return {}

    with TestClient(app) as client:
        assert client.get("/probe/R-42", headers={"X-Request-ID": "req-json-1"}).status_code == 200
    lines = [line for line in json_logs() if line.get("request_id") == "req-json-1"]
    inside = next(line for line in lines if line["event"] == "inside_the_route")
    request = next(line for line in lines if line["event"] == "request")
    assert inside["return_id"] == "R-42"
    assert request["return_id"] == "R-42" and request["route"] == "/probe/{return_id}"
    assert request["method"] == "GET" and request["status"] == 200
    assert request["path"] == "/probe/R-42" and request["duration_ms"] >= 0


def test_metrics_expose_latency_by_route_template_and_status_class(client: TestClient) -> None:
    before = samples(client)
    for _ in range(3):
        client.get("/healthz")
    for rid in ("R-1", "R-2"):
        client.get(f"/returns/{rid}")
    after = samples(client)
    healthz = {"method": "GET", "route": "/healthz", "status": "2xx"}
    by_id = {"method": "GET", "route": "/returns/{return_id}", "status": "4xx"}
    assert (
        count(after, f"{LATENCY}_count", **healthz)
        == count(before, f"{LATENCY}_count", **healthz) + 3
    )
    assert (
        count(after, f"{LATENCY}_count", **by_id) == count(before, f"{LATENCY}_count", **by_id) + 2
    )
    assert count(after, f"{LATENCY}_bucket", **healthz, le="+Inf") >= 3
    assert count(after, f"{LATENCY}_sum", **healthz) > 0


def test_unknown_paths_share_one_label(client: TestClient) -> None:
    for n in range(5):
        assert client.get(f"/no/such/page-{n}").status_code == 404
    client.get("/static/web.css")
    found = samples(client)
    routes = {dict(labels).get("route") for name, labels in found if name.startswith(LATENCY)}
    assert not any("page-" in str(r) or "R-" in str(r) for r in routes), routes
    unmatched = {"method": "GET", "route": "unmatched", "status": "4xx"}
    assert count(found, f"{LATENCY}_count", **unmatched) >= 5
    assert "/static/{path}" in routes


def test_metrics_answer_without_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/doorstep.db"  # cannot be opened
    wired = build(Settings(env="test", database_url=url, secret_key="k" * 40), run_migrations=False)
    with TestClient(create_app(wired), raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 503
        r = client.get("/metrics")
        assert r.status_code == 200 and f"{LATENCY}_bucket" in r.text


def test_bookings_offers_plans_and_sweeps_are_counted(
    client: TestClient, login: Login, wired: App
) -> None:
    buyer = login("buyer1")
    before = samples(client)
    rid = open_return(client, buyer, "TM2026000101", "L1")["return_id"]
    slots = client.get(f"/returns/{rid}/slots", headers=buyer).json()["slots"]
    # A later day: the worker leaves today's driven routes, all on a route, to bookings.
    today = local(wired.services.clock.now()).date().isoformat()
    first = next(s for s in slots if s["day"] > today)
    choice = {"carrier_id": first["carrier_id"], "day": first["day"], "start": first["start"]}
    assert client.post(f"/returns/{rid}/pickup", headers=buyer, json=choice).status_code == 201
    again = client.post(f"/returns/{rid}/pickup", headers=buyer, json=choice)
    assert again.status_code == 409 and again.json()["code"] == "not_bookable"
    run_worker(wired, every_s=60, once=True)
    after = samples(client)

    def grew(name: str, **labels: str) -> float:
        return count(after, name, **labels) - count(before, name, **labels)

    assert grew("doorstep_bookings_total", outcome="booked") == 1
    assert grew("doorstep_bookings_total", outcome="not_bookable") == 1
    assert grew("doorstep_slot_offer_seconds_count") >= 1
    assert grew("doorstep_planner_run_seconds_count") >= 1
    assert grew("doorstep_worker_sweep_seconds_count", outcome="ok") == 1


@pytest.mark.slow
def test_serve_with_workers_sums_metrics_over_processes_and_logs_json(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    port = _free_port()
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": f"sqlite:///{tmp_path}/procs.db",
        "DOORSTEP_PORT": str(port),
        "DOORSTEP_ENV": "development",
        "DOORSTEP_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    cmd = ["uv", "run", "--frozen", "doorstep", "serve", "--workers", "2", "--worker-every", "0"]
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(server, base)
        before = _healthz_count(httpx.get(f"{base}/metrics").text)
        for n in range(20):  # a new connection each: the kernel spreads them over the workers
            httpx.get(f"{base}/healthz", headers={"X-Request-ID": f"proc-{n}"})
        # Whichever process answers the scrape reports every process's requests.
        for _ in range(4):
            assert _healthz_count(httpx.get(f"{base}/metrics").text) == before + 20
    finally:
        server.terminate()
        try:
            out, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            out, _ = server.communicate()
    # The parent (background sweeps) and both workers each keep their own sample files.
    pids = {p.stem.rsplit("_", 1)[-1] for p in metrics_dir.glob("*.db")}
    assert len(pids) >= 3, sorted(metrics_dir.iterdir())
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("request_id") == "proc-7"]
    assert [(line["event"], line["route"], line["status"]) for line in logged] == [
        ("request", "/healthz", 200)
    ], out[-2000:]
    assert any("Started server process" in line["event"] for line in lines), out[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(server: subprocess.Popen[str], base: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


def _healthz_count(text: str) -> float:
    wanted = {"method": "GET", "route": "/healthz", "status": "2xx"}
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == f"{LATENCY}_count" and s.labels == wanted
    )


def test_a_sweep_that_crashes_is_counted_and_logged(
    wired: App, json_logs: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus_client import REGISTRY

    from doorstep.services import routing

    def broken(*_: object) -> None:
        raise RuntimeError("planner exploded")

    monkeypatch.setattr(routing, "carrier_days_to_plan", broken)
    name, labels = "doorstep_worker_sweep_seconds_count", {"outcome": "failed"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    # The loop goes on (the next sweep may find the planner well); the refund jobs still ran.
    run_worker(wired, every_s=60, once=True)
    assert REGISTRY.get_sample_value(name, labels) == before + 1
    logged = json_logs()
    crashed = [line for line in logged if line["event"] == "job_failed"]
    assert crashed and "planner exploded" in crashed[0]["exception"]
    assert {line.get("job") for line in logged if line["event"] == "job_done"} >= {
        "refund_retry",
        "refund_overdue",
    }
