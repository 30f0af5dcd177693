"""Exchange across depot borders: neighbouring parts of a city-day re-solved as one problem.

The partition gives each stop to one depot before any route exists, so a stop near a border
can end up on the costlier side. A round re-solves groups of neighbouring parts together,
warm-started from their current plans (so the search continues from what it had instead of
starting over), keeps a group's joint plan only when it passes `check_plan` and is better
(fewer unserved stops, then shorter), and splits it back into one part per depot: a stop
belongs to the depot whose courier now visits it. Parts keep their depot and couriers, so the
next round can pair them with other neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from doorstep.planning.feasibility import check_plan
from doorstep.planning.partition import group_neighbours, merge_parts
from doorstep.planning.plan import Plan
from doorstep.planning.problem import PlanningProblem, StopStatus


@dataclass(frozen=True)
class Region:
    """One depot's part of the city and its current plan."""

    problem: PlanningProblem
    plan: Plan


@dataclass(frozen=True)
class ExchangeJob:
    """A group of neighbouring regions as one problem, and the warm start for it."""

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
    regions: Sequence[Region], size: int = 2, avoid: frozenset[frozenset[int]] = frozenset()
) -> list[ExchangeJob]:
    """Disjoint groups of `size` neighbouring regions, each merged and warm-started.

    `avoid` holds groups already tried in earlier rounds, so a new round pairs other
    neighbours (a border not yet looked at)."""
    groups = group_neighbours([r.problem for r in regions], size, avoid)
    jobs = []
    for group in groups:
        merged = regions[group[0]].problem
        for k in group[1:]:
            merged = merge_parts(merged, regions[k].problem)
        jobs.append(ExchangeJob(group, merged, joint_plan([regions[k].plan for k in group])))
    return jobs


def apply_exchange(
    regions: Sequence[Region],
    jobs: Sequence[ExchangeJob],
    plans: Sequence[Plan],
    violations: Sequence[int] | None = None,
) -> tuple[list[Region], int]:
    """Regions after a round, and how many groups improved.

    A group's new plan replaces its members' plans only if it is valid for the merged problem
    (every stop once, windows, capacities) and better than the members' plans together.
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
    """The joint plan back as one region per member: routed stops follow their courier's
    depot, unserved stops stay with the region that had them."""
    stops = {s.id: s for s in job.problem.stops}
    out = []
    for k in job.members:
        before = regions[k]
        couriers = {c.id for c in before.problem.couriers}
        had = {s.id for s in before.problem.stops}
        routes = tuple(r for r in plan.routes if r.courier_id in couriers)
        unserved = tuple(u for u in plan.unserved if u.stop_id in had)
        ids = [i for r in routes for i in r.stop_ids] + [u.stop_id for u in unserved]
        done = [s for s in before.problem.stops if s.status is StopStatus.DONE]
        problem = replace(before.problem, stops=done + [stops[i] for i in ids])
        out.append(Region(problem, Plan(routes=routes, unserved=unserved)))
    return out
