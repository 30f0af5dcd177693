"""bench/slot_tuning.py: the declared grid and the pick of incentive rules, on fake scores."""

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
    return importlib.import_module("slot_tuning")


def scores(t: ModuleType, near: int, km: list[float], gap: list[float], inside: list[float]):
    return t.Scores({"near_pct": near}, km_ratio=km, first_choice_gap=gap, inside=inside)


def test_grid_drops_points_that_differ_only_in_fields_without_effect(tuning: ModuleType) -> None:
    grid = tuning.parse_grid("near_pct=0:150;keep_at_least=5:8")
    assert grid == {"near_pct": (0, 150), "keep_at_least": (5, 8)}
    assert tuning.points(grid) == [
        {"near_pct": 0, "keep_at_least": 5},
        {"near_pct": 150, "keep_at_least": 5},
        {"near_pct": 150, "keep_at_least": 8},
    ]
    assert tuning.label({"near_pct": 150, "keep_at_least": 8}) == "near_pct=150,keep_at_least=8"


def test_skipped_points_are_not_run(tuning: ModuleType) -> None:
    grid = tuning.parse_grid("coupon_fen=300:600;coupon_per_min_fen=0:25:50")
    skip = tuning.parse_points("coupon_fen=600,coupon_per_min_fen=0|coupon_per_min_fen=25")
    assert skip == [{"coupon_fen": 600, "coupon_per_min_fen": 0}, {"coupon_per_min_fen": 25}]
    assert tuning.points(grid, skip) == [
        {"coupon_fen": 300, "coupon_per_min_fen": 0},
        {"coupon_fen": 300, "coupon_per_min_fen": 50},
        {"coupon_fen": 600, "coupon_per_min_fen": 50},
    ]
    assert tuning.parse_points("") == []
    # The declared grid less its skipped points: what a default run tries.
    assert len(tuning.points(tuning.GRID, tuning.SKIPPED)) == 6


def test_lowest_km_ratio_among_rule_sets_meeting_every_seed(tuning: ModuleType) -> None:
    candidates = [
        scores(tuning, 0, [0.95, 0.93], [0.10, 0.12], [1.0, 1.0]),
        # Lowest km, but one seed's first choice below fixed: not eligible.
        scores(tuning, 100, [0.80, 0.82], [0.05, -0.01], [1.0, 1.0]),
        # Low km, but one pickup outside its window: not eligible.
        scores(tuning, 120, [0.84, 0.84], [0.05, 0.05], [1.0, 0.99]),
        scores(tuning, 150, [0.88, 0.90], [0.02, 0.03], [1.0, 1.0]),
    ]
    got = tuning.pick(candidates)
    assert got["chosen"] == {"near_pct": 150}
    assert got["constraints_met"] is True
    assert "2 of 4" in got["why"]
    assert [c["constraints_met"] for c in got["candidates"]] == [True, False, False, True]


def test_tie_on_km_goes_to_the_larger_worst_first_choice_gap(tuning: ModuleType) -> None:
    candidates = [
        scores(tuning, 150, [0.90, 0.90], [0.01, 0.05], [1.0, 1.0]),
        scores(tuning, 200, [0.90, 0.90], [0.03, 0.03], [1.0, 1.0]),
    ]
    assert tuning.pick(candidates, 0.0)["chosen"] == {"near_pct": 200}


def test_first_choice_margin_must_be_met_on_every_tuning_seed(tuning: ModuleType) -> None:
    candidates = [
        # Lowest km, first choice at least fixed's on every seed but not by the margin.
        scores(tuning, 150, [0.88, 0.88], [0.01, 0.05], [1.0, 1.0]),
        scores(tuning, 200, [0.91, 0.91], [0.03, 0.03], [1.0, 1.0]),
    ]
    assert tuning.pick(candidates, 0.0)["chosen"] == {"near_pct": 150}
    got = tuning.pick(candidates, 0.02)
    assert got["chosen"] == {"near_pct": 200}
    assert got["constraints"]["first_choice_minus_fixed_every_seed"] == ">= 0.02"
    assert [c["constraints_met"] for c in got["candidates"]] == [False, True]


def test_when_nothing_meets_the_constraints_the_smallest_shortfall_is_named(
    tuning: ModuleType,
) -> None:
    candidates = [
        scores(tuning, 100, [0.80, 0.80], [-0.05, 0.02], [1.0, 1.0]),
        scores(tuning, 150, [0.90, 0.90], [-0.01, 0.02], [1.0, 1.0]),
    ]
    got = tuning.pick(candidates)
    assert got["chosen"] == {"near_pct": 150}
    assert got["constraints_met"] is False
    assert "no rule set met" in got["why"]
    with pytest.raises(ValueError):
        tuning.pick([])


def test_by_mean_the_lower_bound_of_the_mean_gap_decides(tuning: ModuleType) -> None:
    # One seed below fixed, but the mean well above it: every_seed refuses, mean takes it.
    spread = [0.08, 0.06, 0.07, -0.01, 0.09, 0.05, 0.08, 0.07]
    noisy = [0.20, -0.15, 0.18, -0.12, 0.02, 0.01, -0.10, 0.16]  # mean +0.025, wide
    candidates = [
        scores(tuning, 130, [0.90] * 8, spread, [1.0] * 8),
        scores(tuning, 110, [0.85] * 8, noisy, [1.0] * 8),
        scores(tuning, 150, [0.93] * 8, [0.03] * 8, [1.0] * 8),
    ]
    assert tuning.pick(candidates, 0.0)["chosen"] == {"near_pct": 150}
    got = tuning.pick(candidates, 0.0, "mean")
    # 110's mean is above 0 but its 95 % lower bound is not.
    assert got["chosen"] == {"near_pct": 130}
    assert [c["constraints_met"] for c in got["candidates"]] == [True, False, True]
    assert "first_choice_minus_fixed_mean_lower_95" in got["constraints"]
    # The bound by hand: mean - t(7) * sd / sqrt(8).
    from statistics import mean, stdev

    want = mean(noisy) - 1.895 * stdev(noisy) / 8**0.5
    assert abs(tuning.lower_bound_95(noisy) - want) < 1e-12
    assert tuning.lower_bound_95([0.4]) == 0.4
    with pytest.raises(ValueError):
        tuning.pick(candidates, 0.0, "median")


def test_an_accepted_share_margin_is_a_constraint_only_when_given(tuning: ModuleType) -> None:
    cheap = tuning.Scores(
        {"near_pct": 110},
        km_ratio=[0.88] * 4,
        first_choice_gap=[0.03] * 4,
        inside=[1.0] * 4,
        accepted_gap=[-0.02, -0.01, -0.015, -0.02],  # turns buyers away
    )
    kind = tuning.Scores(
        {"near_pct": 150},
        km_ratio=[0.92] * 4,
        first_choice_gap=[0.05] * 4,
        inside=[1.0] * 4,
        accepted_gap=[0.01, 0.0, 0.005, 0.01],
    )
    assert tuning.pick([cheap, kind], 0.0, "mean")["chosen"] == {"near_pct": 110}
    got = tuning.pick([cheap, kind], 0.0, "mean", 0.0)
    assert got["chosen"] == {"near_pct": 150}
    assert got["constraints"]["accepted_minus_fixed_mean_lower_95"] == ">= 0.0"
    assert [c["constraints_met"] for c in got["candidates"]] == [False, True]
    assert got["candidates"][0]["accepted_gap_mean"] == -0.0163
    # Without figures for it, a margin cannot be read.
    bare = scores(tuning, 130, [0.9], [0.03], [1.0])
    with pytest.raises(ValueError):
        tuning.pick([bare], 0.0, "mean", 0.0)
