"""Splitting a city-day into depot-sized problems that solve independently (and in parallel).

Each stop goes to a nearby depot with room: stops whose nearest depot is much better than the
second (high regret) choose first, and a depot takes at most its share of the city's stops,
so no partition gets more work than its couriers can do while others idle.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from doorstep.planning.problem import PlanningProblem, Stop
from doorstep.planning.travel import Location


@dataclass(frozen=True)
class PartitionParams:
    """``slack`` is how much more than its courier share a depot may take (1.10 = 10 %)."""

    slack_pct: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.slack_pct <= 500:
            raise ValueError(f"slack_pct must be 0–500, got {self.slack_pct}")


def km_between(a: Location, b: Location) -> float:
    """Straight-line km between two points of one city (for ranking, not for routing)."""
    # An equirectangular approximation is plenty for ranking depots inside one city.
    lat = math.radians((a[0] + b[0]) / 2)
    dx = (b[1] - a[1]) * 111.32 * math.cos(lat)
    dy = (b[0] - a[0]) * 110.57
    return math.hypot(dx, dy)


def partition_by_depot(
    problem: PlanningProblem, params: PartitionParams | None = None
) -> list[PlanningProblem]:
    """One problem per depot with its couriers and its share of the stops."""
    params = params or PartitionParams()
    depots = list(problem.depots)
    couriers_at = {d.id: [c for c in problem.couriers if c.depot_id == d.id] for d in depots}
    staffed = [d for d in depots if couriers_at[d.id]]
    if not staffed:
        raise ValueError("no depot has couriers")
    total_couriers = sum(len(couriers_at[d.id]) for d in staffed)
    room = {
        d.id: math.ceil(
            len(problem.stops)
            * len(couriers_at[d.id])
            / total_couriers
            * (100 + params.slack_pct)
            / 100
        )
        for d in staffed
    }
    assigned: dict[str, list[Stop]] = {d.id: [] for d in staffed}
    ranked = []
    for stop in problem.stops:
        if stop.courier_id is not None:  # pinned stops follow their courier
            depot_id = next(c.depot_id for c in problem.couriers if c.id == stop.courier_id)
            assigned[depot_id].append(stop)
            room[depot_id] -= 1
            continue
        distances = sorted((km_between(stop.location, d.location), d.id) for d in staffed)
        regret = distances[1][0] - distances[0][0] if len(distances) > 1 else 0.0
        ranked.append((-regret, stop.id, stop, distances))
    ranked.sort(key=lambda item: (item[0], item[1]))
    for _, _, stop, distances in ranked:
        choice = next(
            (depot_id for _, depot_id in distances if room[depot_id] > 0), distances[0][1]
        )
        assigned[choice].append(stop)
        room[choice] -= 1
    return [
        replace(problem, depots=[d], couriers=couriers_at[d.id], stops=assigned[d.id])
        for d in staffed
    ]


def pair_neighbours(parts: Sequence[PlanningProblem]) -> list[tuple[int, int]]:
    """Disjoint pairs of neighbouring parts, closest depots first.

    Stops near a border were given to one depot by the partition; solving two neighbours as
    one problem (warm-started from their plans) lets those stops change sides. Pairs are
    disjoint so that every pair of a round can be solved at once, on its own worker."""
    return [(g[0], g[1]) for g in group_neighbours(parts, 2)]


def group_neighbours(
    parts: Sequence[PlanningProblem],
    size: int = 2,
    avoid: Collection[frozenset[int]] = (),
) -> list[tuple[int, ...]]:
    """Disjoint groups of up to `size` neighbouring parts (2: pairs, 3: triples).

    As many pairs as there are whole groups form, closest depots first, skipping pairs in
    `avoid` (tried in an earlier round); each pair then takes the nearest free part until it
    has `size` members. A part left over is in no group this round."""
    if size < 2:
        raise ValueError(f"size must be >= 2, got {size}")
    centres = [p.depots[0].location if p.depots else (0.0, 0.0) for p in parts]
    staffed = [i for i, p in enumerate(parts) if p.depots]
    candidates = sorted(
        (km_between(centres[i], centres[j]), i, j)
        for i in staffed
        for j in staffed
        if i < j and frozenset((i, j)) not in avoid
    )
    taken: set[int] = set()
    groups: list[list[int]] = []
    for _, i, j in candidates:
        if len(groups) == len(staffed) // size:
            break  # the rest of the parts are the third (fourth...) members
        if i not in taken and j not in taken:
            groups.append([i, j])
            taken.update((i, j))
    for group in groups:
        while len(group) < size:
            free = [k for k in staffed if k not in taken]
            if not free:
                break
            k = min(free, key=lambda k: min(km_between(centres[k], centres[g]) for g in group))
            group.append(k)
            taken.add(k)
    return [tuple(g) for g in groups]


def merge_parts(a: PlanningProblem, b: PlanningProblem) -> PlanningProblem:
    """Two parts as one problem: both depots, both couriers' lists, all stops."""
    return replace(
        a,
        depots=[*a.depots, *b.depots],
        couriers=[*a.couriers, *b.couriers],
        stops=[*a.stops, *b.stops],
    )


def stops_per_part(parts: Sequence[PlanningProblem]) -> list[int]:
    """How many stops each part got (for reports)."""
    return [len(p.stops) for p in parts]
