"""One city-day at scale: 20,000 pickups and 200 couriers, partitioned by depot and solved in
parallel within a wall-clock budget, against the same partitions given ten times the time.

    uv run python bench/city_scale.py --pickups 20000 --couriers 200 --depots 20 \
        --budget 120 --workers 2 [--baseline-factor 10] [--baseline run|cached|off]

Prints one JSON line: wall seconds, distance, served/unserved, feasibility (doorstep's own
checker on every route), peak memory, load average at start and end, and the baseline's
figures and the cost ratio.

The baseline (the same parts solved with ten times the budget) takes ~17 minutes at full
scale, so its result is cached in ``var/city_scale_baselines.json`` under the instance
(pickups, couriers, depots, seed) and its budget/workers, with the command and commit that
produced it. ``--baseline cached`` (default) uses the cached figure when there is one and runs
(and caches) it otherwise; ``--baseline run`` always runs it in the same run;
``--baseline-only`` fills the cache without the fast solve.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    Plan,
    PlanningProblem,
    SolveParams,
    Stop,
    check_plan,
    solve,
)
from doorstep.planning.partition import merge_parts, pair_neighbours, partition_by_depot

CENTRE = (31.2304, 121.4737)  # People's Square
RADIUS_KM = 22.0


def shanghai_day(pickups: int, couriers: int, depots: int, seed: int) -> PlanningProblem:
    """Pickups clustered like demand (denser downtown), 2-hour windows 09–19, depots on a ring."""
    rng = random.Random(seed)

    def point(spread_km: float) -> tuple[float, float]:
        r = abs(rng.gauss(0, spread_km))
        a = rng.random() * 2 * math.pi
        return (
            CENTRE[0] + r * math.sin(a) / 110.57,
            CENTRE[1] + r * math.cos(a) / (111.32 * math.cos(math.radians(CENTRE[0]))),
        )

    depot_list = []
    for i in range(depots):
        ring = 4.0 if i < depots // 3 else 12.0
        a = 2 * math.pi * i / depots
        depot_list.append(
            Depot(
                f"d{i:02d}",
                (
                    CENTRE[0] + ring * math.sin(a) / 110.57,
                    CENTRE[1] + ring * math.cos(a) / (111.32 * math.cos(math.radians(CENTRE[0]))),
                ),
            )
        )
    courier_list = [
        Courier(f"c{i:03d}", depot_list[i % depots].id, 9 * 3600, 19 * 3600, 400_000, 4_000_000)
        for i in range(couriers)
    ]
    stops = []
    for i in range(pickups):
        start = 9 + 2 * rng.randrange(5)
        stops.append(
            Stop(
                f"p{i:05d}",
                point(RADIUS_KM / 2.5),
                start * 3600,
                (start + 2) * 3600,
                120,
                rng.choice((300, 800, 1500, 4000)),
                3000,
            )
        )
    return PlanningProblem(depot_list, courier_list, stops, HaversineTravel())


Job = tuple[PlanningProblem, float, int, Plan | None]


def _solve(args: Job) -> tuple[Plan, int]:
    problem, seconds, seed, warm = args
    plan = solve(problem, SolveParams(seed=seed, time_limit_s=seconds), warm_start=warm)
    return plan, len(check_plan(problem, plan))


def _solve_all(jobs: list[Job], workers: int) -> list[tuple[Plan, int]]:
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][1])  # longest first packs better
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_solve, [jobs[i] for i in order]))
    out: list[tuple[Plan, int]] = [done[0]] * len(jobs)
    for k, i in enumerate(order):
        out[i] = done[k]
    return out


def _better(new: Plan, old: Plan) -> bool:
    """Fewer unserved first, then shorter."""
    return (len(new.unserved), new.distance) < (len(old.unserved), old.distance)


def run(
    parts: list[PlanningProblem],
    budget_s: float,
    workers: int,
    seed: int,
    exchange_share: float = 0.0,
) -> dict[str, object]:
    """Solve every part with a time share such that the whole fits the budget on ``workers``;
    with ``exchange_share`` > 0 that share of the time then goes to neighbouring parts solved
    as pairs, warm-started from their plans, so stops near a border can change sides."""
    # Time per part in proportion to its size; a margin covers matrix building and start-up.
    usable = budget_s * workers * 0.75
    total = sum(len(p.stops) for p in parts) or 1
    first = usable * (1 - exchange_share)
    started = time.perf_counter()
    jobs: list[Job] = [(p, max(1.0, first * len(p.stops) / total), seed, None) for p in parts]
    results = _solve_all(jobs, workers)
    problems = list(parts)
    exchanged = 0
    if exchange_share > 0:
        pairs = pair_neighbours(parts)
        second = usable * exchange_share
        paired = sum(len(parts[i].stops) + len(parts[j].stops) for i, j in pairs) or 1
        merged_jobs: list[Job] = []
        for i, j in pairs:
            merged = merge_parts(parts[i], parts[j])
            a, b = results[i][0], results[j][0]
            warm = Plan(routes=a.routes + b.routes, unserved=a.unserved + b.unserved)
            share = max(1.0, second * len(merged.stops) / paired)
            merged_jobs.append((merged, share, seed, warm))
        for (i, j), (plan, violations), job in zip(
            pairs, _solve_all(merged_jobs, workers), merged_jobs, strict=True
        ):
            old = Plan(
                routes=results[i][0].routes + results[j][0].routes,
                unserved=results[i][0].unserved + results[j][0].unserved,
            )
            if violations == 0 and _better(plan, old):
                exchanged += 1
                problems[i], results[i] = job[0], (plan, violations)
                problems[j], results[j] = replace(parts[j], stops=[]), (Plan((), ()), 0)
    wall = time.perf_counter() - started
    plans = [plan for plan, _ in results]
    return {
        "wall_s": round(wall, 1),
        "distance_km": round(sum(p.distance for p in plans) / 1000, 1),
        "served": sum(len(r.visits) for p in plans for r in p.routes),
        "unserved": sum(len(p.unserved) for p in plans),
        "routes": sum(len(p.routes) for p in plans),
        "violations": sum(v for _, v in results),
        "pairs_improved": exchanged,
    }


CACHE = Path("var/city_scale_baselines.json")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _commit() -> str:
    """The code the figure came from; '+dirty' when the worktree had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _cache_key(args: argparse.Namespace) -> str:
    return (
        f"pickups={args.pickups} couriers={args.couriers} depots={args.depots} "
        f"seed={args.seed} budget={args.budget * args.baseline_factor:g} workers={args.workers}"
    )


def _cached(key: str) -> dict[str, object] | None:
    if not CACHE.exists():
        return None
    entry: dict[str, object] | None = json.loads(CACHE.read_text()).get(key)
    return entry


def _store(key: str, entry: dict[str, object]) -> None:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    cache[key] = entry
    CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pickups", type=int, default=20_000)
    parser.add_argument("--couriers", type=int, default=200)
    parser.add_argument("--depots", type=int, default=20)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-factor", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--exchange-share",
        type=float,
        default=0.4,
        help="share of the budget for neighbouring parts solved as warm-started pairs (0: off)",
    )
    parser.add_argument(
        "--baseline",
        choices=("cached", "run", "off"),
        default="cached",
        help="cached: use var/city_scale_baselines.json, run and store on a miss; "
        "run: always run in this run (and store); off: no baseline",
    )
    parser.add_argument(
        "--baseline-only", action="store_true", help="only run and cache the baseline"
    )
    args = parser.parse_args()

    load_start = _load()
    t0 = time.perf_counter()
    problem = shanghai_day(args.pickups, args.couriers, args.depots, args.seed)
    parts = partition_by_depot(problem)
    partition_s = time.perf_counter() - t0
    fast: dict[str, object] | None = None
    if not args.baseline_only:
        fast = run(parts, args.budget - partition_s, args.workers, args.seed, args.exchange_share)
        fast["wall_s"] = round(float(fast["wall_s"]) + partition_s, 1)  # type: ignore[arg-type]
        fast["load_end"] = _load()
    slow: dict[str, object] | None = None
    key = _cache_key(args)
    if args.baseline != "off" and args.baseline_factor > 0:
        slow = _cached(key) if args.baseline == "cached" and not args.baseline_only else None
        if slow is not None:
            slow = {**slow, "source": "cached"}
        else:
            baseline_load = _load()
            slow = run(parts, args.budget * args.baseline_factor, args.workers, args.seed)
            slow.update(
                load_start=baseline_load,
                load_end=_load(),
                command=" ".join(["python", *sys.argv]),
                commit=_commit(),
                at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            _store(key, slow)
            slow = {**slow, "source": "in-run"}
    peak_mb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) / 1024
    out = {
        "bench": "city_scale",
        "pickups": args.pickups,
        "couriers": args.couriers,
        "depots": args.depots,
        "budget_s": args.budget,
        "workers": args.workers,
        "parts": len(parts),
        "exchange_share": args.exchange_share,
        "largest_part": max(len(p.stops) for p in parts),
        "seed": args.seed,
        "partition_s": round(partition_s, 2),
        "load_start": load_start,
        "load_end": _load(),
        "commit": _commit(),
        "doorstep": fast,
        "baseline_key": key,
        "baseline_10x": slow,
        "cost_ratio_vs_baseline": (
            round(float(fast["distance_km"]) / float(slow["distance_km"]), 4)  # type: ignore[arg-type]
            if fast and slow and slow["distance_km"]
            else None
        ),
        "peak_rss_mb_self_plus_largest_child": round(peak_mb, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
