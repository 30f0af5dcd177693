"""PyVRP's own search settings, chosen through SolveParams."""

from __future__ import annotations

import pytest
import pyvrp

from doorstep.planning import SolveParams, check_plan, solve
from doorstep.planning.solve import search_params


def test_default_params_leave_pyvrp_on_its_own_defaults() -> None:
    assert search_params(SolveParams()) == pyvrp.SolveParams()


def test_short_search_settings_reach_pyvrp() -> None:
    chosen = search_params(
        SolveParams(
            exhaustive_on_best=False, history_length=20, num_neighbours=25, max_perturbations=10
        )
    )
    assert chosen.ils.exhaustive_on_best is False
    assert chosen.ils.history_length == 20
    assert chosen.neighbourhood.num_neighbours == 25
    assert chosen.perturbation.max_perturbations == 10
    assert chosen != pyvrp.SolveParams()


@pytest.mark.parametrize("field", ["history_length", "num_neighbours", "max_perturbations"])
def test_search_settings_below_one_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SolveParams(**{field: 0})  # type: ignore[arg-type]


def test_a_solve_with_short_search_settings_plans_every_stop(build) -> None:  # type: ignore[no-untyped-def]
    stops = [build.stop(f"s{i}", 10 * i % 37, 7 * i % 23) for i in range(12)]
    problem = build.problem(stops, [build.courier("c1"), build.courier("c2")])
    params = SolveParams(
        seed=1,
        time_limit_s=5,
        max_iterations=200,
        exhaustive_on_best=False,
        history_length=5,
        num_neighbours=3,
        max_perturbations=2,
    )
    plan = solve(problem, params)
    assert not plan.unserved
    assert sorted(i for r in plan.routes for i in r.stop_ids) == sorted(s.id for s in stops)
    assert check_plan(problem, plan) == []
