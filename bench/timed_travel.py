"""Routes priced at the hour they are driven vs at the evening peak, tuned on some seeds and
reported on others (issue 11 §3-4).

Every run is ``doorstep simulate`` (the real services on a throwaway database): per seed one
demand, driven once with legs priced at the evening peak (``planned``) and once per setting
point with the time-bucketed model in the day plan and the booking path (``planned_timed``,
``planning.timed.TimedTravel``), plus any ``--also`` policies for their ETA error.

Tuning: every point of the declared grid (``--grid``, default ``timed_tuning.GRID``: settings
of ``doorstep.config.Settings``) is run on every tuning seed, and one point is picked by the
objective and constraint stated in ``bench/timed_tuning.py``; the reporting seeds then run
that point only (or ``--point``, when no tuning seeds are given). Nothing is chosen on the
reporting seeds.

Runs go to two worker processes, one (load, seed, variant) each; every finished run is logged
to stderr as one JSON line, and ``--resume LOG...`` takes the runs found in earlier logs
instead of running them again (a run is a pure function of the code, the load, the seed and
the variant's settings). One JSON object on stdout: per load, tuning and reporting side by
side (mean ± sd [min, max]), the per-seed figures (inside share of both pricings, the ratio),
the tuning search with every candidate, and ETA error p50/p90 per moment and policy.

    uv run python bench/timed_travel.py --tuning-seeds 1-10 --reporting-seeds 101-140 \
        [--grid 'travel_chain_z=1.64:2.33;travel_leg_reserve_s=0:120'] [--load 16[,24]] \
        [--resume earlier.log] [--also planned_incentive,fixed]
    uv run python bench/timed_travel.py --merge a.log b.log   # report from logs only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import timed_tuning
from doorstep.simulation.compare import Scenario
from doorstep.simulation.eta import HORIZONS
from doorstep.simulation.params import POLICIES, SimParams

# The sibling script's seed parsing, logging and spread (run as ``python bench/…``, the
# script's folder is on the path).
from slot_offering import FIGURES, log, seeds, spread

PEAK = "planned"
TIMED = "planned_timed"
RATIOS = ("pickups_per_courier_hour", "km_per_pickup", "accepted_share")
PER_SEED = ("pickups_per_courier_hour", "inside_window_share", "accepted_share")
# The fixed baseline's capacity per window as tuned by bench/slot_offering.py (seeds 1-2).
FIXED_CAPACITY = 2
# Two processes: the machine has two cores, shared with everyone else.
WORKERS = 2

Job = tuple[int, int, str]  # (load, seed, variant)
Kpis = dict[str, Any]


def variant(point: dict[str, str] | None) -> str:
    """The key of a timed run at ``point`` (None: the settings as configured)."""
    return f"{TIMED} {timed_tuning.label(point)}" if point else TIMED


@contextlib.contextmanager
def settings_env(point: dict[str, str]) -> Iterator[None]:
    """``point``'s settings in the environment the simulated app reads its config from."""
    wanted = timed_tuning.environ(point)
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_job(days: int, replan: int, load: int, seed: int, name: str) -> Kpis:
    """One policy (``name``: a policy, or ``planned_timed <point>``) on one seed's demand;
    ``replan``: ``SimParams.replan_every_min``."""
    policy, _, point = name.partition(" ")
    # Today as these figures were measured (before session 16's rule, the simulator's default).
    params = SimParams(
        days=days,
        seed=seed,
        pickups_per_courier_day=load,
        replan_every_min=replan,
        replan_today="never",
    )
    # stdout carries the one JSON report; a worker process must not write anything else there.
    with (
        contextlib.redirect_stdout(sys.stderr),
        tempfile.TemporaryDirectory(prefix="doorstep-timed-") as tmp,
        # The peak side prices at the evening peak whatever the default (timed since
        # session 20): its runs stay comparable with the logs of earlier sessions.
        settings_env({"travel_pricing": "peak"} if policy == PEAK else {}),
        settings_env(timed_tuning.parse_label(point)),
    ):
        started = time.monotonic()
        scenario = Scenario(params, Path(tmp))
        capacity = FIXED_CAPACITY if policy == "fixed" else None
        out = scenario.run(policy, capacity)
        log(f"load {load} seed {seed} {name}: {time.monotonic() - started:.0f} s")
        return out


def read_logs(paths: Sequence[str], replan: int = 0) -> dict[Job, Kpis]:
    """The runs logged by earlier invocations (this script's stderr) at ``replan`` (lines
    without it were run at 0). A line of the older format (one line per seed with every
    policy) gives one run per policy."""
    found: dict[Job, Kpis] = {}
    for path in paths:
        for text in Path(path).read_text().splitlines():
            _, _, body = text.partition("] ")
            if not body.startswith("{"):
                continue
            line = json.loads(body)
            if line.get("replan_every_min", 0) != replan:
                continue
            if "variant" in line:
                found[(line["load"], line["seed"], line["variant"])] = line["kpis"]
            else:
                for policy, kpis in line["kpis"].items():
                    found[(line["load"], line["seed"], policy)] = kpis
    return found


def run_all(
    jobs: Sequence[Job], days: int, replan: int, known: dict[Job, Kpis], workers: int
) -> None:
    """Run the jobs not in ``known`` and add them to it, logging each as it finishes."""
    todo = [j for j in dict.fromkeys(jobs) if j not in known]
    if not todo:
        return
    log(f"{len(todo)} runs to go ({len(jobs) - len(todo)} from logs) on {workers} worker(s)")

    def record(job: Job, kpis: Kpis) -> None:
        known[job] = kpis
        load, seed, name = job
        line = {"load": load, "seed": seed, "variant": name, "kpis": kpis}
        if replan:
            line["replan_every_min"] = replan
        log(json.dumps(line, sort_keys=True))

    if workers <= 1:
        for job in todo:
            record(job, run_job(days, replan, *job))
        return
    # spawn, not fork: a forked child inherits locks held by the parent's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_job, days, replan, *job): job for job in todo}
        for future, job in futures.items():
            record(job, future.result())


def summarise(pairs: Sequence[tuple[Kpis, Kpis]], extra: dict[str, list[Kpis]]) -> dict[str, Any]:
    """Spread of each figure per policy, of the timed/peak ratios, and of ETA error."""
    by_policy = {PEAK: [p for p, _ in pairs], TIMED: [t for _, t in pairs], **extra}
    figures = {
        p: {f: spread([float(r[f]) for r in rs]) for f in FIGURES} for p, rs in by_policy.items()
    }
    ratios = {
        f"timed_vs_peak_{f}": spread([float(t[f]) / float(p[f]) for p, t in pairs if float(p[f])])
        for f in RATIOS
    }
    eta = {
        p: {
            h: {
                q: spread([float(r["eta_error"][h][q]) for r in rs if r["eta_error"][h]["n"]])
                for q in ("p50_min", "p90_min")
            }
            for h in HORIZONS
        }
        for p, rs in by_policy.items()
    }
    below = [i for i, (p, t) in enumerate(pairs) if t[PER_SEED[0]] < p[PER_SEED[0]]]
    return {
        "seeds": len(pairs),
        "policies": figures,
        "ratios": ratios,
        "timed_below_peak_seeds": len(below),
        "inside_100_every_seed": {
            PEAK: all(float(p["inside_window_share"]) >= 1.0 for p, _ in pairs),
            TIMED: all(float(t["inside_window_share"]) >= 1.0 for _, t in pairs),
        },
        "eta_error": eta,
    }


def per_seed(chosen: Sequence[int], pairs: Sequence[tuple[Kpis, Kpis]]) -> dict[str, Any]:
    """Per seed the figures the goal is judged on: each pricing's inside share, pickups per
    courier-hour and counts, and the timed/peak ratio."""
    out: dict[str, Any] = {}
    for seed, (peak, timed) in zip(chosen, pairs, strict=True):
        row: dict[str, Any] = {}
        for name, kpis in ((PEAK, peak), (TIMED, timed)):
            row[name] = {
                **{f: kpis[f] for f in PER_SEED},
                "accepted": kpis["counts"]["accepted"],
                "completed": kpis["counts"]["completed"],
                "courier_hours": kpis["counts"].get("courier_hours"),
            }
        base = float(peak["pickups_per_courier_hour"])
        row["ratio"] = round(float(timed["pickups_per_courier_hour"]) / base, 4) if base else None
        out[str(seed)] = row
    return out


def fmt(s: dict[str, float]) -> str:
    return f"{s['mean']:.4f} ± {s['sd']:.4f} [{s['min']:.4f}, {s['max']:.4f}]"


def side_by_side(sets: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, str | None]]:
    """``mean ± sd [min, max]`` of the ratios and each pricing's figures, set next to set."""
    rows: dict[str, dict[str, str | None]] = {}
    for f in RATIOS:
        key = f"timed_vs_peak_{f}"
        rows[key] = {n: fmt(s["ratios"][key]) if s else None for n, s in sets.items()}
    for p in (PEAK, TIMED):
        for f in FIGURES:
            rows[f"{p} {f}"] = {n: fmt(s["policies"][p][f]) if s else None for n, s in sets.items()}
    return rows


def report_load(
    load: int,
    tuning: Sequence[int],
    reporting: Sequence[int],
    grid: list[dict[str, str]],
    fixed_point: dict[str, str] | None,
    known: dict[Job, Kpis],
    also: Sequence[str],
) -> dict[str, Any]:
    """Tuning search (if tuning seeds), then the chosen point on the reporting seeds."""
    out: dict[str, Any] = {"tuning_seeds": list(tuning), "reporting_seeds": list(reporting)}
    chosen = fixed_point
    if tuning:
        candidates = [
            timed_tuning.Scores(
                point,
                ratio=[
                    float(known[(load, s, variant(point))]["pickups_per_courier_hour"])
                    / float(known[(load, s, PEAK)]["pickups_per_courier_hour"])
                    for s in tuning
                ],
                inside=[
                    float(known[(load, s, variant(point))]["inside_window_share"]) for s in tuning
                ],
            )
            for point in grid
        ]
        out["search"] = timed_tuning.pick(candidates)
        chosen = out["search"]["chosen"]
    out["point"] = variant(chosen)
    sets: dict[str, dict[str, Any] | None] = {}
    for name, chosen_seeds in (("tuning", tuning), ("reporting", reporting)):
        pairs = [(known[(load, s, PEAK)], known[(load, s, variant(chosen))]) for s in chosen_seeds]
        extra = {p: [known[(load, s, p)] for s in chosen_seeds] for p in also}
        sets[name] = summarise(pairs, extra) if pairs else None
        out[name] = sets[name]
        out[f"{name}_per_seed"] = per_seed(chosen_seeds, pairs)
    out["side_by_side"] = side_by_side(sets)
    return out


def search(
    load: int, tuning: Sequence[int], tried: list[dict[str, str]], known: dict[Job, Kpis]
) -> dict[str, str]:
    """The point picked among ``tried`` on the tuning runs."""
    found = report_load(load, tuning, [], tried, None, known, [])
    return dict(found["search"]["chosen"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning-seeds", default="1-10")
    parser.add_argument("--reporting-seeds", default="121-140")
    parser.add_argument("--load", default="16", help="pickups per courier-day, comma list")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument(
        "--grid", default="", help="tuning grid, e.g. 'travel_chain_z=1.64:2.33' (default GRID)"
    )
    parser.add_argument(
        "--point",
        default=None,
        help="settings for the reporting seeds when no tuning seeds are given, e.g. "
        "'travel_chain_z=2.0,travel_leg_reserve_s=60' (default: as configured)",
    )
    parser.add_argument(
        "--then",
        default=";".join(timed_tuning.label(step) for step in timed_tuning.THEN),
        help="after the grid's pick, try it with these settings changed, one step per ';' "
        "(each step starts from the pick so far; '': none)",
    )
    parser.add_argument("--also", default="", help="more policies, for their ETA error")
    parser.add_argument(
        "--replan-every-min",
        type=int,
        default=0,
        help="plan the days after today again this often, as the worker does (0: 06:00 only)",
    )
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--resume", nargs="+", default=[], metavar="LOG", help="earlier runs")
    parser.add_argument(
        "--merge", action="store_true", help="report from the --resume logs only, run nothing"
    )
    args = parser.parse_args()
    also = [p for p in args.also.split(",") if p]
    unknown = [p for p in also if p not in POLICIES or p in (PEAK, TIMED)]
    if unknown:
        parser.error(f"unknown or paired policies in --also: {unknown}")
    grid = timed_tuning.points(
        timed_tuning.parse_grid(args.grid) if args.grid else timed_tuning.GRID
    )
    fixed_point = timed_tuning.parse_label(args.point) if args.point is not None else None
    started = time.monotonic()
    loads = [int(x) for x in args.load.split(",") if x]
    tuning, reporting = seeds(args.tuning_seeds), seeds(args.reporting_seeds)
    known = read_logs(args.resume, args.replan_every_min)
    report: dict[str, Any] = {
        "bench": "timed_travel",
        "loads": loads,
        "days": args.days,
        "replan_every_min": args.replan_every_min,
        "grid": [timed_tuning.label(p) for p in grid] if tuning else None,
        "then": args.then if tuning else None,
        "resumed_from": args.resume,
        "by_load": {},
    }
    workers = max(1, min(WORKERS, args.workers))
    for load in loads:
        if not args.merge:
            tuning_jobs = [(load, s, n) for s in tuning for n in (PEAK, *map(variant, grid))]
            run_all(tuning_jobs, args.days, args.replan_every_min, known, workers)
        chosen, tried = fixed_point, list(grid)
        if tuning:
            # The pick needs only the tuning runs; the reporting runs need the pick.
            chosen = search(load, tuning, tried, known)
            for then in timed_tuning.parse_steps(args.then):
                if {**chosen, **then} in tried:
                    continue
                tried.append({**chosen, **then})
                if not args.merge:
                    jobs = [(load, s, variant(tried[-1])) for s in tuning]
                    run_all(jobs, args.days, args.replan_every_min, known, workers)
                chosen = search(load, tuning, tried, known)
        if not args.merge:
            names = (PEAK, variant(chosen), *also)
            run_all(
                [(load, s, n) for s in reporting for n in names],
                args.days,
                args.replan_every_min,
                known,
                workers,
            )
            if also:
                run_all(
                    [(load, s, n) for s in tuning for n in also],
                    args.days,
                    args.replan_every_min,
                    known,
                    workers,
                )
        report["by_load"][str(load)] = report_load(
            load, tuning, reporting, tried, fixed_point, known, also
        )
    report["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
