"""Making room for unserved stops: eject neighbours, insert the stop, re-insert them."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.planning.conftest import Builder, courier, make_problem, stop

from doorstep.planning import (
    Break,
    Depot,
    Network,
    Plan,
    PlanningProblem,
    Stop,
    Unserved,
    UnservedReason,
    check_plan,
)
from doorstep.planning.ejection import make_room
from doorstep.planning.exchange import Region, joint_plan, place_unserved
from doorstep.planning.insertion import RouteSlack, best_insertion
from doorstep.planning.plan import Route, schedule_route


def region_of(
    problem: PlanningProblem, routes: dict[str, list[str]], unserved: list[str]
) -> Region:
    """`problem` with the given routes (timed from shift start) and unserved stops."""
    network = Network.of(problem)
    stops = {s.id: s for s in problem.stops}
    couriers = {c.id: c for c in problem.couriers}
    timed = tuple(
        schedule_route(
            problem,
            network,
            couriers[c],
            [stops[i] for i in ids],
            couriers[c].shift_start_s,
            None if couriers[c].rest is None else len(ids) - 1,
        )
        for c, ids in routes.items()
    )
    late = tuple(Unserved(i, UnservedReason.TIME_WINDOW_UNREACHABLE) for i in unserved)
    return Region(problem, Plan(timed, late))


def test_serves_a_stop_plain_insertion_cannot_by_moving_a_neighbour(build: Builder) -> None:
    # u and v both want c1 at 400-450 s on the same street; c1 can do one of them. c3 may
    # take v after its own stop y but cannot carry u (too heavy for it), so u fits no route
    # as the routes stand: v has to move from c1 to c3 first.
    couriers = [build.courier("c1", end=2000), build.courier("c3", end=2000, weight=10)]
    stops = [
        build.stop("v", 400, earliest=400, latest=450, service=100, weight=5),
        build.stop("u", 410, earliest=400, latest=450, service=100, weight=20),
        build.stop("y", 300),
    ]
    problem = build.problem(stops, couriers)
    before = [region_of(problem, {"c1": ["v"], "c3": ["y"]}, ["u"])]
    assert check_plan(problem, before[0].plan) == []

    placed, count = place_unserved(before)
    assert count == 0
    assert placed == before

    after, served = make_room(before)

    assert served == 1
    (region,) = after
    assert region.plan.unserved == ()
    assert {r.courier_id: set(r.stop_ids) for r in region.plan.routes} == {
        "c1": {"u"},
        "c3": {"y", "v"},
    }
    assert check_plan(problem, region.plan) == []


def test_a_stop_no_move_can_serve_stays_unserved_and_nothing_changes(build: Builder) -> None:
    # As above, but nobody can take v: making room for u would only unserve v.
    couriers = [build.courier("c1", end=2000), build.courier("c3", end=2000, weight=1)]
    stops = [
        build.stop("v", 400, earliest=400, latest=450, service=100, weight=5),
        build.stop("u", 410, earliest=400, latest=450, service=100, weight=20),
        build.stop("y", 300),
    ]
    problem = build.problem(stops, couriers)
    before = [region_of(problem, {"c1": ["v"], "c3": ["y"]}, ["u"])]

    after, served = make_room(before)

    assert served == 0
    assert after == before


def test_a_run_of_stops_gives_way_for_a_far_stop_and_goes_to_other_couriers(
    build: Builder,
) -> None:
    # f lies far east and must be served early; c1 spends its morning on a, b, c to the
    # west, which c2 (already going west) can take over; one or two ejected are not enough.
    couriers = [build.courier("c1", end=5000), build.courier("c2", end=5000)]
    stops = [
        build.stop("a", -100, earliest=0, latest=400),
        build.stop("b", -200, earliest=0, latest=400),
        build.stop("c", -300, earliest=0, latest=400),
        build.stop("g", -350, earliest=0, latest=400, courier_id="c2"),  # stays with c2
        build.stop("f", 300, earliest=0, latest=300),
    ]
    problem = build.problem(stops, couriers)
    before = [region_of(problem, {"c1": ["a", "b", "c"], "c2": ["g"]}, ["f"])]
    assert place_unserved(before)[1] == 0

    for depth, expected in ((2, 0), (3, 1)):
        after, served = make_room(before, victims=0, pairs_of=0, segment=depth)
        assert served == expected
        assert check_plan(problem, after[0].plan) == []
    assert after[0].plan.route_of("c1") is not None
    assert after[0].plan.route_of("c1").stop_ids == ("f",)  # type: ignore[union-attr]


def test_stops_moved_to_another_region_go_with_their_route(build: Builder) -> None:
    # v moves from the west region's courier to the east region's one; each region's
    # problem then holds the stops its routes visit, and still checks on its own.
    west, east = Depot("W", (0.0, 0.0)), Depot("E", (800.0, 0.0))
    couriers = [
        build.courier("w1", depot="W", end=3000),
        build.courier("e1", depot="E", end=3000, weight=10),
    ]
    stops = {
        s.id: s
        for s in (
            build.stop("v", 400, earliest=400, latest=450, service=100, weight=5),
            build.stop("u", 410, earliest=400, latest=450, service=100, weight=20),
            build.stop("y", 600),
        )
    }
    whole = build.problem(list(stops.values()), couriers, depots=(west, east))

    def part(depot: Depot, ids: list[str]) -> PlanningProblem:
        return replace(
            whole,
            depots=[depot],
            couriers=[c for c in couriers if c.depot_id == depot.id],
            stops=[stops[i] for i in ids],
        )

    before = [
        region_of(part(west, ["v", "u"]), {"w1": ["v"]}, ["u"]),
        region_of(part(east, ["y"]), {"e1": ["y"]}, []),
    ]
    after, served = make_room(before)

    assert served == 1
    assert [sorted(s.id for s in r.problem.stops) for r in after] == [["u"], ["v", "y"]]
    for region in after:
        assert check_plan(region.problem, region.plan) == []
    assert check_plan(whole, joint_plan([r.plan for r in after])) == []


def test_out_of_time_stops_before_any_move(build: Builder) -> None:
    couriers = [build.courier("c1", end=2000), build.courier("c3", end=2000, weight=10)]
    stops = [
        build.stop("v", 400, earliest=400, latest=450, service=100, weight=5),
        build.stop("u", 410, earliest=400, latest=450, service=100, weight=20),
        build.stop("y", 300),
    ]
    before = [region_of(build.problem(stops, couriers), {"c1": ["v"], "c3": ["y"]}, ["u"])]
    assert make_room(before, out_of_time=lambda: True) == (before, 0)


def greedy_regions(seed: int, rests: bool) -> tuple[PlanningProblem, list[Region]]:
    """A random two-depot day, routed by cheapest insertion in random order (which leaves
    stops a better plan would serve), split into one region per depot."""
    rng = random.Random(seed)
    depots = (Depot("W", (0.0, 0.0)), Depot("E", (600.0, 0.0)))
    rest = Break(900, 1500, 120) if rests else None
    couriers = [
        courier(f"{d.id}{k}", depot=d.id, end=3600, weight=40, rest=rest if k == 0 else None)
        for d in depots
        for k in range(3)
    ]
    stops = []
    for i in range(40):
        start = rng.randrange(0, 3000, 100)
        stops.append(
            stop(
                f"s{i:02d}",
                rng.randrange(-400, 1000, 10),
                rng.randrange(-300, 300, 10),
                earliest=start,
                latest=start + rng.choice((150, 300, 600)),
                service=rng.choice((30, 60)),
                weight=rng.choice((1, 3, 5)),
            )
        )
    problem = make_problem(stops, couriers, depots=depots)
    network = Network.of(problem)
    seqs: dict[str, list[Stop]] = {c.id: [] for c in couriers}
    rest_at: dict[str, int | None] = {c.id: None for c in couriers}
    unserved = []
    for s in rng.sample(stops, len(stops)):
        best = None
        for c in couriers:
            slack = RouteSlack.of(problem, network, c, seqs[c.id], 0, rest_at[c.id])
            place = best_insertion(slack, s)
            if place is not None and (
                best is None or place.extra_travel_s < best[1].extra_travel_s
            ):
                best = (c, place)
        if best is None:
            unserved.append(s.id)
            continue
        c, place = best
        seqs[c.id].insert(place.position, s)
        rest_at[c.id] = (
            None
            if c.rest is None
            else (len(seqs[c.id]) - 1 if place.rest_after is None else place.rest_after)
        )
    by_depot = {d.id: d for d in depots}
    regions = []
    for d in depots:
        own = [c for c in couriers if c.depot_id == d.id]
        ids = {s.id for c in own for s in seqs[c.id]}
        home = [i for i in unserved if (int(i[1:]) % 2 == 0) == (d.id == "W")]
        part = replace(
            problem,
            depots=[by_depot[d.id]],
            couriers=own,
            stops=[s for s in stops if s.id in ids or s.id in home],
        )
        routes: list[Route] = [
            schedule_route(part, network, c, seqs[c.id], 0, rest_at[c.id])
            for c in own
            if seqs[c.id]
        ]
        late = tuple(Unserved(i, UnservedReason.TIME_WINDOW_UNREACHABLE) for i in home)
        regions.append(Region(part, Plan(tuple(routes), late)))
    return problem, regions


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), rests=st.booleans())
def test_never_infeasible_never_loses_a_stop_and_serves_only_more(seed: int, rests: bool) -> None:
    problem, before = greedy_regions(seed, rests)
    for region in before:
        assert check_plan(region.problem, region.plan) == []

    after, served = make_room(before)

    # The planner's own checker, per region and over the whole day: every stop routed once
    # or unserved, none lost or doubled, every window, break, capacity and shift kept.
    for region in after:
        assert check_plan(region.problem, region.plan) == []
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []
    held = Counter(s.id for r in after for s in r.problem.stops)
    assert held == Counter(s.id for s in problem.stops)
    was = {u.stop_id for r in before for u in r.plan.unserved}
    now = {u.stop_id for r in after for u in r.plan.unserved}
    assert now <= was
    assert len(was) - len(now) == served


def test_the_random_days_above_do_leave_room_to_make() -> None:
    # So the property above is not vacuous: on these days the repair does move stops,
    # with and without breaks.
    for rests in (False, True):
        served = sum(make_room(greedy_regions(seed, rests)[1])[1] for seed in range(6))
        assert served >= 3
