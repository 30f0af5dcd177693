"""`solve` on problems small enough to know the answer."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from doorstep.planning import (
    Break,
    Depot,
    PlanningProblem,
    SolveParams,
    UnservedReason,
    check_plan,
    solve,
)

QUICK = SolveParams(seed=1, time_limit_s=2.0, max_iterations=300)


def tour_length(points: list[tuple[float, float]]) -> int:
    depot = (0.0, 0.0)
    path = [depot, *points, depot]
    return sum(round(math.dist(a, b)) for a, b in itertools.pairwise(path))


def test_small_instance_is_solved_to_its_brute_force_optimum(build) -> None:  # type: ignore[no-untyped-def]
    # Five doors around the depot; capacity forces two routes, so the split matters too.
    coords = [(10, 0), (10, 10), (0, 10), (-10, 10), (-10, 0)]
    stops = [build.stop(f"s{i}", x, y, weight=1) for i, (x, y) in enumerate(coords)]
    couriers = [build.courier("c1", weight=3), build.courier("c2", weight=3)]
    problem = build.problem(stops, couriers=couriers)
    best = math.inf
    points = [s.location for s in stops]
    for order in itertools.permutations(points):
        for cut in range(2, 4):
            best = min(best, tour_length(list(order[:cut])) + tour_length(list(order[cut:])))
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert not plan.unserved
    assert plan.distance == best


def test_same_seed_same_plan(build) -> None:  # type: ignore[no-untyped-def]
    stops = [
        build.stop(f"s{i}", (i * 37) % 50, (i * 53) % 40, earliest=0, latest=400, weight=2)
        for i in range(12)
    ]
    couriers = [build.courier(f"c{k}", end=600, weight=10) for k in range(3)]
    problem = build.problem(stops, couriers=couriers)
    params = SolveParams(seed=7, time_limit_s=30.0, max_iterations=200)
    assert solve(problem, params) == solve(problem, params)


def test_unservable_pickups_are_reported_with_a_reason(build) -> None:  # type: ignore[no-untyped-def]
    stops = [
        build.stop("ok", 10, earliest=0, latest=100),
        build.stop("heavy", 10, weight=999),
        build.stop("night", 10, earliest=5000, latest=6000),
        build.stop("far", 400, earliest=0, latest=100),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1", end=1000, weight=50)])
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert plan.route_of("c1") is not None and plan.route_of("c1").stop_ids == ("ok",)  # type: ignore[union-attr]
    assert {u.stop_id: u.reason for u in plan.unserved} == {
        "heavy": UnservedReason.CAPACITY,
        "night": UnservedReason.OUTSIDE_SHIFT,
        "far": UnservedReason.TIME_WINDOW_UNREACHABLE,
    }


def test_conflicting_windows_leave_one_stop_out_for_time(build) -> None:  # type: ignore[no-untyped-def]
    # Each stop alone is fine; together one courier cannot be at both ends at second 100.
    stops = [
        build.stop("east", 100, earliest=100, latest=100),
        build.stop("west", -100, earliest=100, latest=100),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1", end=1000)])
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert [u.reason for u in plan.unserved] == [UnservedReason.TIME_WINDOW_UNREACHABLE]


def test_a_full_vehicle_leaves_one_stop_out_for_capacity(build) -> None:  # type: ignore[no-untyped-def]
    stops = [build.stop("a", 10, weight=6), build.stop("b", 20, weight=6)]
    problem = build.problem(stops, couriers=[build.courier("c1", weight=10)])
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert [u.reason for u in plan.unserved] == [UnservedReason.CAPACITY]


def test_breaks_fixed_couriers_and_two_depots(build) -> None:  # type: ignore[no-untyped-def]
    depots = (Depot("D", (0.0, 0.0)), Depot("E", (100.0, 0.0)))
    stops = [build.stop(f"w{i}", 10 + i, 5, latest=2000, service=20) for i in range(4)]
    stops += [build.stop(f"e{i}", 90 - i, 5, latest=2000, service=20) for i in range(4)]
    stops.append(build.stop("mine", 50, 50, latest=2000, courier_id="cE"))
    couriers = [
        build.courier("cD", end=3000, rest=Break(100, 400, 60)),
        build.courier("cE", depot="E", end=3000, rest=Break(100, 400, 60)),
    ]
    problem: PlanningProblem = build.problem(stops, couriers=couriers, depots=depots)
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert not plan.unserved
    east = plan.route_of("cE")
    assert east is not None and "mine" in east.stop_ids
    for route in plan.routes:
        assert route.rest_start_s is not None


def test_no_stops_gives_an_empty_plan(build) -> None:  # type: ignore[no-untyped-def]
    problem = build.problem([], couriers=[build.courier("c1", rest=Break(100, 400, 60))])
    plan = solve(problem, QUICK)
    assert plan.routes == () and plan.unserved == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", -1),
        ("time_limit_s", 0.0),
        ("time_limit_s", math.nan),
        ("max_iterations", 0),
        ("drop_penalty", 0),
        ("duration_weight", -1),
    ],
)
def test_params_check_their_values(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        replace(SolveParams(), **{field: value})


def test_problem_rejects_inconsistent_input(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown depot"):
        build.problem([], couriers=[build.courier("c1", depot="nowhere")])
    with pytest.raises(ValueError, match="unknown courier"):
        build.problem([build.stop("s", 1, courier_id="ghost")])
    with pytest.raises(ValueError, match="duplicate stop"):
        build.problem([build.stop("s", 1), build.stop("s", 2)])
    with pytest.raises(ValueError, match="window"):
        build.stop("s", 1, earliest=10, latest=5)
    with pytest.raises(ValueError, match="inside the shift"):
        build.courier("c", start=100, end=200, rest=Break(0, 300, 10))
