"""The plan checker catches each kind of violation on hand-built plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from doorstep.planning import (
    Break,
    Network,
    Plan,
    PlanningProblem,
    Route,
    StopStatus,
    Unserved,
    UnservedReason,
    ViolationKind,
    check_plan,
)
from doorstep.planning.plan import schedule_route


def timed(problem: PlanningProblem, courier_id: str, stop_ids: list[str], **kw: int) -> Route:
    courier = next(c for c in problem.couriers if c.id == courier_id)
    stops = {s.id: s for s in problem.stops}
    start = kw.pop("start", courier.free_from_s)
    rest_after = kw.pop("rest_after", None)
    return schedule_route(
        problem, Network.of(problem), courier, [stops[i] for i in stop_ids], start, rest_after
    )


def kinds(problem: PlanningProblem, plan: Plan) -> set[ViolationKind]:
    return {v.kind for v in check_plan(problem, plan)}


@pytest.fixture
def line(build):  # type: ignore[no-untyped-def]
    """Depot at 0; stops at 10, 20, 30 on a line; one courier, shift [0, 100]."""
    return build.problem(
        [
            build.stop("a", 10, earliest=0, latest=50, weight=5, volume=5),
            build.stop("b", 20, earliest=0, latest=50, weight=5, volume=5),
            build.stop("c", 30, earliest=0, latest=50, weight=5, volume=5),
        ],
        couriers=[build.courier("c1", end=100, weight=15, volume=15)],
    )


def test_a_good_plan_has_no_violations(line: PlanningProblem) -> None:
    plan = Plan((timed(line, "c1", ["a", "b", "c"]),), ())
    assert check_plan(line, plan) == []
    assert plan.distance == 60


def test_late_arrival_is_a_time_window_violation(line: PlanningProblem) -> None:
    tight = replace(line, stops=[*line.stops[:2], replace(line.stops[2], latest_s=25)])
    plan = Plan((timed(tight, "c1", ["a", "b", "c"]),), ())
    found = check_plan(tight, plan)
    assert [(v.kind, v.stop_id) for v in found] == [(ViolationKind.TIME_WINDOW, "c")]


def test_overload_is_caught_per_dimension(line: PlanningProblem) -> None:
    heavy = replace(line, stops=[*line.stops[:2], replace(line.stops[2], weight_g=6)])
    assert kinds(heavy, Plan((timed(heavy, "c1", ["a", "b", "c"]),), ())) == {
        ViolationKind.CAPACITY_WEIGHT
    }
    bulky = replace(line, stops=[*line.stops[:2], replace(line.stops[2], volume_cm3=6)])
    assert kinds(bulky, Plan((timed(bulky, "c1", ["a", "b", "c"]),), ())) == {
        ViolationKind.CAPACITY_VOLUME
    }


def test_returning_after_shift_end(line: PlanningProblem) -> None:
    short = replace(line, couriers=[replace(line.couriers[0], shift_end_s=59)])
    assert kinds(short, Plan((timed(short, "c1", ["a", "b", "c"]),), ())) == {
        ViolationKind.SHIFT_END
    }


def test_leaving_before_shift_start(line: PlanningProblem) -> None:
    late = replace(line, couriers=[replace(line.couriers[0], shift_start_s=5)])
    route = timed(late, "c1", ["a", "b", "c"])
    early = replace(route, start_s=0)
    assert ViolationKind.SHIFT_START in kinds(late, Plan((early,), ()))


def test_each_stop_at_most_once_and_none_forgotten(line: PlanningProblem) -> None:
    twice = Plan((timed(line, "c1", ["a", "b", "a", "c"]),), ())
    assert ViolationKind.DUPLICATE_STOP in kinds(line, twice)
    also_unserved = Plan(
        (timed(line, "c1", ["a", "b", "c"]),), (Unserved("a", UnservedReason.SOLVER_DROPPED),)
    )
    assert kinds(line, also_unserved) == {ViolationKind.DUPLICATE_STOP}
    forgot = Plan((timed(line, "c1", ["a", "b"]),), ())
    assert [(v.kind, v.stop_id) for v in check_plan(line, forgot)] == [
        (ViolationKind.MISSING_STOP, "c")
    ]


def test_done_stops_must_stay_out(line: PlanningProblem) -> None:
    done = replace(line, stops=[replace(line.stops[0], status=StopStatus.DONE), *line.stops[1:]])
    assert kinds(done, Plan((timed(done, "c1", ["a", "b", "c"]),), ())) == {
        ViolationKind.DONE_STOP_ROUTED
    }
    assert check_plan(done, Plan((timed(done, "c1", ["b", "c"]),), ())) == []


def test_unknown_ids_and_wrong_courier(build, line: PlanningProblem) -> None:  # type: ignore[no-untyped-def]
    two = replace(
        line,
        couriers=[*line.couriers, build.courier("c2", end=100)],
        stops=[replace(line.stops[0], courier_id="c2"), *line.stops[1:]],
    )
    found = kinds(two, Plan((timed(two, "c1", ["a", "b", "c"]),), ()))
    assert found == {ViolationKind.WRONG_COURIER}
    ghost = replace(timed(line, "c1", ["a", "b", "c"]), courier_id="nobody")
    assert ViolationKind.UNKNOWN_COURIER in kinds(line, Plan((ghost,), ()))
    stray = Plan((timed(line, "c1", ["a", "b", "c"]),), (Unserved("zz", UnservedReason.CAPACITY),))
    assert kinds(line, stray) == {ViolationKind.UNKNOWN_STOP}


def test_breaks_must_be_taken_inside_their_window(line: PlanningProblem) -> None:
    resting = replace(
        line, couriers=[replace(line.couriers[0], rest=Break(10, 30, 10), shift_end_s=100)]
    )
    assert (
        check_plan(resting, Plan((timed(resting, "c1", ["a", "b", "c"], rest_after=0),), ())) == []
    )
    skipped = timed(resting, "c1", ["a", "b", "c"])
    assert ViolationKind.BREAK_MISSING in kinds(
        resting, Plan((replace(skipped, rest_after=None),), ())
    )
    too_late = timed(resting, "c1", ["a", "b", "c"], rest_after=2)
    assert kinds(resting, Plan((too_late,), ())) == {ViolationKind.BREAK_WINDOW}


def test_pinned_first_stop_and_reported_times(line: PlanningProblem) -> None:
    pinned = replace(line, couriers=[replace(line.couriers[0], first_stop_id="b")])
    assert kinds(pinned, Plan((timed(pinned, "c1", ["a", "b", "c"]),), ())) == {
        ViolationKind.FIRST_STOP
    }
    route = timed(line, "c1", ["a", "b", "c"])
    fudged = replace(route, visits=(replace(route.visits[0], arrival_s=1), *route.visits[1:]))
    assert kinds(line, Plan((fudged,), ())) == {ViolationKind.SCHEDULE_MISMATCH}
