"""Time-bucketed pricing: a leg costs the slowest hour it can be driven in, and plans made
with it are feasible under the same model and never slower than real traffic says."""

from __future__ import annotations

from dataclasses import replace

import hypothesis.strategies as st
import numpy as np
from hypothesis import HealthCheck, given, settings

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
from doorstep.planning.insertion import RouteSlack, best_insertion
from doorstep.planning.problem import Network
from doorstep.planning.timed import TimedTravel, bucketed_matrix, hours, profile_buckets
from doorstep.planning.travel import MatrixTravel

H = 3600
DEPOT = (31.2304, 121.4737)
PLACES = [(31.2304 + 0.01 * i, 121.4737 + 0.008 * (i % 3)) for i in range(1, 9)]
# Spread over ~15 km, so that a leg's hour matters for whether a window can be kept.
FAR = [(31.2304 + 0.02 * (i % 4) - 0.03, 121.4737 + 0.025 * (i // 4) - 0.01) for i in range(8)]


def test_hours_touched_are_clamped_to_the_day() -> None:
    assert list(hours(9 * H, 10 * H)) == [9, 10]
    assert list(hours(-5, 30)) == [0]
    assert list(hours(23 * H, 30 * H)) == [23]


def test_morning_legs_cost_morning_traffic_and_evening_legs_the_peak() -> None:
    travel = HaversineTravel()
    locations = [DEPOT, PLACES[0], PLACES[1]]
    spans = [None, (10 * H, 11 * H), (18 * H, 19 * H)]
    timed = bucketed_matrix(TimedTravel(travel, margin=1.0), locations, spans)
    noon = travel.matrix(locations, 12 * H)
    peak = travel.matrix(locations, 18 * H)
    assert timed.durations[0, 1] == noon.durations[0, 1] < peak.durations[0, 1]
    # With a margin, an off-peak leg costs more than its bucket but never more than the peak.
    margined = bucketed_matrix(TimedTravel(travel, margin=1.2), locations, spans)
    assert noon.durations[0, 1] < margined.durations[0, 1] < peak.durations[0, 1]
    assert margined.durations[0, 2] == peak.durations[0, 2]
    assert (
        bucketed_matrix(TimedTravel(travel, margin=3.0), locations, spans).durations[0, 1]
        == peak.durations[0, 1]
    )
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
    # s1 (10-11) is reached after the morning peak; s0 (9-10) may be left for in it.
    assert Network.of(timed).seconds(DEPOT, PLACES[1]) < Network.of(peak).seconds(DEPOT, PLACES[1])


def test_the_city_profile_has_few_buckets_and_a_matrix_one() -> None:
    # Night, off-peak, morning peak, off-peak, evening peak, off-peak, night.
    assert profile_buckets(HaversineTravel()) == (0, 6, 7, 9, 17, 19, 22)
    matrix = MatrixTravel(
        (DEPOT,), np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1), dtype=np.int64)
    )
    assert profile_buckets(matrix) == (0,)


def test_a_morning_leg_is_cheaper_than_the_same_leg_in_the_evening() -> None:
    timed = TimedTravel(HaversineTravel(), margin=1.0)
    points = [DEPOT, PLACES[3], PLACES[5]]
    morning = timed.legs(points, [(10 * H, 11 * H), (11 * H, 12 * H)])
    evening = timed.legs(points, [(17 * H, 18 * H), (18 * H, 19 * H)])
    peak = HaversineTravel().matrix(points, 17 * H + 1800).durations
    assert morning[0] < evening[0] == peak[0, 1]
    assert morning[1] < evening[1] == peak[1, 2]
    # One price per bucket of the profile the leg may be driven in: a 10:00 window is
    # reached after 09:00 (off-peak), a 09:00 window may be left for in the 08:00 peak ...
    assert timed.price_seconds((10 * H, 11 * H)) == (9 * H,)
    assert timed.price_seconds((9 * H, 10 * H)) == (8 * H, 9 * H)
    # ... and a window that may be driven into the evening peak costs the peak.
    assert 17 * H in timed.price_seconds((16 * H, 18 * H))


def _real_ring_times(
    timed: TimedTravel, start: tuple[float, float], stops: list[Stop], free_from_s: int
) -> list[int]:
    return timed.retime(
        [start, *(s.location for s in stops)],
        [(s.earliest_s, s.latest_s) for s in stops],
        [s.service_s for s in stops],
        free_from_s,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(9, 20), st.sampled_from([1800, 3600, 7200])),
        min_size=1,
        max_size=30,
    )
)
def test_windows_promised_with_bucketed_legs_hold_when_driven_at_real_hours(
    wanted: list[tuple[int, int, int]],
) -> None:
    """Build a route by cheapest insertion with bucketed prices, then drive it leg by leg at
    each leg's real departure hour: every visit still starts inside its window."""
    timed = TimedTravel(HaversineTravel(), margin=1.0)  # the promise holds without it
    courier = Courier("c", "D", 9 * H, 22 * H, 10**7, 10**8)
    route: list[Stop] = []
    for i, (place, hour, width) in enumerate(wanted):
        candidate = Stop(f"s{i}", FAR[place], hour * H, hour * H + width, 300)
        points = [DEPOT, *(s.location for s in route), DEPOT]
        spans = [*((s.earliest_s, s.latest_s) for s in route), None]
        legs = timed.legs(points, spans)
        slack = RouteSlack.along(courier, DEPOT, DEPOT, route, legs)
        node_spans = [None, *spans]
        reach = timed.reach(slack.points, node_spans)
        found = best_insertion(slack, candidate, reach((candidate.earliest_s, candidate.latest_s)))
        if found is not None:
            route.insert(found.position, candidate)
    begins = _real_ring_times(timed, DEPOT, route, courier.shift_start_s)
    for stop, begin in zip(route, begins, strict=True):
        assert stop.earliest_s <= begin <= stop.latest_s


def test_retiming_is_earlier_than_peak_pricing_in_the_morning() -> None:
    timed = TimedTravel(HaversineTravel())
    # Two visits in one morning window: the second one's time depends on the drive between.
    stops = [
        Stop("a", PLACES[0], 10 * H, 12 * H, 300),
        Stop("b", PLACES[7], 10 * H, 12 * H, 300),
    ]
    real = _real_ring_times(timed, DEPOT, stops, 9 * H)
    peak = HaversineTravel().matrix([PLACES[0], PLACES[7]], 17 * H + 1800).durations[0, 1]
    assert real[0] == 10 * H
    assert real[1] < real[0] + 300 + peak


def test_candidate_legs_are_priced_like_stored_legs() -> None:
    """``reach`` (vectors per bucket, for offers) gives each leg what ``legs`` (one leg at a
    time, for stored routes) gives it, margin and long-leg rule included."""
    timed = TimedTravel(HaversineTravel(), margin=1.2)
    far = (31.60, 121.90)  # a leg of hours: longer than the lead
    points = [DEPOT, *PLACES[:4], far, DEPOT]
    spans = [None, (9 * H, 10 * H), (12 * H, 13 * H), (17 * H, 18 * H), (20 * H, 21 * H)]
    spans += [(10 * H, 12 * H), None]
    for window in [(9 * H, 10 * H), (11 * H, 12 * H), (18 * H, 19 * H)]:
        u = PLACES[6]
        to_u, from_u = timed.reach(points, spans)(window)(u, 0, len(points) - 1)
        assert to_u == [timed.legs([p, u], [window])[0] for p in points]
        assert from_u == [
            timed.legs([u, p], [span])[0] for p, span in zip(points, spans, strict=True)
        ]
