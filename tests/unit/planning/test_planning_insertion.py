"""Insertion feasibility from precomputed slack agrees with full re-simulation."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.planning import (
    Break,
    Courier,
    Depot,
    MatrixTravel,
    Network,
    Plan,
    PlanningProblem,
    RouteSlack,
    Stop,
    StopStatus,
    best_insertion,
    check_plan,
)
from doorstep.planning.plan import schedule_route

GRID = 12
DEPOT = (0.0, 0.0)


def manhattan_travel() -> MatrixTravel:
    # Exact integer metric: the triangle inequality holds, as it does for real road times.
    points = [(float(x), float(y)) for x in range(GRID) for y in range(GRID)]
    arr = np.array(points)
    matrix = np.abs(arr[:, None, :] - arr[None, :, :]).sum(axis=2).astype(np.int64)
    return MatrixTravel(points=tuple(points), durations=matrix, distances=matrix.copy())


TRAVEL = manhattan_travel()
coords = st.tuples(st.integers(0, GRID - 1), st.integers(0, GRID - 1)).map(
    lambda p: (float(p[0]), float(p[1]))
)


@st.composite
def stops(draw: st.DrawFn, sid: str) -> Stop:
    earliest = draw(st.integers(0, 150))
    return Stop(
        id=sid,
        location=draw(coords),
        earliest_s=earliest,
        latest_s=earliest + draw(st.integers(0, 120)),
        service_s=draw(st.integers(0, 8)),
        weight_g=draw(st.integers(0, 4)),
        volume_cm3=draw(st.integers(0, 4)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[PlanningProblem, list[Stop], int | None, Stop]:
    route = [draw(stops(f"s{i}")) for i in range(draw(st.integers(0, 6)))]
    rest = None
    if draw(st.booleans()):
        begin = draw(st.integers(0, 150))
        length = draw(st.integers(0, 20))
        rest = Break(begin, begin + length + draw(st.integers(0, 60)), length)
    head = draw(st.sampled_from(["free", "pinned", "in_progress"])) if route else "free"
    if head == "in_progress":
        route[0] = replace(route[0], status=StopStatus.IN_PROGRESS, courier_id="c")
    courier = Courier(
        id="c",
        depot_id="D",
        shift_start_s=0,
        shift_end_s=400,
        capacity_weight_g=draw(st.integers(0, 20)),
        capacity_volume_cm3=draw(st.integers(0, 20)),
        rest=rest,
        first_stop_id=route[0].id if head == "pinned" else None,
    )
    rest_after = draw(st.integers(-1, len(route) - 1)) if rest is not None else None
    candidate = draw(stops("new"))
    problem = PlanningProblem([Depot("D", DEPOT)], [courier], [*route, candidate], TRAVEL)
    return problem, route, rest_after, candidate


def travel_seconds(network: Network, seq: list[Stop]) -> int:
    path = [DEPOT, *(s.location for s in seq), DEPOT]
    return sum(network.seconds(a, b) for a, b in itertools.pairwise(path))


def brute_force(
    problem: PlanningProblem, route: list[Stop], rest_after: int | None, candidate: Stop
) -> dict[tuple[int, int | None], int]:
    """Every feasible (position, break index) with its extra travel, by full re-timing."""
    network = Network.of(problem)
    courier = problem.couriers[0]
    base = travel_seconds(network, route)
    found: dict[tuple[int, int | None], int] = {}
    for position in range(len(route) + 1):
        seq = [*route[:position], candidate, *route[position:]]
        if rest_after is None:
            options: list[int | None] = [None]
        elif position <= rest_after:
            options = [rest_after + 1]
        elif position == rest_after + 1:
            options = [rest_after, rest_after + 1]
        else:
            options = [rest_after]
        for new_rest in options:
            timed = schedule_route(problem, network, courier, seq, 0, new_rest)
            if not check_plan(problem, Plan((timed,), ())):
                found[(position, new_rest)] = travel_seconds(network, seq) - base
    return found


@settings(max_examples=200, deadline=None)
@given(cases())
def test_insertion_matches_full_resimulation(
    case: tuple[PlanningProblem, list[Stop], int | None, Stop],
) -> None:
    problem, route, rest_after, candidate = case
    network = Network.of(problem)
    courier = problem.couriers[0]
    old = schedule_route(problem, network, courier, route, 0, rest_after)
    without = replace(problem, stops=route)
    old_feasible = not check_plan(without, Plan((old,), ())) if route else True
    slack = RouteSlack.of(problem, network, courier, route, 0, rest_after)
    answer = best_insertion(slack, candidate)
    feasible = brute_force(problem, route, rest_after, candidate)
    if not old_feasible:
        assert answer is None
        return
    if not feasible:
        assert answer is None
        return
    assert answer is not None
    assert answer.extra_travel_s == min(feasible.values())
    assert feasible[(answer.position, answer.rest_after)] == answer.extra_travel_s


def test_break_before_a_stop_in_progress_does_not_charge_its_leg_again() -> None:
    """Found by the property above: a break planned before the stop the courier is already
    at made the slack's backward pass charge the leg to that stop, so a free insertion after
    it was refused."""
    here = Stop("s0", (0.0, 1.0), 0, 0, 0, 0, 0, courier_id="c", status=StopStatus.IN_PROGRESS)
    route = [here, Stop("s1", (0.0, 0.0), 0, 1, 0, 0, 0)]
    candidate = Stop("new", (0.0, 0.0), 0, 1, 0, 0, 0)
    courier = Courier("c", "D", 0, 400, 0, 0, rest=Break(0, 0, 0))
    problem = PlanningProblem([Depot("D", DEPOT)], [courier], [*route, candidate], TRAVEL)
    slack = RouteSlack.of(problem, Network.of(problem), courier, route, 0, -1)
    assert brute_force(problem, route, -1, candidate) == {(1, -1): 0, (2, -1): 0}
    answer = best_insertion(slack, candidate)
    assert answer is not None and answer.extra_travel_s == 0 and answer.rest_after == -1


def test_slot_offering_example(build) -> None:  # type: ignore[no-untyped-def]
    """Busy far away at 10:00: a 10:00 window next door cannot be kept; 9:00 and 11:00 can."""
    nine, ten, eleven = 32_400, 36_000, 39_600
    booked = [build.stop("far", 3000, earliest=ten, latest=ten + 600, service=300)]
    candidate_at = (100.0, 0.0)
    problem = build.problem(
        booked, couriers=[build.courier("c1", start=nine, end=64_800)], extra=[candidate_at]
    )
    network = Network.of(problem, extra=[candidate_at])
    slack = RouteSlack.of(problem, network, problem.couriers[0], booked)
    window = replace(booked[0], id="x", location=candidate_at, service_s=300)
    at_nine = best_insertion(slack, replace(window, earliest_s=nine, latest_s=ten))
    assert at_nine is not None and at_nine.position == 0
    assert best_insertion(slack, replace(window, earliest_s=ten, latest_s=ten + 600)) is None
    at_eleven = best_insertion(slack, replace(window, earliest_s=eleven, latest_s=eleven + 3600))
    assert at_eleven is not None and at_eleven.position == 1
    assert at_eleven.extra_travel_s == 0  # on the way home


@settings(max_examples=150, deadline=None)
@given(cases())
def test_slack_from_stored_legs_answers_like_the_full_network(
    case: tuple[PlanningProblem, list[Stop], int | None, Stop],
) -> None:
    # Booking builds slack from a route's stored legs and prices only the candidate
    # (``TravelTimes.between``); it must decide exactly as the full travel matrix does.
    problem, route, rest_after, candidate = case
    network = Network.of(problem)
    courier = problem.couriers[0]
    depot = problem.depot(courier.depot_id).location
    chain = [depot, *(s.location for s in route), depot]
    legs = [network.seconds(a, b) for a, b in itertools.pairwise(chain)]
    stored = RouteSlack.along(courier, depot, depot, route, legs, 0, rest_after)
    full = RouteSlack.of(problem, network, courier, route, 0, rest_after)

    def reach(u: tuple[float, float], lo: int, hi: int) -> tuple[list[int], list[int]]:
        to_u, from_u = TRAVEL.between(u, stored.points, 0)
        return to_u[lo : hi + 1], from_u[lo : hi + 1]

    assert best_insertion(stored, candidate, reach) == best_insertion(full, candidate)
