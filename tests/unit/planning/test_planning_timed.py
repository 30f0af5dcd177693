"""Time-bucketed pricing: a leg costs the slowest hour it can be driven in, and plans made
with it are feasible under the same model and never slower than real traffic says."""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    PlanningProblem,
    SolveParams,
    Stop,
    check_plan,
    solve,
)
from doorstep.planning.problem import Network
from doorstep.planning.timed import bucketed_matrix, hours

H = 3600
DEPOT = (31.2304, 121.4737)
PLACES = [(31.2304 + 0.01 * i, 121.4737 + 0.008 * (i % 3)) for i in range(1, 9)]


def test_hours_touched_are_clamped_to_the_day() -> None:
    assert list(hours(9 * H, 10 * H)) == [9, 10]
    assert list(hours(-5, 30)) == [0]
    assert list(hours(23 * H, 30 * H)) == [23]


def test_morning_legs_cost_morning_traffic_and_evening_legs_the_peak() -> None:
    travel = HaversineTravel()
    locations = [DEPOT, PLACES[0], PLACES[1]]
    spans = [None, (10 * H, 11 * H), (18 * H, 19 * H)]
    timed = bucketed_matrix(travel, locations, spans)
    noon = travel.matrix(locations, 12 * H)
    peak = travel.matrix(locations, 18 * H)
    assert timed.durations[0, 1] == noon.durations[0, 1] < peak.durations[0, 1]
    assert timed.durations[0, 2] == peak.durations[0, 2]
    # Into the depot any hour may apply: the slowest of the day.
    assert timed.durations[1, 0] == peak.durations[1, 0]
    assert (timed.distances == noon.distances).all()


def test_timed_plan_is_feasible_and_its_morning_legs_cheaper_than_peak_pricing() -> None:
    stops = [
        Stop(f"s{i}", loc, (9 + i % 4) * H, (10 + i % 4) * H, 300) for i, loc in enumerate(PLACES)
    ]
    couriers = [Courier(f"c{i}", "D", 9 * H, 14 * H, 10**6, 10**7) for i in range(2)]
    peak = PlanningProblem([Depot("D", DEPOT)], couriers, stops, HaversineTravel(), 17 * H + 1800)
    timed = replace(peak, timed=True)
    params = SolveParams(seed=1, time_limit_s=5.0, max_iterations=200)
    plan = solve(timed, params)
    assert check_plan(timed, plan) == []
    # Every planned leg is at least as long as a leg driven at its real departure hour.
    network = Network.of(timed)
    travel = HaversineTravel()
    by_id = {s.id: s for s in stops}
    for route in plan.routes:
        where = DEPOT
        for visit in route.visits:
            stop = by_id[visit.stop_id]
            depart = max(visit.start_s - network.seconds(where, stop.location), 0)
            real = travel.matrix([where, stop.location], depart).durations[0, 1]
            assert network.seconds(where, stop.location) >= real
            where = stop.location
    assert Network.of(timed).seconds(DEPOT, PLACES[0]) < Network.of(peak).seconds(DEPOT, PLACES[0])
