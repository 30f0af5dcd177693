"""Partitioning a city-day by depot: every stop once, balanced by couriers, near its depot."""

from __future__ import annotations

import random

import pytest

from doorstep.planning import Courier, Depot, HaversineTravel, PlanningProblem, Stop
from doorstep.planning.partition import PartitionParams, partition_by_depot


def city(stops: int, seed: int = 1) -> PlanningProblem:
    rng = random.Random(seed)
    depots = [
        Depot("north", (31.30, 121.45)),
        Depot("south", (31.10, 121.45)),
        Depot("east", (31.20, 121.60)),
    ]
    couriers = [
        Courier(f"{d.id}-{i}", d.id, 9 * 3600, 19 * 3600, 100_000, 1_000_000)
        for d in depots
        for i in range(2 if d.id != "east" else 1)
    ]
    points = [
        Stop(
            f"s{i}",
            (31.05 + rng.random() * 0.3, 121.35 + rng.random() * 0.3),
            9 * 3600,
            11 * 3600,
            120,
        )
        for i in range(stops)
    ]
    return PlanningProblem(depots, couriers, points, HaversineTravel())


def test_every_stop_lands_in_exactly_one_part() -> None:
    problem = city(500)
    parts = partition_by_depot(problem)
    ids = [s.id for p in parts for s in p.stops]
    assert sorted(ids) == sorted(s.id for s in problem.stops)
    for part in parts:
        (depot,) = part.depots
        assert all(c.depot_id == depot.id for c in part.couriers)


def test_parts_respect_their_courier_share() -> None:
    problem = city(500)
    parts = {p.depots[0].id: p for p in partition_by_depot(problem, PartitionParams(10))}
    # 2 + 2 + 1 couriers: shares 200, 200, 100 stops, at most 10 % more.
    assert len(parts["east"].stops) <= 110
    assert max(len(p.stops) for p in parts.values()) <= 220


def test_stops_go_to_a_near_depot_when_there_is_room() -> None:
    problem = city(30)
    parts = {p.depots[0].id: p for p in partition_by_depot(problem, PartitionParams(500))}
    assert all(s.location[0] >= 31.15 for s in parts["north"].stops if s.location[1] < 121.5)


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValueError):
        PartitionParams(-1)


def test_neighbour_pairs_are_disjoint_and_merging_keeps_every_stop_once() -> None:
    from doorstep.planning.partition import merge_parts, pair_neighbours

    problem = city(120)
    extra = Depot("west", (31.20, 121.30))
    problem = PlanningProblem(
        [*problem.depots, extra],
        [*problem.couriers, Courier("west-0", "west", 9 * 3600, 19 * 3600, 100_000, 1_000_000)],
        problem.stops,
        problem.travel,
    )
    parts = partition_by_depot(problem)
    pairs = pair_neighbours(parts)
    assert len(pairs) == 2
    seen = [i for pair in pairs for i in pair]
    assert len(seen) == len(set(seen)) == 4
    for i, j in pairs:
        merged = merge_parts(parts[i], parts[j])
        assert len(merged.stops) == len(parts[i].stops) + len(parts[j].stops)
        assert {d.id for d in merged.depots} == {parts[i].depots[0].id, parts[j].depots[0].id}
        assert {c.depot_id for c in merged.couriers} <= {d.id for d in merged.depots}
