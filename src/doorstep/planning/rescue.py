"""Re-solving the few routes around each stop left unserved, together with it.

After the part solves and the border rounds, a short search leaves a handful of pickups out
for their windows: far from their depot, in an hour when every courier passing near them is
already full. Plain insertion (`exchange.place_unserved`) and a depth-one ejection
(`ejection.make_room`) move at most a stop or two; serving such a stop usually needs several
routes re-planned at once (another courier sent out early, its own stops handed on). So the
routes passing nearest the stop around its hour, of any depot, and an idle courier or two of
their depots, are re-solved with it as one small problem, warm-started from those routes as
the border groups are. The jobs are `ExchangeJob`s; `apply_rescue` keeps a job's plan only if it
passes `check_plan` and is better (fewer unserved, then shorter) and merges it into the
regions by courier. Unlike border groups, two jobs of a round may touch the same region (on
different couriers), so each is merged into the regions as the jobs before it left them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from doorstep.planning.exchange import RESCUABLE, ExchangeJob, Region, better
from doorstep.planning.feasibility import check_plan
from doorstep.planning.partition import km_between
from doorstep.planning.plan import Plan, Unserved
from doorstep.planning.problem import Stop

NEAR_IN_TIME_S = 3600
"""A route counts as passing near a stop in its hour if it serves a stop nearby that starts
up to this long before the stop's window opens or after it closes."""


@dataclass
class _Group:
    """Couriers (with their regions) re-solved together and the unserved stops they get."""

    couriers: dict[str, int] = field(default_factory=dict)
    waiting: list[tuple[int, Unserved]] = field(default_factory=list)


def rescue_jobs(
    regions: Sequence[Region],
    in_hour: int = 6,
    anytime: int = 2,
    idle: int = 1,
    max_routes: int = 14,
) -> list[ExchangeJob]:
    """One warm-started problem per cluster of unserved stops (of a reason another courier
    may remedy) and the routes around them.

    For each such stop: the `in_hour` routes serving a stop nearest it within
    `NEAR_IN_TIME_S` of its window, the `anytime` routes nearest it at any hour, and `idle`
    couriers without a route from the depots of those routes. Stops whose routes overlap
    share one job (jobs are disjoint in couriers, so a round's plans can all be kept); a job
    grows to at most `max_routes` couriers, past which a stop joins it with the routes
    already there."""
    groups: list[_Group] = []
    for k, region in enumerate(regions):
        by_id = {s.id: s for s in region.problem.stops}
        for item in region.plan.unserved:
            if item.reason not in RESCUABLE:
                continue
            chosen = _couriers_around(regions, by_id[item.stop_id], in_hour, anytime, idle)
            if not chosen:
                continue
            touching = [g for g in groups if g.couriers.keys() & chosen.keys()]
            size = len(chosen.keys() | {c for g in touching for c in g.couriers})
            if touching and size > max_routes:
                host = max(touching, key=lambda g: len(g.couriers.keys() & chosen.keys()))
                host.waiting.append((k, item))
                continue
            merged = _Group(dict(chosen), [(k, item)])
            for g in touching:
                merged.couriers.update(g.couriers)
                merged.waiting += g.waiting
                groups.remove(g)
            groups.append(merged)
    return [_job(regions, g) for g in groups]


def _couriers_around(
    regions: Sequence[Region], stop: Stop, in_hour: int, anytime: int, idle: int
) -> dict[str, int]:
    """Courier id -> region index of the routes (and idle couriers) re-solved with `stop`."""
    near_hour: list[tuple[float, str, int]] = []
    near_any: list[tuple[float, str, int]] = []
    for j, region in enumerate(regions):
        where = {s.id: s.location for s in region.problem.stops}
        for route in region.plan.routes:
            if not route.stop_ids:
                continue
            if stop.courier_id not in (None, route.courier_id):
                continue
            near_any.append(
                (
                    min(km_between(where[i], stop.location) for i in route.stop_ids),
                    route.courier_id,
                    j,
                )
            )
            # Service starts within the hour around the window: a courier there then could
            # hand a stop on and take this one without re-planning the rest of the day.
            gaps = [
                km_between(where[v.stop_id], stop.location)
                for v in route.visits
                if stop.earliest_s - NEAR_IN_TIME_S <= v.start_s <= stop.latest_s + NEAR_IN_TIME_S
            ]
            if gaps:
                near_hour.append((min(gaps), route.courier_id, j))
    chosen: dict[str, int] = {}
    for _, courier_id, j in sorted(near_hour)[:in_hour]:
        chosen[courier_id] = j
    for _, courier_id, j in sorted(near_any):
        if len(chosen) >= in_hour + anytime:
            break
        chosen.setdefault(courier_id, j)
    if idle > 0:
        chosen.update(_idle_couriers(regions, stop, set(chosen.values()), idle))
    return chosen


def _idle_couriers(
    regions: Sequence[Region], stop: Stop, near: set[int], count: int
) -> dict[str, int]:
    """Up to `count` couriers with no route, of the regions in `near`, nearest depot first."""
    found: list[tuple[float, str, int]] = []
    for j in near:
        region = regions[j]
        busy = {r.courier_id for r in region.plan.routes if r.stop_ids}
        for c in region.problem.couriers:
            if c.id in busy or stop.courier_id not in (None, c.id):
                continue
            start = c.start_location or region.problem.depot(c.depot_id).location
            found.append((km_between(start, stop.location), c.id, j))
    return {c: j for _, c, j in sorted(found)[:count]}


def _job(regions: Sequence[Region], group: _Group) -> ExchangeJob:
    """The group's couriers, their routes' stops and its unserved stops as one problem."""
    members = tuple(sorted(set(group.couriers.values()) | {k for k, _ in group.waiting}))
    base = regions[members[0]].problem
    depots = {d.id: d for k in members for d in regions[k].problem.depots}
    couriers, routes, stops = [], [], []
    for k in members:
        region = regions[k]
        by_id = {s.id: s for s in region.problem.stops}
        mine = {c for c, j in group.couriers.items() if j == k}
        couriers += [c for c in region.problem.couriers if c.id in mine]
        for r in region.plan.routes:
            if r.courier_id in mine:
                routes.append(r)
                stops += [by_id[i] for i in r.stop_ids]
    for k, item in group.waiting:
        stops.append(next(s for s in regions[k].problem.stops if s.id == item.stop_id))
    problem = replace(
        base,
        depots=list(depots.values()),
        couriers=couriers,
        stops=stops,
        depart_second=base.price_second(),
    )
    unserved = tuple(item for _, item in group.waiting)
    return ExchangeJob(members, problem, Plan(tuple(routes), unserved))


def apply_rescue(
    regions: Sequence[Region],
    jobs: Sequence[ExchangeJob],
    plans: Sequence[Plan],
    violations: Sequence[int] | None = None,
) -> tuple[list[Region], int]:
    """Regions after a round of rescue jobs, and how many jobs improved.

    A job's plan is kept only if it is valid for the job's problem (`violations`: the
    `check_plan` counts taken where it was solved; otherwise checked here), holds each of the
    job's stops once, and is better than the routes it replaces. A routed stop then belongs
    to the region of the courier who visits it, an unserved one to the region that had it;
    everything of the regions outside the job (other couriers' routes, other unserved stops)
    stays as it is."""
    out = list(regions)
    improved = 0
    counts = violations or [len(check_plan(j.problem, p)) for j, p in zip(jobs, plans, strict=True)]
    for job, plan, count in zip(jobs, plans, counts, strict=True):
        if count or not better(plan, job.warm_start):
            continue
        merged = _merge(out, job, plan)
        if merged is not None:
            out = merged
            improved += 1
    return out, improved


def _merge(regions: Sequence[Region], job: ExchangeJob, plan: Plan) -> list[Region] | None:
    """`regions` with the job's couriers' routes and stops replaced by `plan`'s; None if the
    plan does not hold each of the job's stops exactly once."""
    stops = {s.id: s for s in job.problem.stops}
    placed = [i for r in plan.routes for i in r.stop_ids] + [u.stop_id for u in plan.unserved]
    if len(placed) != len(set(placed)) or set(placed) != stops.keys():
        return None
    in_job = {c.id for c in job.problem.couriers}
    region_of = {
        c.id: k for k in job.members for c in regions[k].problem.couriers if c.id in in_job
    }
    holder = {s.id: k for k in job.members for s in regions[k].problem.stops if s.id in stops}
    goes_to = {i: region_of[r.courier_id] for r in plan.routes for i in r.stop_ids}
    goes_to |= {u.stop_id: holder[u.stop_id] for u in plan.unserved}
    out = list(regions)
    for k in job.members:
        before = regions[k]
        routes = [r for r in before.plan.routes if r.courier_id not in in_job]
        routes += [r for r in plan.routes if region_of[r.courier_id] == k]
        unserved = [u for u in before.plan.unserved if u.stop_id not in stops]
        unserved += [u for u in plan.unserved if goes_to[u.stop_id] == k]
        kept = [s for s in before.problem.stops if s.id not in stops]
        arrived = [stops[i] for i, to in goes_to.items() if to == k]
        out[k] = Region(
            replace(before.problem, stops=kept + arrived),
            Plan(tuple(sorted(routes, key=lambda r: r.courier_id)), tuple(unserved)),
        )
    return out
