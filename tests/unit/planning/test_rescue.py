"""Re-solving the routes around an unserved stop together with it (planning.rescue)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from tests.unit.planning.conftest import Builder

from doorstep.planning import (
    Depot,
    Network,
    Plan,
    PlanningProblem,
    SolveParams,
    Unserved,
    UnservedReason,
    check_plan,
    solve,
)
from doorstep.planning.ejection import make_room
from doorstep.planning.exchange import Region, joint_plan, place_unserved
from doorstep.planning.plan import schedule_route
from doorstep.planning.rescue import apply_rescue, rescue_jobs

PARAMS = SolveParams(seed=1, time_limit_s=30, max_iterations=300)


def region_of(
    problem: PlanningProblem,
    depot: str,
    routes: dict[str, list[str]],
    unserved: Sequence[str] = (),
    reason: UnservedReason = UnservedReason.TIME_WINDOW_UNREACHABLE,
) -> Region:
    """`depot`'s part of `problem`: its couriers, the stops named, the routes as given."""
    couriers = {c.id: c for c in problem.couriers if c.depot_id == depot}
    named = {i for ids in routes.values() for i in ids} | set(unserved)
    part = PlanningProblem(
        depots=[problem.depot(depot)],
        couriers=list(couriers.values()),
        stops=[s for s in problem.stops if s.id in named],
        travel=problem.travel,
    )
    network = Network.of(part)
    stops = {s.id: s for s in part.stops}
    timed = tuple(
        schedule_route(
            part, network, couriers[c], [stops[i] for i in ids], couriers[c].shift_start_s, None
        )
        for c, ids in routes.items()
    )
    return Region(part, Plan(timed, tuple(Unserved(i, reason) for i in unserved)))


def rescue(regions: list[Region], **kw: int) -> tuple[list[Region], int]:
    jobs = rescue_jobs(regions, **kw)
    plans = [solve(j.problem, PARAMS, warm_start=j.warm_start) for j in jobs]
    return apply_rescue(regions, jobs, plans)


def every_stop_once(regions: list[Region]) -> Counter[str]:
    return Counter(
        [i for r in regions for route in r.plan.routes for i in route.stop_ids]
        + [u.stop_id for r in regions for u in r.plan.unserved]
    )


def far_stop_city(build: Builder) -> PlanningProblem:
    """West's one courier is due at v (x=400) and u (x=-400) in the same 100 s; east has one
    courier due far west at f (700 s from its depot by 700 s) and one idle at its depot, 100
    from u."""
    west, east = Depot("W", (0.0, 0.0)), Depot("E", (-500.0, 0.0))
    couriers = [
        build.courier("w1", depot="W", end=3000),
        build.courier("e1", depot="E", end=3000),
        build.courier("e2", depot="E", end=3000),
    ]
    stops = [
        build.stop("v", 400, earliest=400, latest=500, service=50),
        build.stop("u", -400, earliest=400, latest=500, service=50),
        build.stop("f", -1200, earliest=300, latest=700),
    ]
    return build.problem(stops, couriers, depots=(west, east))


def test_an_idle_courier_of_a_neighbouring_depot_serves_a_stop_no_route_can_take(
    build: Builder,
) -> None:
    problem = far_stop_city(build)
    before = [
        region_of(problem, "W", {"w1": ["v"]}, ["u"]),
        region_of(problem, "E", {"e1": ["f"]}),
    ]
    # Neither insertion into a route nor moving a neighbour reaches it: only e1 (far east
    # at that hour, then too late) and w1 (due at v) have routes.
    assert place_unserved(before)[1] == 0
    assert make_room(before)[1] == 0

    after, improved = rescue(before)

    assert improved == 1
    assert every_stop_once(after) == Counter({"v": 1, "u": 1, "f": 1})
    assert [u for r in after for u in r.plan.unserved] == []
    east = after[1]
    assert "u" in {s.id for s in east.problem.stops}
    assert "u" not in {s.id for s in after[0].problem.stops}
    (route,) = [r for r in east.plan.routes if "u" in r.stop_ids]
    assert route.courier_id in {"e1", "e2"}
    for region in after:
        assert check_plan(region.problem, region.plan) == []
    assert check_plan(problem, joint_plan([r.plan for r in after])) == []


def test_the_job_holds_the_routes_near_the_stop_in_its_hour_and_its_idle_couriers(
    build: Builder,
) -> None:
    problem = far_stop_city(build)
    before = [
        region_of(problem, "W", {"w1": ["v"]}, ["u"]),
        region_of(problem, "E", {"e1": ["f"]}),
    ]

    (job,) = rescue_jobs(before, in_hour=1, anytime=1, idle=1)

    assert job.members == (0, 1)
    assert {c.id for c in job.problem.couriers} == {"w1", "e1", "e2"}
    assert {s.id for s in job.problem.stops} == {"v", "u", "f"}
    assert [u.stop_id for u in job.warm_start.unserved] == ["u"]
    assert {r.courier_id for r in job.warm_start.routes} == {"w1", "e1"}


def test_routes_near_the_stop_in_its_hour_come_before_routes_nearer_at_another_hour(
    build: Builder,
) -> None:
    couriers = [build.courier("c1"), build.courier("c2")]
    stops = [
        build.stop("u", 1000, earliest=10_000, latest=10_100),
        build.stop("early", 1000, 10, earliest=1000, latest=1100),
        build.stop("late", 1000, 300, earliest=9_900, latest=10_000),
    ]
    problem = build.problem(stops, couriers)
    before = [region_of(problem, "D", {"c1": ["early"], "c2": ["late"]}, ["u"])]

    (in_hour,) = rescue_jobs(before, in_hour=1, anytime=0, idle=0)
    (anytime,) = rescue_jobs(before, in_hour=0, anytime=1, idle=0)

    assert [c.id for c in in_hour.problem.couriers] == ["c2"]
    assert [c.id for c in anytime.problem.couriers] == ["c1"]


def test_stops_sharing_routes_share_a_job_and_the_job_stops_growing_at_max_routes(
    build: Builder,
) -> None:
    couriers = [build.courier(f"c{i}", end=5000) for i in range(4)]
    stops = [build.stop(f"s{i}", 100 * (i + 1)) for i in range(4)]
    stops += [build.stop("a", 150, earliest=0, latest=10), build.stop("b", 350, latest=10)]
    problem = build.problem(stops, couriers)
    routes = {f"c{i}": [f"s{i}"] for i in range(4)}
    before = [region_of(problem, "D", routes, ["a", "b"])]

    # Each stop takes its two nearest routes: a -> c0, c1; b -> c2, c3 (disjoint).
    apart = rescue_jobs(before, in_hour=0, anytime=2, idle=0)
    assert sorted(sorted(c.id for c in j.problem.couriers) for j in apart) == [
        ["c0", "c1"],
        ["c2", "c3"],
    ]
    # Three routes each overlap (a -> c0, c1, c2; b -> c1, c2, c3): one job of four routes.
    (together,) = rescue_jobs(before, in_hour=0, anytime=3, idle=0)
    assert sorted(c.id for c in together.problem.couriers) == ["c0", "c1", "c2", "c3"]
    assert sorted(u.stop_id for u in together.warm_start.unserved) == ["a", "b"]
    # Capped at three routes: b joins a's job without bringing c3.
    (capped,) = rescue_jobs(before, in_hour=0, anytime=3, idle=0, max_routes=3)
    assert sorted(c.id for c in capped.problem.couriers) == ["c0", "c1", "c2"]
    assert sorted(s.id for s in capped.problem.stops) == ["a", "b", "s0", "s1", "s2"]


def test_nothing_to_rescue_for_capacity_or_when_every_stop_is_served(build: Builder) -> None:
    problem = far_stop_city(build)
    served = [region_of(problem, "W", {"w1": ["v", "u"]}), region_of(problem, "E", {"e1": ["f"]})]
    assert rescue_jobs(served) == []
    heavy = [
        region_of(problem, "W", {"w1": ["v"]}, ["u"], UnservedReason.CAPACITY),
        region_of(problem, "E", {"e1": ["f"]}),
    ]
    assert rescue_jobs(heavy) == []


def test_a_job_that_serves_nothing_more_changes_nothing(build: Builder) -> None:
    # u's window closed before any courier can get there: every job keeps it unserved.
    west = Depot("W", (0.0, 0.0))
    couriers = [build.courier("w1", depot="W", end=3000), build.courier("w2", depot="W", end=3000)]
    stops = [build.stop("u", 900, latest=100), build.stop("a", 100), build.stop("b", -100)]
    problem = build.problem(stops, couriers, depots=(west,))
    before = [region_of(problem, "W", {"w1": ["a"], "w2": ["b"]}, ["u"])]

    after, improved = rescue(before)

    assert improved == 0
    assert after == before


def test_two_jobs_touching_one_region_both_land_and_other_unserved_stops_stay(
    build: Builder,
) -> None:
    # One region, two far-apart corners, each with a route due elsewhere in u's (z's) hour
    # and one with time to spare; a heavy stop no courier can carry stays unserved throughout.
    couriers = [build.courier(c, end=6000) for c in ("a1", "a2", "b1", "b2")]
    stops = [
        build.stop("va", 400, earliest=400, latest=500, service=50),
        build.stop("fa", 10),
        build.stop("u", -400, earliest=400, latest=500, service=50),
        build.stop("vb", 400, 2000, earliest=2400, latest=2500, service=50),
        build.stop("fb", 10, 2000),
        build.stop("z", -400, 2000, earliest=2400, latest=2500, service=50),
        build.stop("heavy", 10, weight=10**9),
    ]
    problem = build.problem(stops, couriers)
    routes = {"a1": ["va"], "a2": ["fa"], "b1": ["vb"], "b2": ["fb"]}
    before = [region_of(problem, "D", routes, ["u", "z"])]
    before[0] = Region(
        replace(before[0].problem, stops=[*before[0].problem.stops, stops[-1]]),
        replace(
            before[0].plan,
            unserved=(*before[0].plan.unserved, Unserved("heavy", UnservedReason.CAPACITY)),
        ),
    )

    assert check_plan(before[0].problem, before[0].plan) == []

    jobs = rescue_jobs(before, in_hour=2, anytime=0, idle=0)
    assert sorted(sorted(c.id for c in j.problem.couriers) for j in jobs) == [
        ["a1", "a2"],
        ["b1", "b2"],
    ]
    after, improved = apply_rescue(
        before, jobs, [solve(j.problem, PARAMS, warm_start=j.warm_start) for j in jobs]
    )

    assert improved == 2
    assert every_stop_once(after) == Counter(["va", "fa", "u", "vb", "fb", "z", "heavy"])
    assert [(u.stop_id, u.reason) for u in after[0].plan.unserved] == [
        ("heavy", UnservedReason.CAPACITY)
    ]
    assert check_plan(after[0].problem, after[0].plan) == []
    assert sorted(s.id for s in after[0].problem.stops) == sorted(s.id for s in stops)


def test_a_plan_that_loses_a_stop_is_not_merged(build: Builder) -> None:
    problem = far_stop_city(build)
    before = [
        region_of(problem, "W", {"w1": ["v"]}, ["u"]),
        region_of(problem, "E", {"e1": ["f"]}),
    ]
    (job,) = rescue_jobs(before)
    solved = solve(job.problem, PARAMS, warm_start=job.warm_start)
    lost = Plan(solved.routes, ())  # every route kept, u neither routed nor listed unserved
    if "u" in {i for r in solved.routes for i in r.stop_ids}:
        lost = Plan(tuple(r for r in solved.routes if "u" not in r.stop_ids), ())

    after, improved = apply_rescue(before, [job], [lost], [0])

    assert improved == 0
    assert after == before
