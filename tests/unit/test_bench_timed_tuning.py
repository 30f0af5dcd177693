"""bench/timed_tuning.py: the declared grid and the pick of timed-pricing settings, on fake
scores."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def tuning(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # bench/ is a directory of scripts, not a package: the bench imports it the same way.
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("timed_tuning")


def scores(t: ModuleType, z: str, ratio: list[float], inside: list[float]):
    return t.Scores({"travel_chain_z": z}, ratio=ratio, inside=inside)


def test_grid_points_labels_and_environment(tuning: ModuleType) -> None:
    grid = tuning.parse_grid("travel_chain_z=1.64:2.33;travel_leg_reserve_s=0")
    assert grid == {"travel_chain_z": ("1.64", "2.33"), "travel_leg_reserve_s": ("0",)}
    points = tuning.points(grid)
    assert points == [
        {"travel_chain_z": "1.64", "travel_leg_reserve_s": "0"},
        {"travel_chain_z": "2.33", "travel_leg_reserve_s": "0"},
    ]
    label = tuning.label(points[1])
    assert label == "travel_chain_z=2.33,travel_leg_reserve_s=0"
    assert tuning.parse_label(label) == points[1]
    assert tuning.environ(points[1]) == {
        "DOORSTEP_TRAVEL_CHAIN_Z": "2.33",
        "DOORSTEP_TRAVEL_LEG_RESERVE_S": "0",
    }
    assert tuning.parse_steps("travel_driven_hours=true;travel_leg_margin=1.0") == [
        {"travel_driven_hours": "true"},
        {"travel_leg_margin": "1.0"},
    ]


def test_grid_and_steps_name_real_settings(tuning: ModuleType) -> None:
    from doorstep.config import Settings

    fields = Settings.model_fields
    assert all(name in fields for name in tuning.GRID)
    assert all(name in fields for step in tuning.THEN for name in step)


def test_highest_ratio_among_points_inside_on_every_seed(tuning: ModuleType) -> None:
    candidates = [
        scores(tuning, "2.33", [1.00, 1.02], [1.0, 1.0]),
        # Highest ratio, but one seed has a late visit: not eligible.
        scores(tuning, "1.64", [1.05, 1.06], [1.0, 0.99]),
        scores(tuning, "2.0", [1.01, 1.03], [1.0, 1.0]),
    ]
    found = tuning.pick(candidates)
    assert found["chosen"] == {"travel_chain_z": "2.0"}
    assert found["constraints_met"] is True
    assert [c["constraints_met"] for c in found["candidates"]] == [True, False, True]


def test_ties_go_to_the_better_worst_seed_then_the_first_listed(tuning: ModuleType) -> None:
    candidates = [
        scores(tuning, "2.33", [1.00, 1.04], [1.0, 1.0]),
        scores(tuning, "2.0", [1.01, 1.03], [1.0, 1.0]),
        scores(tuning, "1.64", [1.01, 1.03], [1.0, 1.0]),
    ]
    assert tuning.pick(candidates)["chosen"] == {"travel_chain_z": "2.0"}


def test_without_any_point_inside_everywhere_the_smallest_shortfall_wins(
    tuning: ModuleType,
) -> None:
    candidates = [
        scores(tuning, "1.64", [1.10, 1.10], [0.98, 1.0]),
        scores(tuning, "2.33", [0.99, 1.00], [0.99, 1.0]),
    ]
    found = tuning.pick(candidates)
    assert found["chosen"] == {"travel_chain_z": "2.33"}
    assert found["constraints_met"] is False
    with pytest.raises(ValueError):
        tuning.pick([])


def test_resumed_runs_are_taken_only_at_the_same_replan_cadence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A run logged at one ``--replan-every-min`` is not reused for another (the simulated
    routes differ), and lines from before the option count as 0."""
    monkeypatch.syspath_prepend(str(BENCH))
    timed = importlib.import_module("timed_travel")
    log = tmp_path / "runs.log"
    log.write_text(
        '[00:00:01] {"load": 16, "seed": 1, "variant": "planned", "kpis": {"a": 1}}\n'
        '[00:00:02] {"load": 16, "seed": 1, "variant": "planned", "kpis": {"a": 2},'
        ' "replan_every_min": 60}\n'
        "[00:00:03] load 16 seed 1 planned: 30 s\n"
    )
    assert timed.read_logs([str(log)]) == {(16, 1, "planned"): {"a": 1}}
    assert timed.read_logs([str(log)], 60) == {(16, 1, "planned"): {"a": 2}}
    assert timed.read_logs([str(log)], 30) == {}
