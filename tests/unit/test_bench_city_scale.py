"""bench/city_scale.py: the baseline cache refilled from earlier JSON lines."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
KEY = "pickups=20000 couriers=200 depots=20 seed=3 budget=1200 workers=2 clock=cpu"
MEASURED = {"distance_km": 12791.4, "unserved": 0, "served": 20000, "source": "run"}


@pytest.fixture
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    # bench/ is a directory of scripts, not a package: the bench imports it the same way.
    monkeypatch.syspath_prepend(str(BENCH))
    module = importlib.import_module("city_scale")
    monkeypatch.setattr(module, "CACHE", tmp_path / "cache.json")
    return module


def _lines(tmp_path: Path, *baselines: dict[str, object]) -> Path:
    path = tmp_path / "runs.jsonl"
    rows = [
        {"run": f"r{i}", "baseline_key": KEY, "baseline_10x": b} for i, b in enumerate(baselines)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_line_carrying_a_restored_baseline_agrees_and_keeps_its_origin(
    city: ModuleType, tmp_path: Path
) -> None:
    restored = {**MEASURED, "restored_from": "runs.jsonl line 3 (run reporting_seed3_baseline)"}
    assert city.restore_baselines(_lines(tmp_path, restored, MEASURED)) == [KEY]
    entry = json.loads(city.CACHE.read_text())[KEY]
    assert entry["distance_km"] == 12791.4 and "source" not in entry
    assert entry["restored_from"] == "runs.jsonl line 3 (run reporting_seed3_baseline)"


def test_lines_that_disagree_on_a_baseline_are_refused(city: ModuleType, tmp_path: Path) -> None:
    other = {**MEASURED, "distance_km": 12800.0}
    with pytest.raises(SystemExit, match="differs from an earlier line"):
        city.restore_baselines(_lines(tmp_path, MEASURED, other))
    assert not city.CACHE.exists()
