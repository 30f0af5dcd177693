"""bench/compare_timed_logs.py: one setting's runs against another's, seed by seed."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def cmp(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("compare_timed_logs")


def _log(path: Path, runs: list[tuple[int, str, float, float]], timed: str) -> Path:
    lines = ["[09:00:00] 4 runs to go (0 from logs) on 2 worker(s)"]
    for seed, variant, hour, inside in runs:
        label = timed if variant == "timed" else "planned"
        kpis = {"pickups_per_courier_hour": hour, "inside_window_share": inside}
        lines.append(f"[09:00:01] load 16 seed {seed} {label}: 50 s")
        lines.append("[09:00:01] " + json.dumps({"kpis": kpis, "load": 16, "seed": seed,
                                                 "variant": label}))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ratios_per_seed_and_late_seeds_named(cmp: ModuleType, tmp_path: Path) -> None:
    t = cmp.TIMED
    before = _log(tmp_path / "a.log", [(1, "peak", 0.8, 1.0), (1, "timed", 0.84, 1.0),
                                       (2, "peak", 1.0, 1.0), (2, "timed", 1.0, 1.0)], t)  # fmt: skip
    after = _log(tmp_path / "b.log", [(1, "peak", 0.88, 1.0), (1, "timed", 0.84, 0.99),
                                      (2, "peak", 1.0, 1.0), (2, "timed", 1.1, 1.0),
                                      (3, "peak", 1.0, 1.0)], t)  # fmt: skip
    got = cmp.compare(cmp.runs(before), cmp.runs(after))
    assert got["n"] == 2  # seed 3 has no run without the setting: left out
    assert got["seeds"]["16/1"]["peak_ratio"] == pytest.approx(1.1)
    assert got["peak_with_over_without"]["mean"] == pytest.approx(1.05)
    assert got["timed_with_over_without"] == {"mean": 1.05, "sd": 0.05, "min": 1.0, "max": 1.1}
    assert got["timed_vs_peak_with"]["min"] == pytest.approx(0.9545, abs=1e-4)
    assert got["not_all_inside_with"] == ["16/1"]
    assert cmp.compare({}, {}) == {"seeds": {}, "n": 0}
    only_2 = cmp.compare(cmp.runs(before), cmp.runs(after), t, cmp.seed_set("2-3"))
    assert list(only_2["seeds"]) == ["16/2"]
    assert cmp.seed_set("101-103,7") == {101, 102, 103, 7} and cmp.seed_set("") == set()
