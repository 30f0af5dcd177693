"""Stops the search left out go back where a feasible place exists; the rest get a reason."""

from __future__ import annotations

from doorstep.planning import Network, Plan, Unserved, UnservedReason, check_plan
from doorstep.planning.plan import schedule_route
from doorstep.planning.solve import _place_drops

DROPPED = UnservedReason.SOLVER_DROPPED


def test_dropped_stop_joins_the_cheapest_route_and_the_rest_are_explained(build) -> None:  # type: ignore[no-untyped-def]
    a, b = build.stop("a", 10), build.stop("b", 20)
    on_the_way = build.stop("x", 15, weight=1)  # between a and b: no extra travel for c1
    too_soon = build.stop("y", -10, latest=5)  # 10 away from the depot, closes at 5
    too_heavy = build.stop("z", 5, weight=500)
    c1, c2 = build.courier("c1", weight=100), build.courier("c2", weight=100)
    problem = build.problem([a, b, on_the_way, too_soon, too_heavy], couriers=[c1, c2])
    network = Network.of(problem)
    routes = [schedule_route(problem, network, c1, [a, b], 0, None)]
    unserved = [Unserved(s.id, DROPPED) for s in (on_the_way, too_soon, too_heavy)]

    placed, left = _place_drops(problem, network, routes, unserved)

    assert [(r.courier_id, r.stop_ids) for r in placed] == [("c1", ("a", "x", "b"))]
    assert placed[0].distance == routes[0].distance
    assert left == [
        Unserved("y", UnservedReason.TIME_WINDOW_UNREACHABLE),
        Unserved("z", UnservedReason.CAPACITY),
    ]
    assert check_plan(problem, Plan(tuple(placed), tuple(left))) == []


def test_a_courier_without_a_route_takes_a_stop_only_it_can_reach(build) -> None:  # type: ignore[no-untyped-def]
    far = build.stop("f", 0, 100, latest=140)  # 100 from the depot, 108 from a
    a = build.stop("a", 40, earliest=40, latest=50)
    c1, c2 = build.courier("c1"), build.courier("c2")
    problem = build.problem([a, far], couriers=[c1, c2])
    network = Network.of(problem)
    routes = [schedule_route(problem, network, c1, [a], 0, None)]
    # c1 could only add f after a (arriving at 40 + 108 > 140) or before a (then a is late,
    # at 208 > 50), so the idle courier c2 gets it.
    placed, left = _place_drops(problem, network, routes, [Unserved("f", DROPPED)])

    assert left == []
    assert sorted((r.courier_id, r.stop_ids) for r in placed) == [("c1", ("a",)), ("c2", ("f",))]
    assert check_plan(problem, Plan(tuple(placed), ())) == []


def test_nothing_dropped_leaves_routes_alone(build) -> None:  # type: ignore[no-untyped-def]
    a = build.stop("a", 10)
    problem = build.problem([a])
    network = Network.of(problem)
    routes = [schedule_route(problem, network, problem.couriers[0], [a], 0, None)]
    reason = [Unserved("a", UnservedReason.OUTSIDE_SHIFT)]
    assert _place_drops(problem, network, routes, reason) == (routes, reason)
