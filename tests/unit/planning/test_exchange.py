"""Border exchange: neighbouring depot parts re-solved together, warm-started from their plans."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest
from tests.unit.planning.conftest import Builder

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    Network,
    Plan,
    PlanningProblem,
    SolveParams,
    Stop,
    Unserved,
    UnservedReason,
    check_plan,
    solve,
)
from doorstep.planning.exchange import (
    Region,
    apply_exchange,
    exchange_jobs,
    joint_plan,
    place_unserved,
    routes_nearest,
)
from doorstep.planning.partition import group_neighbours, partition_by_depot
from doorstep.planning.plan import schedule_route

PARAMS = SolveParams(seed=1, time_limit_s=30, max_iterations=300)


def two_depots(build: Builder, x_window: tuple[int, int], east_shift_end: int) -> PlanningProblem:
    west, east = Depot("W", (0.0, 0.0)), Depot("E", (1000.0, 0.0))
    couriers = [
        build.courier("w1", depot="W"),
        build.courier("e1", depot="E", end=east_shift_end),
    ]
    stops = [
        build.stop("w-a", 100, 0),
        build.stop("w-b", 150, 50),
        build.stop("w-c", 200, -50),
        # Next door to the east depot, but the partition (here: by hand) gave it to the west.
        build.stop("x", 950, 0, earliest=x_window[0], latest=x_window[1]),
        build.stop("e-a", 980, 10),
        build.stop("e-b", 970, -10),
    ]
    return build.problem(stops, couriers, depots=(west, east))


def regions_of(problem: PlanningProblem, sides: dict[str, list[str]]) -> list[Region]:
    stops = {s.id: s for s in problem.stops}
    out = []
    for depot in problem.depots:
        part = replace(
            problem,
            depots=[depot],
            couriers=[c for c in problem.couriers if c.depot_id == depot.id],
            stops=[stops[i] for i in sides[depot.id]],
        )
        out.append(Region(part, solve(part, PARAMS)))
    return out


def exchange(regions: list[Region]) -> tuple[list[Region], int]:
    jobs = exchange_jobs(regions)
    plans = [solve(j.problem, PARAMS, warm_start=j.warm_start) for j in jobs]
    return apply_exchange(regions, jobs, plans)


def owner(regions: list[Region], stop_id: str) -> str:
    (region,) = [r for r in regions if stop_id in {s.id for s in r.problem.stops}]
    (route,) = [r for r in region.plan.routes if stop_id in r.stop_ids]
    return f"{region.problem.depots[0].id}/{route.courier_id}"


SIDES = {"W": ["w-a", "w-b", "w-c", "x"], "E": ["e-a", "e-b"]}


def test_a_stop_moves_across_the_border_when_that_is_cheaper(build: Builder) -> None:
    problem = two_depots(build, (0, build.day), build.day)
    before = regions_of(problem, SIDES)
    assert owner(before, "x") == "W/w1"

    after, improved = exchange(before)

    assert improved == 1
    assert owner(after, "x") == "E/e1"
    assert (
        joint_plan([r.plan for r in after]).distance < joint_plan([r.plan for r in before]).distance
    )
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []


def test_a_stop_stays_when_the_cheaper_side_cannot_keep_its_window(build: Builder) -> None:
    # The east courier's shift ends at 300 s; the stop's window opens at 1,000 s.
    problem = two_depots(build, (1000, 1200), 300)
    before = regions_of(problem, SIDES)

    after, _ = exchange(before)

    assert owner(after, "x") == "W/w1"
    visit = next(v for r in after for rt in r.plan.routes for v in rt.visits if v.stop_id == "x")
    assert 1000 <= visit.start_s <= 1200
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []


def test_a_stop_no_courier_of_its_region_can_reach_goes_to_a_neighbours_route(
    build: Builder,
) -> None:
    # x closes at 500 s: 950 s from the west depot, 50 s from the east one.
    problem = two_depots(build, (0, 500), build.day)
    before = regions_of(problem, SIDES)
    assert [u.stop_id for u in before[0].plan.unserved] == ["x"]

    after, placed = place_unserved(before)

    assert placed == 1
    assert owner(after, "x") == "E/e1"
    assert [len(r.plan.unserved) for r in after] == [0, 0]
    for region in after:  # x moved with its route: each part still checks on its own
        assert check_plan(region.problem, region.plan) == []
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []


def test_routes_nearest_a_point_come_by_their_closest_stop_across_regions(
    build: Builder,
) -> None:
    # w1 runs out to x (950 m), e1 stays by its depot (970-980 m).
    problem = two_depots(build, (0, build.day), build.day)
    regions = regions_of(problem, SIDES)

    def order(point: tuple[float, float]) -> list[str]:
        return [f"{j}/{route.courier_id}" for j, route in routes_nearest(regions, point)]

    assert order((990.0, 0.0)) == ["1/e1", "0/w1"]
    assert order((100.0, 0.0)) == ["0/w1", "1/e1"]
    # A courier without stops has no route to offer.
    idle = replace(regions[1], plan=Plan(routes=(), unserved=()))
    assert [j for j, _ in routes_nearest([regions[0], idle], (990.0, 0.0))] == [0]


def test_a_stop_nobody_can_reach_stays_unserved(build: Builder) -> None:
    problem = two_depots(build, (0, 20), build.day)  # 50 s from the nearest courier
    before = regions_of(problem, SIDES)

    after, placed = place_unserved(before)

    assert placed == 0
    assert [u.stop_id for r in after for u in r.plan.unserved] == ["x"]
    assert after == before


def test_routes_near_an_unserved_stop_join_the_border_group(build: Builder) -> None:
    # On one line: W at 0, E at 1000. w1 runs towards E (the border route); w2 and w3 run
    # away from it, where the unserved stop u lies. Only a third of the couriers is border.
    west, east = Depot("W", (0.0, 0.0)), Depot("E", (1000.0, 0.0))
    couriers = [build.courier(c, depot="W") for c in ("w1", "w2", "w3")]
    couriers.append(build.courier("e1", depot="E"))
    where = {"a": 400, "b": -300, "c": -600, "u": -650, "e": 900}
    stops = {k: build.stop(k, x) for k, x in where.items()}
    problem = build.problem(list(stops.values()), couriers, depots=(west, east))
    network = Network.of(problem)
    by_courier = {c.id: c for c in couriers}

    def region(depot: Depot, routes: dict[str, str], unserved: list[str]) -> Region:
        part = replace(
            problem,
            depots=[depot],
            couriers=[c for c in couriers if c.depot_id == depot.id],
            stops=[stops[k] for k in [*routes.values(), *unserved]],
        )
        timed = tuple(
            schedule_route(part, network, by_courier[c], [stops[k]], 0, None)
            for c, k in routes.items()
        )
        late = tuple(Unserved(k, UnservedReason.TIME_WINDOW_UNREACHABLE) for k in unserved)
        return Region(part, Plan(timed, late))

    east_region = region(east, {"e1": "e"}, [])
    for unserved, expected in (([], {"w1", "e1"}), (["u"], {"w1", "w2", "w3", "e1"})):
        west_region = region(west, {"w1": "a", "w2": "b", "w3": "c"}, unserved)
        (job,) = exchange_jobs([west_region, east_region], 2, border_share=0.3)
        assert {c.id for c in job.problem.couriers} == expected
        assert {s.id for s in job.problem.stops} == {
            "a",
            "e",
            *(["b", "c", "u"] if unserved else []),
        }


def city(stops: int, depots: int, seed: int) -> PlanningProblem:
    rng = random.Random(seed)
    depot_list = [
        Depot(f"d{i}", (31.10 + 0.2 * rng.random(), 121.35 + 0.25 * rng.random()))
        for i in range(depots)
    ]
    couriers = [
        Courier(f"d{i}-{k}", f"d{i}", 9 * 3600, 19 * 3600, 100_000, 1_000_000)
        for i in range(depots)
        for k in range(2)
    ]
    points = [
        Stop(
            f"s{i}",
            (31.10 + rng.random() * 0.2, 121.35 + rng.random() * 0.25),
            (start := 9 * 3600 + 7200 * rng.randrange(4)),
            start + 7200,
            120,
            rng.choice((300, 4000)),
        )
        for i in range(stops)
    ]
    return PlanningProblem(depot_list, couriers, points, HaversineTravel())


@pytest.mark.parametrize(("size", "share"), [(2, 1.0), (3, 1.0), (2, 0.5), (3, 0.5)])
def test_rounds_lose_and_duplicate_no_stop_and_keep_windows(size: int, share: float) -> None:
    problem = city(90, 5, seed=3)
    regions = [Region(p, solve(p, PARAMS)) for p in partition_by_depot(problem)]
    start = joint_plan([r.plan for r in regions])
    tried: set[frozenset[int]] = set()
    for _ in range(2):
        jobs = exchange_jobs(regions, size, frozenset(tried), share)
        tried |= {frozenset(j.members) for j in jobs}
        if share < 1:
            # Two couriers per depot: only the one nearer the neighbours takes part.
            assert all(len(j.problem.couriers) == len(j.members) for j in jobs)
        plans = [solve(j.problem, PARAMS, warm_start=j.warm_start) for j in jobs]
        regions, _ = apply_exchange(regions, jobs, plans)

    plan = joint_plan([r.plan for r in regions])
    # check_plan on the whole city: each stop routed once or listed unserved, none missing,
    # every window, capacity and shift kept.
    assert check_plan(problem, plan) == []
    held = Counter(s.id for r in regions for s in r.problem.stops)
    assert held == Counter(s.id for s in problem.stops)
    for region in regions:
        assert check_plan(region.problem, region.plan) == []
    assert (len(plan.unserved), plan.distance) <= (len(start.unserved), start.distance)


def test_only_the_routes_nearest_the_border_are_re_solved(build: Builder) -> None:
    west, east = Depot("W", (0.0, 0.0)), Depot("E", (1000.0, 0.0))
    couriers = [
        build.courier("w-far", depot="W"),
        build.courier("w-near", depot="W"),
        build.courier("e1", depot="E"),
    ]
    stops = [
        # w-far works west of its depot, w-near towards the east depot (they are pinned
        # there for the first solve so the two routes are known).
        build.stop("far-a", -300, 0, courier_id="w-far"),
        build.stop("far-b", -350, 40, courier_id="w-far"),
        build.stop("near-a", 600, 0, courier_id="w-near"),
        build.stop("x", 950, 0, courier_id="w-near"),
        build.stop("e-a", 980, 10),
    ]
    problem = build.problem(stops, couriers, depots=(west, east))
    regions = regions_of(problem, {"W": ["far-a", "far-b", "near-a", "x"], "E": ["e-a"]})

    (job,) = exchange_jobs(regions, border_share=0.5)

    assert {c.id for c in job.problem.couriers} == {"w-near", "e1"}
    assert {s.id for s in job.problem.stops} == {"near-a", "x", "e-a"}
    far = next(r for r in regions[0].plan.routes if r.courier_id == "w-far")
    plan = solve(job.problem, PARAMS, warm_start=job.warm_start)
    after, _ = apply_exchange(regions, [job], [plan])
    assert next(r for r in after[0].plan.routes if r.courier_id == "w-far") == far
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []


def test_a_worse_or_invalid_joint_plan_is_not_taken(build: Builder) -> None:
    problem = two_depots(build, (0, build.day), build.day)
    before = regions_of(problem, SIDES)
    jobs = exchange_jobs(before)
    (job,) = jobs
    # Worse: the same routes with one stop dropped to unserved is not "better".
    worse = solve(job.problem, replace(PARAMS, max_iterations=1), warm_start=job.warm_start)
    worse = replace(worse, routes=worse.routes[:1])
    after, improved = apply_exchange(before, jobs, [worse])
    assert improved == 0
    assert after == before
    # Invalid: a stop routed twice fails check_plan, even if it looks shorter.
    route = job.warm_start.routes[0]
    twice = replace(job.warm_start, routes=(route, route), unserved=())
    after, improved = apply_exchange(before, jobs, [twice])
    assert improved == 0
    assert after == before


def test_groups_are_disjoint_and_a_new_round_finds_new_partners() -> None:
    parts = partition_by_depot(city(60, 7, seed=5))
    pairs = group_neighbours(parts, 2)
    triples = group_neighbours(parts, 3)
    for groups, size in ((pairs, 2), (triples, 3)):
        members = [k for g in groups for k in g]
        assert len(members) == len(set(members))
        assert all(len(g) <= size for g in groups)
    assert len(pairs) == 3
    assert [len(g) for g in triples] == [3, 3]
    again = group_neighbours(parts, 2, {frozenset(p) for p in pairs})
    assert not {frozenset(p) for p in again} & {frozenset(p) for p in pairs}
    with pytest.raises(ValueError):
        group_neighbours(parts, 1)
