"""Slot-offering check: can a pickup window still be kept on a ~30-stop route?

Prints one JSON line: microseconds per window check with precomputed slack (`best_insertion`)
against a naive full re-simulation of every insertion position, measured in the same run,
and whether the two agreed on every check.

    uv run python bench/insertion.py --stops 30 --candidates 200 --seed 0
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import time

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    Network,
    PlanningProblem,
    RouteSlack,
    SolveParams,
    Stop,
    best_insertion,
    solve,
)
from doorstep.planning.feasibility import first_offender
from doorstep.planning.plan import schedule_route
from doorstep.planning.timed import ChainStep, HourRows, TimedTravel, chain_keeps, slack_of
from doorstep.planning.travel import Location

HOUR = 3600
CENTRE = (31.2304, 121.4737)  # Shanghai, People's Square
WINDOWS = [(h * HOUR, (h + 2) * HOUR) for h in range(9, 19, 2)]


def city_stop(rng: random.Random, sid: str) -> Stop:
    start, end = rng.choice(WINDOWS)
    return Stop(
        id=sid,
        location=(CENTRE[0] + rng.uniform(-0.03, 0.03), CENTRE[1] + rng.uniform(-0.03, 0.03)),
        earliest_s=start,
        latest_s=end,
        service_s=rng.randint(120, 300),
        weight_g=rng.randint(200, 5000),
        volume_cm3=rng.randint(1000, 30000),
    )


def naive(
    problem: PlanningProblem,
    network: Network,
    courier: Courier,
    route: list[Stop],
    start_s: int,
    candidate: Stop,
) -> int | None:
    """Re-time the whole route for every position: O(n) per position, O(n²) per check."""
    best: int | None = None
    rows = network.duration_rows()
    idx = network.index
    depot = problem.depots[0].location

    def travel(seq: list[Stop]) -> int:
        path = [depot, *(s.location for s in seq), depot]
        return sum(rows[idx[a]][idx[b]] for a, b in itertools.pairwise(path))

    base = travel(route)
    for position in range(len(route) + 1):
        seq = [*route[:position], candidate, *route[position:]]
        timed = schedule_route(problem, network, courier, seq, start_s, None)
        if first_offender(courier, timed, seq) is None:
            extra = travel(seq) - base
            best = extra if best is None else min(best, extra)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stops", type=int, default=30)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stops = [city_stop(rng, f"s{i}") for i in range(args.stops)]
    candidates = [city_stop(rng, f"new{i}") for i in range(args.candidates)]
    courier = Courier("c1", "D", 8 * HOUR, 20 * HOUR, 200_000, 2_000_000)
    problem = PlanningProblem([Depot("D", CENTRE)], [courier], stops, HaversineTravel())
    plan = solve(problem, SolveParams(seed=args.seed, time_limit_s=5, max_iterations=2000))
    route_plan = plan.routes[0]
    by_id = {s.id: s for s in stops}
    route = [by_id[i] for i in route_plan.stop_ids]
    network = Network.of(problem, extra=[c.location for c in candidates])

    began = time.perf_counter()
    slack = RouteSlack.of(problem, network, courier, route, route_plan.start_s)
    precompute_us = (time.perf_counter() - began) * 1e6

    began = time.perf_counter()
    fast = [best_insertion(slack, c) for c in candidates]
    fast_us = (time.perf_counter() - began) * 1e6 / len(candidates)

    began = time.perf_counter()
    slow = [naive(problem, network, courier, route, route_plan.start_s, c) for c in candidates]
    slow_us = (time.perf_counter() - began) * 1e6 / len(candidates)

    # The booking path prices candidate legs with vectors against the route's nodes (not a
    # precomputed matrix): at the evening peak, or per hour bucket (planning.timed).
    peak_s = 17 * HOUR + 1800
    timed = TimedTravel(problem.travel)
    spans = [None, *((s.earliest_s, s.latest_s) for s in route), None]
    began = time.perf_counter()
    for c in candidates:
        to_c, from_c = problem.travel.between(c.location, slack.points, peak_s)
        best_insertion(
            slack, c, lambda u, lo, hi, t=to_c, f=from_c: (t[lo : hi + 1], f[lo : hi + 1])
        )
    peak_us = (time.perf_counter() - began) * 1e6 / len(candidates)
    began = time.perf_counter()
    pricing = timed.reach(slack.points, spans)
    for c in candidates:
        best_insertion(slack, c, pricing((c.earliest_s, c.latest_s)))
    timed_us = (time.perf_counter() - began) * 1e6 / len(candidates)
    # With the chain reserve a feasible insertion is also walked along the route at real
    # hours (before and after, as ``route.ChainCheck`` does; the route's own walk and the
    # legs' hourly times are kept per request).
    chained = TimedTravel(problem.travel, leg_sd=0.25, door_sd=0.2, chain_z=2.33)
    start = problem.depot(courier.depot_id).location
    rows: HourRows = {}

    def walk(
        stops: list[Stop], at: Location, free: int, carried: float, settle: list[ChainStep]
    ) -> list[ChainStep]:
        return chained.chain_steps(
            [at, *(s.location for s in stops)],
            [(s.earliest_s, s.latest_s) for s in stops],
            [s.service_s for s in stops],
            free,
            False,
            rows,
            carried,
            settle,
        )

    began = time.perf_counter()
    steps = walk(route, start, route_plan.start_s, 0.0, [])
    before = slack_of(steps, [(s.earliest_s, s.latest_s) for s in route])
    kept = 0
    for c in candidates:
        found = best_insertion(slack, c, pricing((c.earliest_s, c.latest_s)))
        if found is not None:
            p = found.position
            tail = [c, *route[p:]]
            at, free, carried = (
                (route[p - 1].location, steps[p - 1].clock, steps[p - 1].carried)
                if p
                else (start, route_plan.start_s, 0.0)
            )
            walked = walk(tail, at, free, carried, steps[p:])
            after = [*before[:p], *slack_of(walked, [(s.earliest_s, s.latest_s) for s in tail])]
            kept += chain_keeps(before, after, p)
    chained_us = (time.perf_counter() - began) * 1e6 / len(candidates)

    agree = sum(
        1
        for f, s in zip(fast, slow, strict=True)
        if (f.extra_travel_s if f is not None else None) == s
    )
    print(
        json.dumps(
            {
                "figure": "insertion_check_us",
                "route_stops": len(route),
                "unserved_in_seed_plan": len(plan.unserved),
                "checks": len(candidates),
                "feasible_checks": sum(1 for f in fast if f is not None),
                "slack_precompute_us": round(precompute_us, 1),
                "slack_us_per_check": round(fast_us, 1),
                "naive_us_per_check": round(slow_us, 1),
                "speedup": round(slow_us / fast_us, 1),
                "agree": agree,
                "peak_priced_us_per_check": round(peak_us, 1),
                "timed_priced_us_per_check": round(timed_us, 1),
                "timed_over_peak": round(timed_us / peak_us, 2),
                "timed_chained_us_per_check": round(chained_us, 1),
                "chained_over_peak": round(chained_us / peak_us, 2),
                "chain_kept": kept,
            }
        )
    )


if __name__ == "__main__":
    main()
