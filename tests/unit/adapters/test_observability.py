"""Logs and metrics adapters: the log formats, and the ports wrapped to feed the metrics."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
import structlog
from prometheus_client import REGISTRY

from doorstep import bootstrap
from doorstep.adapters.observability import logs
from doorstep.adapters.observability.metrics import (
    CountedPayments,
    PrometheusTelemetry,
    TimedOffering,
    counting_booking,
    serve_metrics,
)
from doorstep.config import Settings
from doorstep.domain.errors import Conflict
from doorstep.entrypoints.api.observe import request_id
from doorstep.services.offering import OfferedSlot
from doorstep.services.ports import PaymentResult

Lines = Callable[[], list[dict[str, Any]]]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_json_lines_carry_the_bound_context_for_structlog_and_stdlib(json_logs: Lines) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-1", return_id="R-1")
    try:
        structlog.get_logger("doorstep.test").info("booked", slot="09:00")
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 7)
    finally:
        structlog.contextvars.clear_contextvars()
    ours, theirs = json_logs()[-2:]
    assert ours["event"] == "booked" and ours["slot"] == "09:00" and ours["level"] == "info"
    assert ours["request_id"] == "req-1" and ours["return_id"] == "R-1"
    assert ours["timestamp"].endswith("Z") and ours["logger"] == "doorstep.test"
    assert theirs["event"] == "Started server process [7]" and theirs["request_id"] == "req-1"


def test_console_format_is_for_people(json_logs: Lines, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure_logging("console", "INFO", force=True)
    structlog.get_logger("doorstep.test").info("booked", slot="09:00")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "booked" in line and "slot=09:00" in line and not line.startswith("{")


@pytest.mark.parametrize(
    ("env", "override", "expected"),
    [
        ("development", None, "console"),
        ("production", None, "json"),
        ("test", None, "json"),
        ("development", "json", "json"),
        ("production", "console", "console"),
    ],
)
def test_format_follows_the_environment_unless_set(
    monkeypatch: pytest.MonkeyPatch, env: str, override: str | None, expected: str
) -> None:
    chosen: list[tuple[str, str]] = []
    monkeypatch.setattr(logs, "configure_logging", lambda fmt, level: chosen.append((fmt, level)))
    settings = Settings(
        env=env,  # type: ignore[arg-type]
        secret_key="s" * 40,
        log_format=override,  # type: ignore[arg-type]
        payments="local",
        customs_broker_mode="pending",
        notifications="off",
    )
    bootstrap.configure_logging(settings)
    assert chosen == [(expected, "INFO")]


@pytest.mark.parametrize("good", ["abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 128])
def test_a_safe_request_id_is_kept(good: str) -> None:
    assert request_id(good) == good


@pytest.mark.parametrize(
    "bad", [None, "", "a" * 129, "has space", 'quo"te', "line\nbreak", "semi;colon", "é"]
)
def test_an_unsafe_request_id_is_replaced(bad: str | None) -> None:
    made = request_id(bad)
    assert made != bad and re.fullmatch("[0-9a-f]{32}", made)


class _Gateway:
    def __init__(self, answer: PaymentResult | Exception) -> None:
        self.answer = answer

    def refund(self, key: str, buyer_id: str, amount_fen: int, reference: str) -> PaymentResult:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_refunds_are_counted_paid_or_failed() -> None:
    paid, failed = (
        value("doorstep_refunds_total", outcome="paid"),
        value("doorstep_refunds_total", outcome="failed"),
    )
    ok = PaymentResult("ref-1", succeeded=True)
    assert CountedPayments(_Gateway(ok)).refund("k", "b", 100, "r") is ok
    CountedPayments(_Gateway(PaymentResult("", succeeded=False, retryable=True))).refund(
        "k", "b", 100, "r"
    )
    with pytest.raises(TimeoutError):
        CountedPayments(_Gateway(TimeoutError())).refund("k", "b", 100, "r")
    assert value("doorstep_refunds_total", outcome="paid") == paid + 1
    assert value("doorstep_refunds_total", outcome="failed") == failed + 2


def test_bookings_are_counted_booked_or_by_refusal_code() -> None:
    booked = value("doorstep_bookings_total", outcome="booked")
    full = value("doorstep_bookings_total", outcome="slot_full")
    other = value("doorstep_bookings_total", outcome="other")
    with counting_booking():
        pass
    with pytest.raises(Conflict), counting_booking():
        raise Conflict("slot_full", "full", "满")
    with pytest.raises(Conflict), counting_booking():
        raise Conflict("Not A Code!", "odd", "怪")
    assert value("doorstep_bookings_total", outcome="booked") == booked + 1
    assert value("doorstep_bookings_total", outcome="slot_full") == full + 1
    assert value("doorstep_bookings_total", outcome="other") == other + 1


class _Offering:
    route_aware = True

    def offer(self, *args: object) -> list[OfferedSlot]:
        return []


def test_offers_and_planner_runs_are_timed() -> None:
    offers = value("doorstep_slot_offer_seconds_count")
    runs = value("doorstep_planner_run_seconds_count")
    timed = TimedOffering(_Offering())  # type: ignore[arg-type]
    assert timed.route_aware is True
    now = datetime.now().astimezone()
    assert timed.offer(None, None, None, None, now, None) == []  # type: ignore[arg-type]
    PrometheusTelemetry().planner_run(0.25)
    assert value("doorstep_slot_offer_seconds_count") == offers + 1
    assert value("doorstep_planner_run_seconds_count") == runs + 1
    assert value("doorstep_planner_run_seconds_sum") >= 0.25


def test_json_renderer_output_is_one_line_per_record(json_logs: Lines) -> None:
    structlog.get_logger("doorstep.test").info("multi\nline")
    assert json.dumps(json_logs()[-1]["event"]) == '"multi\\nline"'


def test_the_standalone_worker_can_answer_prometheus_on_its_own_port() -> None:
    server = serve_metrics("127.0.0.1", 0)
    try:
        port = server.server_address[1]
        r = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert r.status_code == 200 and "doorstep_worker_sweep_seconds_bucket" in r.text
    finally:
        server.shutdown()
        server.server_close()


def test_a_uvicorn_configured_earlier_logs_through_ours(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The browser tests' live server runs uvicorn's own logging config first: its loggers get
    # their own handlers, WARNING level and propagate=False, so our lines would miss them.
    import uvicorn

    uvicorn.Config(lambda *a: None, log_level="warning").configure_logging()
    monkeypatch.setattr(logs, "_configured", None)
    root = logging.getLogger()
    level = root.level
    try:
        logs.configure_logging("json", "INFO")
        capsys.readouterr()
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 9)
        err = capsys.readouterr().err
        found = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
        assert [x["event"] for x in found] == ["Started server process [9]"]
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "doorstep"]:
            root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()
