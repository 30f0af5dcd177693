"""bench/return_wave.py: both forecasts are made from what is known on the morning, from the
same run, and the wave model sees a spike its learning days did not have."""

from __future__ import annotations

import importlib.util
import io
import json
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "return_wave.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_return_wave", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_forecasts_use_nothing_from_the_morning_on(bench: ModuleType) -> None:
    w = bench.world(5)
    today = bench.DOUBLE_11 + timedelta(days=4)
    before = bench.wave_forecast(w, today)
    same_day = bench.wave_forecast(w, today, lead=False)
    # Change everything from the morning on: no forecast moves.
    for key in [k for k in w["signed"] if k[1] >= today]:
        w["signed"][key] += 1000
    for key in [k for k in w["booked"] if k[1] >= today]:
        w["booked"][key] += 1000
    for key in [k for k in w["leads"] if k[0] >= today]:
        w["leads"][key] += 1000
    assert bench.wave_forecast(w, today) == before
    assert bench.wave_forecast(w, today, lead=False) == same_day
    weekday = bench.weekday_forecast(w, today)
    assert all(k[1] > today for k in weekday)


def test_one_seed_reports_both_figures_and_the_wave_sees_the_spike(bench: ModuleType) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert bench.main(["--seeds", "7"]) == 0
    report = json.loads(out.getvalue())
    summary = report["summary"]
    assert {"wave_all", "weekday_all", "wave_wave_seen", "weekday_wave_seen"} <= set(summary)
    assert {"lead_all", "lead_wave_seen"} <= set(summary)
    assert summary["wave_wave_seen"]["mean"] < summary["weekday_wave_seen"]["mean"]
    # The generator books a day or two after the request: the lead moves the wave onto them.
    assert summary["lead_wave_seen"]["mean"] < summary["wave_wave_seen"]["mean"]
