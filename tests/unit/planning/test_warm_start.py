"""Warm starts: the search begins from the previous plan instead of a random one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import pyvrp
from tests.unit.planning.test_exchange import city

from doorstep.planning import PlanningProblem, SolveParams, check_plan, solve

PARAMS = SolveParams(seed=2, time_limit_s=30, max_iterations=400)


@pytest.fixture
def problem() -> PlanningProblem:
    return city(60, 1, seed=7)


def test_the_previous_plan_is_handed_to_the_solver_as_a_feasible_solution(
    problem: PlanningProblem, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = solve(problem, PARAMS)
    seen: list[Any] = []
    real = pyvrp.solve

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("initial_solution"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pyvrp, "solve", spy)
    solve(problem, replace(PARAMS, max_iterations=1), warm_start=previous)

    (initial,) = seen
    assert initial is not None
    assert initial.is_feasible()
    assert initial.num_clients() == sum(len(r.visits) for r in previous.routes)
    assert initial.distance() == previous.distance


def test_a_warm_start_is_never_lost(problem: PlanningProblem) -> None:
    # One iteration from a cold start cannot reach what 400 found; from the previous plan
    # it keeps at least that plan (the search's best starts as the warm start).
    previous = solve(problem, PARAMS)
    warm = solve(problem, replace(PARAMS, max_iterations=1, seed=9), warm_start=previous)
    assert check_plan(problem, warm) == []
    assert len(warm.unserved) <= len(previous.unserved)
    assert warm.distance <= previous.distance


def test_a_warm_start_with_stops_gone_and_new_ones_still_solves(problem: PlanningProblem) -> None:
    previous = solve(problem, PARAMS)
    # Re-planning: a few stops were cancelled, the previous routes still name them.
    changed = replace(problem, stops=problem.stops[5:])
    plan = solve(changed, replace(PARAMS, max_iterations=50), warm_start=previous)
    assert check_plan(changed, plan) == []
    assert not {s.id for s in problem.stops[:5]} & {i for r in plan.routes for i in r.stop_ids}
