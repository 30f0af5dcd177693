"""bench/slot_offering.py: the report's figures from fake runs (no simulator here)."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # bench/ is a directory of scripts, not a package: the bench imports it the same way.
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("slot_offering")


def run(bench: ModuleType, km: float, late: list[dict[str, Any]]) -> dict[str, Any]:
    eta = {h: {"p50_min": 1.0, "p90_min": 5.0} for h in bench.HORIZONS}
    figures = dict.fromkeys(bench.FIGURES, 1.0)
    return {
        "fixed": {**figures, "eta_error": eta, "late_visits": []},
        "planned_incentive": {
            **figures,
            "km_per_pickup": km,
            "eta_error": eta,
            "late_visits": late,
        },
    }


def test_the_report_names_each_seed_with_a_visit_outside_its_window(bench: ModuleType) -> None:
    late = [{"appointment_id": "a-1", "late_min": 11.5}]
    report = bench.summarise([run(bench, 0.9, []), run(bench, 1.0, late)], [341, 342])
    assert report["late_by_seed"] == {"fixed": {}, "planned_incentive": {"342": late}}
    assert report["per_seed"]["incentive_vs_fixed_km_per_pickup"] == {"341": 0.9, "342": 1.0}
    assert report["misses"]["incentive_vs_fixed_km_per_pickup"]["by"] == {"342": 0.08}
