"""One city-day at scale: 20,000 pickups and 200 couriers, partitioned by depot and solved in
parallel within a wall-clock budget, against the same partitions given ten times the time.

    uv run python bench/city_scale.py --pickups 20000 --couriers 200 --depots 20 \
        --budget 120 --workers 2 [--clock cpu|wall] [--baseline-factor 10] \
        [--baseline run|cached|off]

Prints one JSON line: wall and CPU seconds, distance, served/unserved, feasibility (doorstep's
own checker on every route), peak memory, load average at start and end, and the baseline's
figures and the cost ratios: km alone (`cost_ratio_vs_baseline`), and in `vs_baseline` km per
served pickup and km plus the search's own penalty per unserved pickup, which is what the goal
(within 3 % of the baseline) is checked on: serving fewer pickups must not count as cheaper.

``--clock cpu`` (default) gives each worker process `budget` seconds of its own CPU time
(``time.process_time``) for every phase (part solves, exchange rounds, baseline, re-plans), so
the figure does not depend on what else runs on the machine: a busy machine only makes the run
take longer. ``--clock wall`` gives the workers `budget` seconds of elapsed time, which is what
a dispatcher waits, but buys less search on a loaded machine. On a quiet machine with one core
per worker the two agree (a quiet wall-clock run: 231.6 CPU-s over 2 workers in 117.6 s).

The baseline (the same parts solved with ten times the budget) takes ~17 minutes at full
scale, so its result is cached in ``var/city_scale_baselines.json`` under the instance
(pickups, couriers, depots, seed), its budget/workers/clock and the machine (`machine()`: CPU
model, family/model/stepping, clock, CPUs; a CPU-second buys a different amount of search on
another CPU, so a baseline cached on another machine is never used), with the command and
commit that produced it. Every JSON line names its machine. ``--baseline cached`` (default) uses the cached figure when there is one and runs
(and caches) it otherwise; ``--baseline run`` always runs it in the same run;
``--baseline-only`` fills the cache without the fast solve.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import NamedTuple

from doorstep.planning import (
    Courier,
    Depot,
    HaversineTravel,
    Network,
    Plan,
    PlanningProblem,
    SolveParams,
    Stop,
    check_plan,
    solve,
)
from doorstep.planning.ejection import make_room
from doorstep.planning.exchange import Region, apply_exchange, exchange_jobs, place_unserved
from doorstep.planning.model import auto_drop_penalty
from doorstep.planning.partition import partition_by_depot
from doorstep.planning.rescue import apply_rescue, rescue_jobs

CENTRE = (31.2304, 121.4737)  # People's Square
RADIUS_KM = 22.0


def shanghai_day(pickups: int, couriers: int, depots: int, seed: int) -> PlanningProblem:
    """Pickups clustered like demand (denser downtown), 2-hour windows 09–19, depots on a ring."""
    rng = random.Random(seed)
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
    stops = pickups_of(rng, pickups, "p")
    return PlanningProblem(depot_list, courier_list, stops, HaversineTravel())


def pickups_of(rng: random.Random, count: int, prefix: str) -> list[Stop]:
    """`count` pickups around the centre, each in one of five 2-hour windows 09–19."""

    def point(spread_km: float) -> tuple[float, float]:
        r = abs(rng.gauss(0, spread_km))
        a = rng.random() * 2 * math.pi
        return (
            CENTRE[0] + r * math.sin(a) / 110.57,
            CENTRE[1] + r * math.cos(a) / (111.32 * math.cos(math.radians(CENTRE[0]))),
        )

    stops = []
    for i in range(count):
        start = 9 + 2 * rng.randrange(5)
        stops.append(
            Stop(
                f"{prefix}{i:05d}",
                point(RADIUS_KM / 2.5),
                start * 3600,
                (start + 2) * 3600,
                120,
                rng.choice((300, 800, 1500, 4000)),
                3000,
            )
        )
    return stops


class Search(NamedTuple):
    """PyVRP's search settings for the timed run (`SolveParams`' fields of the same names).

    The defaults are PyVRP's own, which the 10× baseline keeps: they suit a long search."""

    exhaustive_on_best: bool = True
    history_length: int = 300
    num_neighbours: int = 50
    max_perturbations: int = 25


PYVRP_DEFAULTS = Search()


class Job(NamedTuple):
    """One part (or exchange group) for one worker."""

    problem: PlanningProblem
    planned_s: float  # search seconds planned for it on the clock
    seed: int
    warm: Plan | None
    round_no: int
    round_end: float  # wall: time.time() the round ends; cpu: CPU-seconds per worker in the round
    setup_s: float  # expected seconds outside the search
    check: bool  # whether the worker checks the plan
    clock: str  # "wall" or "cpu"
    search: Search  # PyVRP's settings for this job


class Solved(NamedTuple):
    """What a worker returns: the plan and what it cost."""

    plan: Plan
    violations: int
    overhead_s: float  # seconds outside the search, on the job's clock
    pid: int
    cpu_s: float  # the worker's CPU seconds for this job


_ROUND_NUMBERS = itertools.count()
"""Rounds are numbered across the whole run: a pool may serve several phases."""

_ROUND_END_CPU: dict[int, float] = {}
"""Per worker process: round number -> the process_time() at which its share of that round
ends, fixed by the first job of the round it picks up."""

END_MARGIN_S = 1.0
"""Kept back at the end of the budget for merging the last round's plans in the parent."""


@dataclass
class SetupCost:
    """Seconds a job spends outside the search: the travel matrix, PyVRP's neighbour lists
    and (cold) first local search, re-timing the routes. They grow with the square of the
    stops and with how busy the machine is, so the rate is learnt from each round's jobs."""

    seconds_per_m: float = 2.0  # per million matrix cells; measured 1.3-2.7 s at load 7

    def of(self, stops: int) -> float:
        return 0.2 + self.seconds_per_m * stops * stops / 1e6

    def learn(self, stops: list[int], seen: list[float]) -> None:
        rates = [t / (n * n / 1e6) for n, t in zip(stops, seen, strict=True) if n]
        if rates:
            self.seconds_per_m = max(rates)


def _solve(job: Job) -> Solved:
    cpu_began = time.process_time()
    if job.clock == "cpu":
        began = cpu_began
        deadline = _ROUND_END_CPU.setdefault(job.round_no, began + job.round_end)
    else:
        began, deadline = time.time(), job.round_end
    # The search may not run past the round's deadline, whatever it was planned: the earlier
    # jobs of a round can overrun (set-up under-estimated, or on the wall clock a busy machine)
    # and the later ones must make up for it.
    seconds = max(0.5, min(job.planned_s, deadline - began - job.setup_s))
    params = SolveParams(
        seed=job.seed,
        time_limit_s=seconds,
        clock=job.clock,  # type: ignore[arg-type]
        **job.search._asdict(),
    )
    plan = solve(job.problem, params, warm_start=job.warm)
    now = time.process_time() if job.clock == "cpu" else time.time()
    # solve() re-times every route and drops what breaks, so its plans pass check_plan by
    # construction; timed runs check every part once after the clock stops instead of here.
    violations = len(check_plan(job.problem, plan)) if job.check else 0
    return Solved(
        plan, violations, now - began - seconds, os.getpid(), time.process_time() - cpu_began
    )


@dataclass
class Budget:
    """The time left to a run's workers, on its clock.

    Wall: a deadline in time.time(). CPU: each worker's own CPU seconds, counted from what the
    jobs report (the pool's processes live across rounds, so their CPU is not in getrusage's
    children until the pool shuts down)."""

    clock: str
    seconds: float
    started: float = field(default_factory=time.time)
    used_cpu: dict[int, float] = field(default_factory=dict)

    def left(self) -> float:
        """Seconds the busiest worker has left."""
        if self.clock == "cpu":
            return self.seconds - max(self.used_cpu.values(), default=0.0)
        return self.started + self.seconds - time.time()

    def round_end(self, seconds: float) -> float:
        """What a Job carries as the end of a round of `seconds`."""
        return seconds if self.clock == "cpu" else time.time() + seconds

    def charge(self, solved: Sequence[Solved]) -> None:
        for s in solved:
            self.used_cpu[s.pid] = self.used_cpu.get(s.pid, 0.0) + s.cpu_s


def _round(
    pool: ProcessPoolExecutor,
    work: Sequence[tuple[PlanningProblem, Plan | None]],
    seconds: float,
    budget: Budget,
    workers: int,
    seed: int,
    setup: SetupCost,
    search: Search = PYVRP_DEFAULTS,
) -> list[Solved]:
    """Solve `work` on the pool so that the round ends within `seconds` on `budget`'s clock.

    Jobs go to workers longest first, each to the least loaded (what the pool does when
    times follow sizes), and each job gets its worker's time in proportion to its stops,
    less its expected set-up: with 5 parts on 2 workers, the worker with 3 parts gives each
    a third of the round rather than the third part getting what is left."""
    wall = max(0.0, seconds)
    round_end = budget.round_end(wall)
    round_no = next(_ROUND_NUMBERS)
    order = sorted(range(len(work)), key=lambda i: -len(work[i][0].stops))
    load = [0] * workers
    worker_of: dict[int, int] = {}
    for i in order:
        w = min(range(workers), key=lambda k: load[k])
        worker_of[i] = w
        load[w] += len(work[i][0].stops)
    jobs: list[Job] = []
    for i, (p, warm) in enumerate(work):
        n = len(p.stops)
        share = wall * n / max(load[worker_of[i]], 1)
        jobs.append(
            Job(
                p,
                max(0.5, share - setup.of(n)),
                seed,
                warm,
                round_no,
                round_end,
                setup.of(n),
                False,
                budget.clock,
                search,
            )
        )
    done = dict(zip(order, pool.map(_solve, [jobs[i] for i in order]), strict=True))
    out = [done[i] for i in range(len(jobs))]
    setup.learn([len(p.stops) for p, _ in work], [s.overhead_s for s in out])
    budget.charge(out)
    return out


def _summary(plans: list[Plan], violations: int, started: float) -> dict[str, object]:
    return {
        "wall_s": round(time.time() - started, 1),
        "distance_km": round(sum(p.distance for p in plans) / 1000, 1),
        "served": sum(len(r.visits) for p in plans for r in p.routes),
        "unserved": sum(len(p.unserved) for p in plans),
        "unserved_by_reason": dict(Counter(u.reason.value for p in plans for u in p.unserved)),
        "routes": sum(len(p.routes) for p in plans),
        "violations": violations,
    }


def run(
    parts: list[PlanningProblem],
    budget_s: float,
    workers: int,
    seed: int,
    exchange_share: float = 0.0,
    rounds: int = 1,
    group_size: int = 2,
    border_share: float = 1.0,
    clock: str = "cpu",
    repair_s: float = 0.0,
    search: Search = PYVRP_DEFAULTS,
    rescue_share: float = 0.0,
) -> tuple[dict[str, object], list[Region]]:
    """Solve every part, then spend `exchange_share` of the budget on `rounds` rounds of
    border exchange (neighbouring parts re-solved together, warm-started; each round pairs
    parts that were not grouped before), then `rescue_share` on one round re-solving the
    routes around each stop still unserved together with it (`rescue_jobs`), then
    `repair_s` seconds of the parent's time on making room for the stops still unserved
    (`make_room`), all within `budget_s` seconds on `clock` (wall: elapsed; cpu: each
    worker's CPU time, the repair's taken off the workers' so that workers plus parent stay
    within `budget_s` × `workers`)."""
    started = time.time()
    budget = Budget(clock, budget_s - END_MARGIN_S - repair_s, started)
    improved_per_round: list[int] = []
    rescue: dict[str, object] = {"share": rescue_share}
    reserve = budget.left() * rescue_share
    with ProcessPoolExecutor(max_workers=workers) as pool:
        setup = SetupCost()
        first = _round(
            pool,
            [(p, None) for p in parts],
            budget.left() * (1 - exchange_share - rescue_share),
            budget,
            workers,
            seed,
            setup,
            search,
        )
        regions = [Region(p, s.plan) for p, s in zip(parts, first, strict=True)]
        tried: set[frozenset[int]] = set()
        for r in range(rounds if exchange_share > 0 else 0):
            jobs = exchange_jobs(regions, group_size, frozenset(tried), border_share)
            if not jobs:
                break
            tried.update(frozenset(p) for j in jobs for p in combinations(j.members, 2))
            work = [(j.problem, j.warm_start) for j in jobs]
            solved = _round(
                pool,
                work,
                (budget.left() - reserve) / (rounds - r),
                budget,
                workers,
                seed,
                setup,
                search,
            )
            regions, improved = apply_exchange(
                regions, jobs, [s.plan for s in solved], [s.violations for s in solved]
            )
            improved_per_round.append(improved)
        if rescue_share > 0:
            rescue.update(
                _rescue_round(pool, regions, budget, workers, seed, setup, search, RESCUE_ROUNDS)
            )
            regions = rescue.pop("regions")  # type: ignore[assignment]
    # Stops still unserved get one look at the nearest routes of other regions (insertion,
    # no search: the parent's CPU, within the wall time, recorded as parent_cpu_s).
    parent_cpu = time.process_time()
    regions, placed = place_unserved(regions)
    place_cpu = time.process_time() - parent_cpu
    unserved_before = sum(len(r.plan.unserved) for r in regions)
    km_before = sum(r.plan.distance for r in regions) / 1000
    repair_cpu, repair_wall = time.process_time(), time.time()
    served_by_room = 0
    if repair_s > 0:
        now = time.process_time if clock == "cpu" else time.time
        until = now() + repair_s
        regions, served_by_room = make_room(regions, lambda: now() > until)
    out = _summary([r.plan for r in regions], 0, started)
    out["placed_across_regions"] = placed
    out["place_parent_cpu_s"] = round(place_cpu, 2)
    out["repair"] = {
        "budget_s": repair_s,
        "unserved_before": unserved_before,
        "distance_km_before": round(km_before, 1),
        "served_by_making_room": served_by_room,
        "parent_cpu_s": round(time.process_time() - repair_cpu, 2),
        "wall_s": round(time.time() - repair_wall, 2),
    }
    # Checked again as parts after the exchange (a stop lost or doubled when a joint plan is
    # split back would show up); outside the wall time, as the workers already checked.
    out["violations"] = sum(len(check_plan(r.problem, r.plan)) for r in regions)
    out["groups_improved_per_round"] = improved_per_round
    out["rescue"] = rescue
    return out, regions


RESCUE_ROUNDS = 2
"""Rounds of the rescue (tuned on seeds 1-2 at 5,000 pickups: a second round on the routes as
the first left them served more)."""


def _rescue_round(
    pool: ProcessPoolExecutor,
    regions: list[Region],
    budget: Budget,
    workers: int,
    seed: int,
    setup: SetupCost,
    search: Search,
    rounds: int,
) -> dict[str, object]:
    """`rounds` rounds of `rescue_jobs` sharing what is left of the workers' budget (a
    round's jobs change the routes near the stops still unserved, so the next one looks at
    them again): the regions after them (key "regions") and what each round did."""
    before = sum(len(r.plan.unserved) for r in regions)
    per_round: list[dict[str, object]] = []
    for r in range(rounds):
        jobs = rescue_jobs(regions)
        if not jobs:
            break
        solved = _round(
            pool,
            [(j.problem, j.warm_start) for j in jobs],
            budget.left() / (rounds - r),
            budget,
            workers,
            seed + r,
            setup,
            search,
        )
        regions, improved = apply_rescue(
            regions, jobs, [s.plan for s in solved], [s.violations for s in solved]
        )
        per_round.append(
            {
                "routes_per_job": [len(j.problem.couriers) for j in jobs],
                "stops_per_job": [len(j.problem.stops) for j in jobs],
                "improved": improved,
                "unserved_after": sum(len(x.plan.unserved) for x in regions),
            }
        )
    return {"regions": regions, "unserved_before": before, "rounds": per_round}


def replan_day(
    regions: list[Region],
    change_pct: float,
    budget_s: float,
    workers: int,
    seed: int,
    clock: str = "cpu",
) -> dict[str, object]:
    """The day changes after it was planned: `change_pct` % of the pickups are cancelled and
    as many new ones booked (each to the part with the nearest depot). Every part is planned
    again within `budget_s`, once warm-started from its previous plan and once from nothing."""
    rng = random.Random(seed + 7919)
    ids = sorted(s.id for r in regions for s in r.problem.stops)
    count = round(len(ids) * change_pct / 100)
    cancelled = set(rng.sample(ids, count))
    booked: list[list[Stop]] = [[] for _ in regions]
    lat_km, lon_km = 110.57, 111.32 * math.cos(math.radians(CENTRE[0]))
    for stop in pickups_of(rng, count, "n"):
        booked[
            min(
                range(len(regions)),
                key=lambda k: math.hypot(
                    (stop.location[0] - regions[k].problem.depots[0].location[0]) * lat_km,
                    (stop.location[1] - regions[k].problem.depots[0].location[1]) * lon_km,
                ),
            )
        ].append(stop)
    changed = [
        replace(r.problem, stops=[s for s in r.problem.stops if s.id not in cancelled] + new)
        for r, new in zip(regions, booked, strict=True)
    ]
    out: dict[str, object] = {"changed_pct": change_pct, "cancelled": count, "booked": count}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for name, warm in (("warm", True), ("cold", False)):
            started = time.time()
            work = [(p, r.plan if warm else None) for p, r in zip(changed, regions, strict=True)]
            budget = Budget(clock, budget_s - END_MARGIN_S, started)
            solved = _round(pool, work, budget.left(), budget, workers, seed, SetupCost())
            out[name] = _summary([s.plan for s in solved], 0, started)
            out[name]["violations"] = sum(  # type: ignore[index]
                len(check_plan(p, s.plan)) for (p, _), s in zip(work, solved, strict=True)
            )
    return out


def baseline(
    parts: list[PlanningProblem], budget_s: float, workers: int, seed: int, clock: str = "cpu"
) -> dict[str, object]:
    """The same parts, each solved once with time in proportion to its size, 75 % of
    `budget_s` × `workers` seconds on `clock` in all (the scheduling every cached baseline
    used; the rest covers set-up)."""
    started = time.time()
    total = sum(len(p.stops) for p in parts) or 1
    cpu = budget_s * workers * 0.75
    jobs = [
        Job(
            p,
            max(1.0, cpu * len(p.stops) / total),
            seed,
            None,
            next(_ROUND_NUMBERS),
            math.inf,
            0.0,
            True,
            clock,
            PYVRP_DEFAULTS,
        )
        for p in parts
    ]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].planned_s)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = dict(zip(order, pool.map(_solve, [jobs[i] for i in order]), strict=True))
    plans = [done[i].plan for i in range(len(jobs))]
    return _summary(plans, sum(done[i].violations for i in range(len(jobs))), started)


CACHE = Path("var/city_scale_baselines.json")

GOAL_RATIO = 1.03
"""Issue 11 §5: the fast city-day within 3 % of the cost of a solve ten times as long."""


def unserved_penalty_km(parts: Sequence[PlanningProblem]) -> float:
    """The km the search charges per unserved pickup (its own drop penalty: four times the
    part's longest arc), averaged over the parts, so a plan that serves fewer pickups is not
    counted cheaper than one that drives a little further to serve them."""
    params = SolveParams()
    penalties = [
        auto_drop_penalty(Network.of(p).matrix.distances, [], params) / 1000 for p in parts
    ]
    return round(sum(penalties) / len(penalties), 1)


def compare(
    fast: dict[str, object], slow: dict[str, object], penalty_km: float
) -> dict[str, object]:
    """Fast against baseline: km alone, km per served pickup, and km plus `penalty_km` per
    unserved pickup (the cost the goal is checked on)."""

    def num(d: dict[str, object], key: str) -> float:
        return float(d[key])  # type: ignore[arg-type]

    def cost(d: dict[str, object]) -> float:
        return num(d, "distance_km") + penalty_km * num(d, "unserved")

    ratio = round(cost(fast) / cost(slow), 4)
    return {
        "unserved_penalty_km": penalty_km,
        "cost_km_with_penalty": round(cost(fast), 1),
        "baseline_cost_km_with_penalty": round(cost(slow), 1),
        "cost_ratio_with_penalty": ratio,
        "km_per_served_ratio": round(
            num(fast, "distance_km")
            / num(fast, "served")
            / (num(slow, "distance_km") / num(slow, "served")),
            4,
        ),
        "unserved": [int(num(fast, "unserved")), int(num(slow, "unserved"))],
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio <= GOAL_RATIO,
    }


def _children_cpu_s() -> float:
    """CPU seconds used so far by finished child processes (each phase's pool is shut down
    before it returns, so the difference across a phase is what its workers received)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """What the figures were measured on: the CPU model (with its family/model/stepping, since
    a VM's model name can be as vague as "AMD EPYC"), its clock and the number of CPUs.

    A baseline buys a different amount of search per CPU-second on another CPU (session 5:
    session 3's commit gave 1.015 there and 1.173 here), so baselines are cached per machine."""
    fields: dict[str, str] = {}
    cpus = 0
    try:
        text = cpuinfo.read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "processor":
            cpus += 1
        elif name in ("model name", "cpu family", "model", "stepping", "cpu MHz"):
            fields.setdefault(name, value.strip())
    if not fields.get("model name"):
        # No /proc/cpuinfo (macOS, some containers): the platform's own description.
        return f"{platform.processor() or platform.machine()} x{os.cpu_count() or 0}"
    desc = fields["model name"]
    if "cpu family" in fields:
        desc += (
            f" (family {fields['cpu family']} model {fields.get('model', '?')}"
            f" stepping {fields.get('stepping', '?')})"
        )
    if "cpu MHz" in fields:
        desc += f" {float(fields['cpu MHz']) / 1000:.1f} GHz"
    return f"{desc} x{cpus or os.cpu_count() or 0}"


def _cache_key(args: argparse.Namespace, on: str) -> str:
    # Wall-clock baselines keep the key they were cached under before the CPU clock existed.
    return (
        f"pickups={args.pickups} couriers={args.couriers} depots={args.depots} "
        f"seed={args.seed} budget={args.budget * args.baseline_factor:g} workers={args.workers}"
        + (" clock=cpu" if args.clock == "cpu" else "")
        + f" machine={on}"
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


def restore_baselines(path: Path) -> list[str]:
    """Fill the cache from the `baseline_10x` figures of earlier runs' JSON lines in `path`
    (keys already cached are kept). Each restored entry says where it came from
    (`restored_from`), and runs that disagree on a key's figures are refused rather than
    one picked. Returns the keys restored."""
    found: dict[str, dict[str, object]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        key, entry = row.get("baseline_key"), row.get("baseline_10x")
        if not key or not entry:
            continue
        # A line whose baseline was itself restored names the run that measured it: keep that.
        origin = entry.get("restored_from") or f"{path} line {n} (run {row.get('run')})"
        entry = {k: v for k, v in entry.items() if k not in ("source", "restored_from")}
        if key in found:
            seen = {k: v for k, v in found[key].items() if k != "restored_from"}
            if seen != entry:
                raise SystemExit(f"{path}:{n}: baseline for {key!r} differs from an earlier line")
            continue
        found[key] = {**entry, "restored_from": origin}
    restored = [k for k in found if _cached(k) is None]
    for k in restored:
        _store(k, found[k])
    return restored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pickups", type=int, default=20_000)
    parser.add_argument("--couriers", type=int, default=200)
    parser.add_argument("--depots", type=int, default=20)
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="what --budget counts, in every phase: cpu = each worker's CPU seconds "
        "(independent of machine load; default), wall = elapsed seconds",
    )
    parser.add_argument("--baseline-factor", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--exchange-share",
        type=float,
        default=0.4,
        help="share of the budget for neighbouring parts solved as warm-started pairs (0: off)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="border exchange rounds")
    parser.add_argument(
        "--border-share",
        type=float,
        default=0.5,
        help="share of each part's couriers (those nearest the neighbours) re-solved in a group",
    )
    parser.add_argument(
        "--repair-s",
        type=float,
        default=0.0,
        help="seconds of the budget (taken off the workers') for making room for unserved "
        "stops by moving their neighbours (planning.ejection); 0: off",
    )
    parser.add_argument(
        "--rescue-share",
        type=float,
        default=0.0,
        help="share of the budget for one round re-solving the routes around each stop "
        "still unserved together with it (planning.rescue); 0: off",
    )
    parser.add_argument(
        "--replan-budget",
        type=float,
        default=0.0,
        help="after the plan, change the day and re-plan it warm and cold in this many seconds",
    )
    parser.add_argument(
        "--replan-pct", type=float, default=5.0, help="%% of pickups cancelled and newly booked"
    )
    parser.add_argument(
        "--group-size", type=int, default=2, help="parts per exchange group (2 pairs, 3 triples)"
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
    parser.add_argument(
        "--baseline-from",
        type=Path,
        help="before anything else, fill the baseline cache from the baseline_10x figures "
        "of the JSON lines in this file (e.g. bench/results/city_scale_seeds.jsonl)",
    )
    parser.add_argument(
        "--exhaustive-on-best",
        choices=("on", "off"),
        default="on",
        help="PyVRP re-searches each new best over all stops (timed run; the baseline keeps on)",
    )
    parser.add_argument(
        "--history", type=int, default=300, help="PyVRP's late-acceptance history (timed run)"
    )
    parser.add_argument(
        "--neighbours", type=int, default=50, help="PyVRP's granular neighbours (timed run)"
    )
    parser.add_argument(
        "--max-perturbations", type=int, default=25, help="PyVRP's kick size (timed run)"
    )
    args = parser.parse_args()
    search = Search(
        exhaustive_on_best=args.exhaustive_on_best == "on",
        history_length=args.history,
        num_neighbours=args.neighbours,
        max_perturbations=args.max_perturbations,
    )
    if args.baseline_from is not None:
        restored = restore_baselines(args.baseline_from)
        print(json.dumps({"baselines_restored": restored}), file=sys.stderr)

    load_start = _load()
    t0 = time.perf_counter()
    problem = shanghai_day(args.pickups, args.couriers, args.depots, args.seed)
    parts = partition_by_depot(problem)
    partition_s = time.perf_counter() - t0
    fast: dict[str, object] | None = None
    replanned: dict[str, object] | None = None
    if not args.baseline_only:
        cpu_before = _children_cpu_s()
        fast, regions = run(
            parts,
            args.budget - partition_s,
            args.workers,
            args.seed,
            args.exchange_share,
            args.rounds,
            args.group_size,
            args.border_share,
            args.clock,
            args.repair_s,
            search,
            args.rescue_share,
        )
        fast["wall_s"] = round(float(fast["wall_s"]) + partition_s, 1)  # type: ignore[arg-type]
        fast["load_end"] = _load()
        # Of budget × workers CPU-seconds, how many the search got: on a shared machine the
        # wall-clock budget buys less, and the cost ratio should be read against this.
        fast["cpu_s"] = round(_children_cpu_s() - cpu_before, 1)
        if args.replan_budget > 0:
            cpu_before = _children_cpu_s()
            replanned = replan_day(
                regions, args.replan_pct, args.replan_budget, args.workers, args.seed, args.clock
            )
            replanned["cpu_s_warm_and_cold"] = round(_children_cpu_s() - cpu_before, 1)
    slow: dict[str, object] | None = None
    here = machine()
    key = _cache_key(args, here)
    if args.baseline != "off" and args.baseline_factor > 0:
        slow = _cached(key) if args.baseline == "cached" and not args.baseline_only else None
        if slow is not None:
            slow = {**slow, "source": "cached"}
        else:
            baseline_load = _load()
            cpu_before = _children_cpu_s()
            slow = baseline(
                parts, args.budget * args.baseline_factor, args.workers, args.seed, args.clock
            )
            slow.update(
                cpu_s=round(_children_cpu_s() - cpu_before, 1),
                load_start=baseline_load,
                load_end=_load(),
                command=" ".join(["python", *sys.argv]),
                commit=_commit(),
                machine=here,
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
        "clock": args.clock,
        "parts": len(parts),
        "exchange_share": args.exchange_share,
        "rounds": args.rounds,
        "group_size": args.group_size,
        "border_share": args.border_share,
        "repair_s": args.repair_s,
        "rescue_share": args.rescue_share,
        "search": search._asdict(),
        "largest_part": max(len(p.stops) for p in parts),
        "seed": args.seed,
        "partition_s": round(partition_s, 2),
        "load_start": load_start,
        "load_end": _load(),
        "commit": _commit(),
        "machine": here,
        "doorstep": fast,
        "baseline_key": key,
        "baseline_10x": slow,
        "cost_ratio_vs_baseline": (
            round(float(fast["distance_km"]) / float(slow["distance_km"]), 4)  # type: ignore[arg-type]
            if fast and slow and slow["distance_km"]
            else None
        ),
        "vs_baseline": compare(fast, slow, unserved_penalty_km(parts)) if fast and slow else None,
        "replan": replanned,
        "peak_rss_mb_self_plus_largest_child": round(peak_mb, 1),
        "parent_cpu_s": round(time.process_time(), 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
