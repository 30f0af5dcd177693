"""Re-planning keeps done stops out and what each courier is doing next first."""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning import (
    Break,
    Plan,
    PlanningProblem,
    SolveParams,
    StopStatus,
    check_plan,
    freeze_progress,
    replan,
    solve,
)

QUICK = SolveParams(seed=3, time_limit_s=2.0, max_iterations=300)


def morning(build) -> PlanningProblem:  # type: ignore[no-untyped-def]
    stops = [
        build.stop(f"n{i}", 20 + 10 * i, 40, latest=5000, service=30, weight=1) for i in range(4)
    ]
    stops += [
        build.stop(f"s{i}", 20 + 10 * i, -40, latest=5000, service=30, weight=1) for i in range(4)
    ]
    couriers = [build.courier("c1", end=6000, weight=5), build.courier("c2", end=6000, weight=5)]
    return build.problem(stops, couriers=couriers)


def with_status(problem: PlanningProblem, **status: StopStatus) -> PlanningProblem:
    stops = []
    for s in problem.stops:
        if s.id in status:
            courier_id = s.courier_id
            if status[s.id] is StopStatus.IN_PROGRESS:
                courier_id = courier_id or "c2"
            s = replace(s, status=status[s.id], courier_id=courier_id)
        stops.append(s)
    return replace(problem, stops=stops)


def test_done_stops_stay_out_and_next_stops_stay_first(build) -> None:  # type: ignore[no-untyped-def]
    problem = morning(build)
    before = solve(problem, QUICK)
    assert check_plan(problem, before) == []
    first, second = (r for r in before.routes)
    done = first.stop_ids[0]
    heading_to = first.stop_ids[1]
    at_door = second.stop_ids[0]
    now = first.visits[0].departure_s + 1
    today = with_status(problem, **{done: StopStatus.DONE, at_door: StopStatus.IN_PROGRESS})
    today = replace(
        today,
        stops=[
            replace(s, courier_id=second.courier_id) if s.id == at_door else s for s in today.stops
        ],
    )
    after = replan(today, before, now, QUICK)
    frozen = freeze_progress(today, before, now)
    assert check_plan(frozen, after) == []
    routed = [sid for r in after.routes for sid in r.stop_ids]
    assert done not in routed
    assert sorted(routed) == sorted(s.id for s in problem.stops if s.id != done)
    assert after.route_of(first.courier_id).stop_ids[0] == heading_to  # type: ignore[union-attr]
    assert after.route_of(second.courier_id).stop_ids[0] == at_door  # type: ignore[union-attr]
    # The parcel picked up is still on board: one unit less room for c1.
    c1 = next(c for c in frozen.couriers if c.id == first.courier_id)
    assert c1.capacity_weight_g == 4
    assert c1.start_location == next(s.location for s in problem.stops if s.id == done)
    # On the way to the stop it keeps first since it left the one it did (the door is marked
    # on arrival), so free from then; it rings no sooner than now.
    assert c1.available_from_s == first.visits[0].departure_s
    assert after.route_of(first.courier_id).visits[0].start_s >= now  # type: ignore[union-attr]


def test_a_next_stop_that_can_no_longer_be_kept_is_not_pinned(build) -> None:  # type: ignore[no-untyped-def]
    stops = [
        build.stop("a", 10, latest=100, service=10),
        build.stop("b", 20, latest=100, service=10),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1", end=1000)])
    before = Plan(solve(problem, QUICK).routes, ())
    frozen = freeze_progress(with_status(problem, a=StopStatus.DONE), before, now_s=500)
    assert frozen.couriers[0].first_stop_id is None
    after = replan(with_status(problem, a=StopStatus.DONE), before, 500, QUICK)
    assert [u.stop_id for u in after.unserved] == ["b"]
    assert check_plan(frozen, after) == []


def test_a_break_already_begun_is_not_planned_again(build) -> None:  # type: ignore[no-untyped-def]
    stops = [build.stop(f"s{i}", 10 * (i + 1), latest=3000, service=10) for i in range(3)]
    problem = build.problem(
        stops, couriers=[build.courier("c1", end=4000, rest=Break(0, 2000, 300))]
    )
    before = solve(problem, QUICK)
    route = before.routes[0]
    assert route.rest_start_s is not None
    now = route.rest_start_s + 1
    frozen = freeze_progress(problem, before, now)
    assert frozen.couriers[0].rest is None
    assert frozen.couriers[0].free_from_s >= route.rest_start_s + 300
    after = replan(problem, before, now, QUICK)
    assert check_plan(frozen, after) == []


def test_a_courier_on_the_way_rings_when_the_leg_ends_not_a_leg_after_now(build) -> None:  # type: ignore[no-untyped-def]
    """Done at ``a`` at 110, the courier leaves at 900 to ring at ``b`` at 1000, as planned.
    Re-planned at 1000, nothing says where they are (the door is marked on arrival): placed
    at ``a`` at 1000 they would ring at ``b`` at 1100 and could no longer keep ``c``."""
    stops = [
        build.stop("a", 100, earliest=100, latest=200, service=10),
        build.stop("b", 200, earliest=1000, latest=1100, service=10),
        build.stop("c", 300, earliest=1000, latest=1140, service=10),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1", end=5000)])
    before = solve(problem, QUICK)
    assert before.routes[0].stop_ids == ("a", "b", "c") and not before.unserved
    today = with_status(problem, a=StopStatus.DONE)
    frozen = freeze_progress(today, before, 1000)
    assert frozen.couriers[0].first_stop_id == "b"
    assert frozen.couriers[0].available_from_s == 900
    after = replan(today, before, 1000, QUICK)
    assert check_plan(frozen, after) == []
    assert not after.unserved
    assert after.routes[0].stop_ids == ("b", "c")
    assert [v.start_s for v in after.routes[0].visits] == [1000, 1110]


def test_a_courier_on_the_way_does_not_ring_before_now(build) -> None:  # type: ignore[no-untyped-def]
    """Still not at ``b``'s door at 1050 (the leg took longer): they ring at 1050 at best."""
    stops = [
        build.stop("a", 100, earliest=100, latest=200, service=10),
        build.stop("b", 200, earliest=1000, latest=1100, service=10),
    ]
    problem = build.problem(stops, couriers=[build.courier("c1", end=5000)])
    before = solve(problem, QUICK)
    today = with_status(problem, a=StopStatus.DONE)
    frozen = freeze_progress(today, before, 1050)
    assert frozen.couriers[0].first_stop_id == "b"
    after = replan(today, before, 1050, QUICK)
    assert check_plan(frozen, after) == []
    assert [v.start_s for v in after.routes[0].visits] == [1050]
