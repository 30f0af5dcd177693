"""Exchange across depot borders: neighbouring parts of a city-day re-solved as one problem.

The partition gives each stop to one depot before any route exists, so a stop near a border
can end up on the costlier side. A round re-solves groups of neighbouring parts together (or
only their routes nearest each other, with `border_share`),
warm-started from their current plans (so the search continues from what it had instead of
starting over), keeps a group's joint plan only when it passes `check_plan` and is better
(fewer unserved stops, then shorter), and splits it back into one part per depot: a stop
belongs to the depot whose courier now visits it. Parts keep their depot and couriers, so the
next round can pair them with other neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from doorstep.planning.feasibility import check_plan, first_offender
from doorstep.planning.insertion import RouteSlack, best_insertion
from doorstep.planning.partition import group_neighbours, km_between
from doorstep.planning.plan import Plan, Route, UnservedReason, schedule_route
from doorstep.planning.problem import Network, PlanningProblem, Stop, StopStatus
from doorstep.planning.travel import Location


@dataclass(frozen=True)
class Region:
    """One depot's part of the city and its current plan."""

    problem: PlanningProblem
    plan: Plan


@dataclass(frozen=True)
class ExchangeJob:
    """The border of a group of neighbouring regions as one problem, and its warm start.

    `problem` holds the group's depots, the couriers whose routes run nearest the other
    members' depots (a `border_share` of each region's couriers) or nearest a stop the members
    left unserved (`NEAR_UNSERVED` per stop and member), their stops, and every unserved stop;
    the other routes stay as they are."""

    members: tuple[int, ...]
    problem: PlanningProblem
    warm_start: Plan


def joint_plan(plans: Sequence[Plan]) -> Plan:
    """Several parts' plans as one plan (their couriers and stops are disjoint)."""
    return Plan(
        routes=tuple(r for p in plans for r in p.routes),
        unserved=tuple(u for p in plans for u in p.unserved),
    )


def better(new: Plan, old: Plan) -> bool:
    """Fewer unserved stops first, then a shorter distance."""
    return (len(new.unserved), new.distance) < (len(old.unserved), old.distance)


def exchange_jobs(
    regions: Sequence[Region],
    size: int = 2,
    avoid: frozenset[frozenset[int]] = frozenset(),
    border_share: float = 1.0,
) -> list[ExchangeJob]:
    """Disjoint groups of `size` neighbouring regions, each as one warm-started problem.

    `avoid` holds groups already tried in earlier rounds, so a new round pairs other
    neighbours (a border not yet looked at). `border_share` (0–1] is the share of each
    region's couriers taken into the group's problem, those whose stops lie nearest the
    other members' depots; 1 merges whole regions. A smaller problem costs less to set up
    (the travel matrix and PyVRP's neighbour lists grow with the square of the stops)."""
    if not 0 < border_share <= 1:
        raise ValueError(f"border_share must be in (0, 1], got {border_share}")
    groups = group_neighbours([r.problem for r in regions], size, avoid)
    jobs = []
    for group in groups:
        depots = [d for k in group for d in regions[k].problem.depots]
        waiting = [
            s.location
            for k in group
            for s in regions[k].problem.stops
            if s.id in {u.stop_id for u in regions[k].plan.unserved}
        ]
        couriers, routes, unserved = [], [], []
        stops = []
        for k in group:
            region = regions[k]
            others = [d.location for d in depots if d not in region.problem.depots]
            chosen = _border_routes(region, others, border_share) | _routes_near(
                region, waiting, NEAR_UNSERVED
            )
            by_id = {s.id: s for s in region.problem.stops}
            couriers += [c for c in region.problem.couriers if c.id in chosen]
            routes += [r for r in region.plan.routes if r.courier_id in chosen]
            unserved += list(region.plan.unserved)
            stops += [
                by_id[i] for r in region.plan.routes if r.courier_id in chosen for i in r.stop_ids
            ]
            stops += [by_id[u.stop_id] for u in region.plan.unserved]
        problem = replace(regions[group[0]].problem, depots=depots, couriers=couriers, stops=stops)
        jobs.append(ExchangeJob(group, problem, Plan(tuple(routes), tuple(unserved))))
    return jobs


NEAR_UNSERVED = 2
"""Routes per member taken into a group for each stop the group left unserved: the search can
only make room for such a stop by moving the stops of routes that pass near it."""


def _routes_near(region: Region, points: Sequence[Location], count: int) -> set[str]:
    """Courier ids of the `count` routes of `region` passing nearest each of `points`."""
    where = {s.id: s.location for s in region.problem.stops}
    routes = [r for r in region.plan.routes if r.stop_ids]
    chosen: set[str] = set()
    for point in points:
        nearest = sorted(routes, key=lambda r: min(km_between(where[i], point) for i in r.stop_ids))
        chosen.update(r.courier_id for r in nearest[:count])
    return chosen


def _border_routes(region: Region, others: Sequence[Location], share: float) -> set[str]:
    """Courier ids of the region's routes that run nearest the other depots."""
    couriers = [c.id for c in region.problem.couriers]
    take = math.ceil(len(couriers) * share)
    if take >= len(couriers):
        return set(couriers)
    own = region.problem.depots[0].location
    stops = {s.id: s.location for s in region.problem.stops}

    def pull(courier_id: str) -> float:
        # How much nearer the route's stops are to another depot than the stops' average
        # distance from their own; routes without stops are the cheapest to hand over.
        route = next((r for r in region.plan.routes if r.courier_id == courier_id), None)
        if route is None or not route.stop_ids:
            return math.inf
        return sum(
            km_between(stops[i], own) - min(km_between(stops[i], o) for o in others)
            for i in route.stop_ids
        ) / len(route.stop_ids)

    return set(sorted(couriers, key=pull, reverse=True)[:take])


def apply_exchange(
    regions: Sequence[Region],
    jobs: Sequence[ExchangeJob],
    plans: Sequence[Plan],
    violations: Sequence[int] | None = None,
) -> tuple[list[Region], int]:
    """Regions after a round, and how many groups improved.

    A group's new plan replaces its part of the members' plans only if it is valid for the
    group's problem (every stop once, windows, capacities) and better than what it replaces.
    `violations` are `check_plan` counts already taken where the plans were solved (a worker
    process); without them the plans are checked here."""
    out = list(regions)
    improved = 0
    counts = violations or [len(check_plan(j.problem, p)) for j, p in zip(jobs, plans, strict=True)]
    for job, plan, count in zip(jobs, plans, counts, strict=True):
        if count or not better(plan, job.warm_start):
            continue
        improved += 1
        for k, region in zip(job.members, split(job, plan, regions), strict=True):
            out[k] = region
    return out, improved


def split(job: ExchangeJob, plan: Plan, regions: Sequence[Region]) -> list[Region]:
    """The group's new plan back into its members: a routed stop goes to the region of the
    courier who visits it, an unserved one stays with the region that had it, and routes
    that were not in the group's problem stay as they were."""
    stops = {s.id: s for s in job.problem.stops}
    in_job = {c.id for c in job.problem.couriers}
    out = []
    for k in job.members:
        before = regions[k]
        couriers = {c.id for c in before.problem.couriers}
        had = {s.id for s in before.problem.stops}
        kept = [r for r in before.plan.routes if r.courier_id not in in_job]
        routes = tuple(
            sorted(
                kept + [r for r in plan.routes if r.courier_id in couriers],
                key=lambda r: r.courier_id,
            )
        )
        unserved = tuple(u for u in plan.unserved if u.stop_id in had)
        by_id = {s.id: s for s in before.problem.stops} | stops
        ids = [i for r in routes for i in r.stop_ids] + [u.stop_id for u in unserved]
        done = [s for s in before.problem.stops if s.status is StopStatus.DONE]
        problem = replace(before.problem, stops=done + [by_id[i] for i in ids])
        out.append(Region(problem, Plan(routes=routes, unserved=unserved)))
    return out


RESCUABLE = frozenset({UnservedReason.TIME_WINDOW_UNREACHABLE, UnservedReason.SOLVER_DROPPED})
"""Reasons another region's courier may remedy: its own couriers had no time for the stop
(or the search missed a place). Capacity and shift reasons hold for every courier alike."""


def place_unserved(regions: Sequence[Region], nearest: int = 6) -> tuple[list[Region], int]:
    """Regions after each unserved stop was tried in the `nearest` routes of the whole city
    (those passing closest to it, any region's), and how many stops found a place.

    A stop the search could not fit into its own region's routes may fit a neighbour's: the
    border groups only see the routes nearest the other depots. Each stop goes where it
    adds the least travel with every window, the break, capacity and the shift kept
    (`best_insertion`, then re-timed and checked), and moves to that route's region. No
    search: a few small travel matrices per stop, cheap enough to run after the clock."""
    out = list(regions)
    placed = 0
    for k in range(len(out)):
        for item in out[k].plan.unserved:
            if item.reason not in RESCUABLE:
                continue
            stop = next(s for s in out[k].problem.stops if s.id == item.stop_id)
            found = _best_route(out, stop, nearest)
            if found is None:
                continue
            j, route = found
            out[j] = _with_route(out[j], route, stop if j != k else None)
            out[k] = _without_unserved(out[k], stop.id, drop_stop=j != k)
            placed += 1
    return out, placed


def routes_nearest(regions: Sequence[Region], point: Location) -> list[tuple[int, Route]]:
    """Every route of the city that has stops, with its region's index, nearest `point` first
    (a route's distance is that of its stop closest to `point`)."""
    near: list[tuple[float, int, Route]] = []
    for j, region in enumerate(regions):
        where = {s.id: s.location for s in region.problem.stops}
        for route in region.plan.routes:
            if route.stop_ids:
                gap = min(km_between(where[i], point) for i in route.stop_ids)
                near.append((gap, j, route))
    near.sort(key=lambda n: n[0])
    return [(j, route) for _, j, route in near]


def _best_route(regions: Sequence[Region], stop: Stop, nearest: int) -> tuple[int, Route] | None:
    """The region and re-timed route that take `stop` at the least extra travel, if any."""
    best: tuple[int, int, Route] | None = None
    for j, route in routes_nearest(regions, stop.location)[:nearest]:
        region = regions[j]
        courier = next(c for c in region.problem.couriers if c.id == route.courier_id)
        if stop.courier_id not in (None, courier.id):
            continue
        by_id = {s.id: s for s in region.problem.stops}
        seq = [by_id[i] for i in route.stop_ids]
        # A problem of this one route and the stop: its travel matrix is a few hundred cells.
        alone = replace(region.problem, couriers=[courier], stops=[*seq, stop])
        network = Network.of(alone)
        slack = RouteSlack.of(alone, network, courier, seq, route.start_s, route.rest_after)
        place = best_insertion(slack, stop)
        if place is None or (best is not None and place.extra_travel_s >= best[0]):
            continue
        seq.insert(place.position, stop)
        rest_after = place.rest_after
        if courier.rest is not None and rest_after is None:
            rest_after = len(seq) - 1
        timed = schedule_route(alone, network, courier, seq, route.start_s, rest_after)
        if first_offender(courier, timed, seq) is None:
            best = (place.extra_travel_s, j, timed)
    return None if best is None else (best[1], best[2])


def _with_route(region: Region, route: Route, new_stop: Stop | None) -> Region:
    """`region` with `route` in place of its courier's route (and `new_stop` added)."""
    routes = tuple(route if r.courier_id == route.courier_id else r for r in region.plan.routes)
    stops = [*region.problem.stops, *([new_stop] if new_stop is not None else [])]
    return Region(replace(region.problem, stops=stops), replace(region.plan, routes=routes))


def _without_unserved(region: Region, stop_id: str, drop_stop: bool) -> Region:
    """`region` no longer listing `stop_id` as unserved (nor holding it, if it moved away)."""
    unserved = tuple(u for u in region.plan.unserved if u.stop_id != stop_id)
    problem = region.problem
    if drop_stop:
        problem = replace(problem, stops=[s for s in problem.stops if s.id != stop_id])
    return Region(problem, replace(region.plan, unserved=unserved))
