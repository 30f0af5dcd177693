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


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2445.406

processor\t: 1
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2445.406
"""


def test_the_machine_names_cpu_model_generation_clock_and_count(
    city: ModuleType, tmp_path: Path
) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(CPUINFO)
    assert city.machine(info) == "AMD EPYC (family 25 model 1 stepping 1) 2.4 GHz x2"
    # Another generation under the same vague model name is another machine.
    info.write_text(CPUINFO.replace("model\t\t: 1", "model\t\t: 17"))
    assert city.machine(info) == "AMD EPYC (family 25 model 17 stepping 1) 2.4 GHz x2"


def test_a_baseline_cached_on_another_machine_is_not_used(city: ModuleType) -> None:
    args = city.argparse.Namespace(
        pickups=20000,
        couriers=200,
        depots=20,
        seed=3,
        budget=120.0,
        baseline_factor=10.0,
        workers=2,
        clock="cpu",
    )
    here, there = "AMD EPYC (family 25 model 1 stepping 1) 2.4 GHz x2", "Intel Xeon x2"
    city._store(city._cache_key(args, there), {**MEASURED, "machine": there})
    assert city._cached(city._cache_key(args, here)) is None
    city._store(city._cache_key(args, here), {**MEASURED, "distance_km": 12841.2})
    assert city._cached(city._cache_key(args, here))["distance_km"] == 12841.2
    assert city._cached(city._cache_key(args, there))["machine"] == there
    assert city._cache_key(args, here).endswith(f" machine={here}")


def test_the_rescue_rounds_keep_every_pickup_once_and_never_serve_fewer(
    city: ModuleType,
) -> None:
    # Two couriers for 300 pickups of 2 minutes each: most are left out for their windows,
    # so the rescue has stops (of a reason another courier may remedy) to work on.
    problem = city.shanghai_day(300, 2, 2, 1)
    parts = city.partition_by_depot(problem)
    search = city.Search(exhaustive_on_best=False, history_length=20, num_neighbours=25)

    out, regions = city.run(parts, 4.0, 1, 1, 0.3, 1, 2, 0.5, "cpu", 0.0, search, 0.3)

    rescue = out["rescue"]
    assert rescue["share"] == 0.3
    assert rescue["rounds"], "the rescue had unserved stops to work on"
    left = [rescue["unserved_before"]] + [r["unserved_after"] for r in rescue["rounds"]]
    assert left == sorted(left, reverse=True)
    assert out["unserved"] <= left[-1]
    ids = [i for r in regions for route in r.plan.routes for i in route.stop_ids]
    ids += [u.stop_id for r in regions for u in r.plan.unserved]
    assert sorted(ids) == sorted(s.id for s in problem.stops)
    assert out["served"] + out["unserved"] == 300
    assert out["violations"] == 0
