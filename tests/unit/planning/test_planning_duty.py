"""Courier time in the day plan as the couriers are paid: from the first departure to the later
of the return and the end of duty (`SolveParams.on_duty_until_s`, with `duration_weight`).

The simulator counts a courier-day that way (a courier who has driven waits for same-day
bookings until the booking cutoff), and so does a courier's pay; the distance-only plan does
not see it and hands an early visit to a courier who otherwise starts in the afternoon.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from doorstep.planning import Depot, SolveParams, check_plan, solve

H = 3600
QUICK = SolveParams(seed=1, time_limit_s=10.0, max_iterations=300)
DUTY = replace(QUICK, duration_weight=1, on_duty_until_s=17 * H)
TWO_DEPOTS = (Depot("DX", (0.0, 0.0)), Depot("DY", (1000.0, 0.0)))


def _stops_of(plan, courier_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    route = plan.route_of(courier_id)
    return set(route.stop_ids) if route is not None else set()


def _early_visit_problem(build):  # type: ignore[no-untyped-def]
    # X starts at 09:00 anyway (x1); Y's own visit is at 15:00. The other 09:00 visit is
    # nearer Y's depot: 712 m more for Y, 1,108 m more for X, but six more hours for Y.
    stops = [
        build.stop("x1", 0, 100, earliest=9 * H, latest=10 * H),
        build.stop("early", 600, 0, earliest=9 * H, latest=10 * H),
        build.stop("y1", 1000, 100, earliest=15 * H, latest=16 * H),
    ]
    couriers = [build.courier("X", depot="DX"), build.courier("Y", depot="DY")]
    return build.problem(stops, couriers=couriers, depots=TWO_DEPOTS)


def test_distance_alone_gives_an_early_visit_to_the_afternoon_courier(build) -> None:  # type: ignore[no-untyped-def]
    problem = _early_visit_problem(build)
    plan = solve(problem, QUICK)
    assert check_plan(problem, plan) == []
    assert "early" in _stops_of(plan, "Y")


def test_paid_time_gives_it_to_the_courier_already_out_in_the_morning(build) -> None:  # type: ignore[no-untyped-def]
    problem = _early_visit_problem(build)
    plan = solve(problem, DUTY)
    assert check_plan(problem, plan) == [] and not plan.unserved
    # (X may take y1 as well: X is on duty until 17:00 anyway.)
    assert {"x1", "early"} <= _stops_of(plan, "X")
    assert "early" not in _stops_of(plan, "Y")


@pytest.mark.parametrize(
    ("params", "routes"), [(DUTY, 1), (replace(DUTY, on_duty_until_s=None), 2)]
)
def test_the_wait_until_the_end_of_duty_is_paid_so_a_day_is_not_split(
    build,  # type: ignore[no-untyped-def]
    params: SolveParams,
    routes: int,
) -> None:
    # One courier at 09:00 and 15:00 is on duty 09:xx-17:00; two would be on duty
    # 09:xx-17:00 and 14:xx-17:00. Without the end of duty, route time alone says split.
    stops = [
        build.stop("am", 500, 0, earliest=9 * H, latest=10 * H),
        build.stop("pm", 500, 50, earliest=15 * H, latest=16 * H),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1"), build.courier("c2")])
    plan = solve(problem, params)
    assert check_plan(problem, plan) == [] and not plan.unserved
    assert len(plan.routes) == routes


def test_duty_ends_no_later_than_the_shift(build) -> None:  # type: ignore[no-untyped-def]
    # A shift ending before the end of duty: the courier goes home at the shift's end, the
    # visit stays served (waiting past the shift would make every route infeasible).
    stops = [build.stop("am", 500, 0, earliest=9 * H, latest=10 * H)]
    problem = build.problem(stops, couriers=[build.courier("c1", end=12 * H)])
    plan = solve(problem, DUTY)
    assert check_plan(problem, plan) == [] and not plan.unserved


def test_end_of_duty_is_a_second_of_the_day_or_two() -> None:
    with pytest.raises(ValueError, match="on_duty_until_s"):
        replace(QUICK, on_duty_until_s=-1)
    with pytest.raises(ValueError, match="on_duty_until_s"):
        replace(QUICK, on_duty_until_s=3 * 86_400)
