"""The pure parts of bench/load.py: reading wrk and pgbench, the summary and the ratios."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


@pytest.fixture(scope="module")
def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:8000
  2 threads and 32 connections
Requests/sec:    133.30
WRKJSON {"duration_us":15000000,"requests":2000,"wraps":0,"latency_us":{"p50":120000,\
"p90":300000,"p99":900000,"max":1200000,"mean":150000.0},"socket_errors":{"connect":0,\
"read":0,"write":0,"timeout":2},"statuses":{"201":1500,"409":450,"503":50},\
"codes":{"409:stale_write":400,"409:slot_not_offered":50,"503:database_busy":50}}
"""

PGBENCH_OUTPUT = """pgbench (15.10 (Debian 15.10-0+deb12u1))
transaction type: /tmp/booking_writes.sql
number of clients: 32
number of transactions actually processed: 61234
number of failed transactions: 0 (0.000%)
latency average = 7.812 ms
initial connection time = 40.123 ms
tps = 4082.266981 (without initial connection time)
"""


def test_wrk_summary_counts_every_outcome(load: ModuleType) -> None:
    wrk = load.parse_wrk(WRK_OUTPUT)
    s = load.summarize(wrk, distinct=True, sessions_opened=3)
    assert s["req_per_s"] == pytest.approx(133.3, abs=0.1)
    assert s["ok_per_s"] == 100.0
    assert s["ok_share"] == 0.75
    assert (s["p50_ms"], s["p99_ms"]) == (120.0, 900.0)
    assert s["non_2xx"] == {"409": 450, "503": 50}
    assert list(s["errors_by_code"]) == [
        "409:stale_write",
        "409:slot_not_offered",
        "503:database_busy",
    ]
    assert s["socket_errors"] == {"timeout": 2}
    assert s["exhausted"] is False
    assert s["db_connections_opened"] == 3


def test_a_missing_wrk_line_is_an_error(load: ModuleType) -> None:
    with pytest.raises(ValueError, match="WRKJSON"):
        load.parse_wrk("Requests/sec: 1\n")


def test_pgbench_report(load: ModuleType) -> None:
    assert load.parse_pgbench(PGBENCH_OUTPUT) == {
        "tps": 4082.3,
        "latency_ms_mean": 7.812,
        "failed": 0,
    }


def _level(booking: float, slots: float, p50: float) -> dict[str, object]:
    def scenario(ok: float, p50_ms: float) -> dict[str, float]:
        return {"ok_per_s": ok, "p50_ms": p50_ms}

    return {
        "scenarios": {
            "trivial": scenario(5000, 5),
            "healthz": scenario(4000, 6),
            "slots": scenario(slots, p50),
            "booking": scenario(booking, p50),
        },
        "pgbench": {"tps": 4000.0},
    }


def test_ratios_within_a_run_and_between_preloads(load: ModuleType) -> None:
    low, high = _level(400, 2000, 50), _level(320, 1000, 100)
    assert load.ratios(low) == {
        "bookings_per_pgbench_tps": 0.1,
        "slots_per_healthz": 0.5,
        "healthz_per_trivial": 0.8,
    }
    cost = load.cost_ratios({"0": low, "300": high}, "0", "300")
    assert cost["booking"] == {"per_success": 1.25, "p50": 2.0}
    assert cost["slots"] == {"per_success": 2.0, "p50": 2.0}
    assert "open_returns" not in cost


def test_bookings_go_round_robin_over_carrier_days_then_windows(load: ModuleType) -> None:
    plan = load.Plan(("310104", "310115"), (date(2026, 12, 2),))
    assert len(plan.carrier_days) == 4
    bodies = [plan.booking_body(i) for i in range(5)]
    assert [area for area, _ in bodies] == ["310104", "310104", "310115", "310115", "310104"]
    assert bodies[0][1] == {"carrier_id": "sf", "day": "2026-12-02", "start": "09:00"}
    assert bodies[1][1]["carrier_id"] == "yto"
    assert bodies[4][1]["start"] == "10:00"


def test_request_file_lines(load: ModuleType, tmp_path: Path) -> None:
    path = load.request_file(
        tmp_path / "r.tsv",
        [("GET", "/healthz", "", None), ("POST", "/returns", "tok", {"order_id": "X"})],
    )
    assert path.read_text().splitlines() == [
        "GET\t/healthz\t-\t-",
        'POST\t/returns\ttok\t{"order_id":"X"}',
    ]


def test_bursts_merge_into_one_scenario(load: ModuleType) -> None:
    one = load.parse_wrk(WRK_OUTPUT)
    two = {**one, "latency_us": {**one["latency_us"], "p50": 100000}}
    three = {**one, "latency_us": {**one["latency_us"], "p50": 500000}}
    merged = load.merge_wrk([one, two, three])
    assert merged["requests"] == 6000
    assert merged["statuses"]["201"] == 4500
    assert merged["codes"]["409:stale_write"] == 1200
    assert merged["latency_us"]["p50"] == 120000
    s = load.summarize(merged)
    assert s["req_per_s"] == pytest.approx(133.3, abs=0.1)
    assert s["bursts"] == 3
    assert "exhausted" not in s
