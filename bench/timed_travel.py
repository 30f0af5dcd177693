"""Routes priced at the hour they are driven vs at the evening peak, side by side (issue 11 §3-4).

Every run is ``doorstep simulate`` (the real services on a throwaway database): per seed one
demand, driven once with legs priced at the evening peak (``planned``) and once with the
time-bucketed model in the day plan and the booking path (``planned_timed``,
``planning.timed.TimedTravel``), plus any ``--also`` policies for their ETA error. Nothing here
is tuned on the reporting seeds: the lead before a window (``LEAD_S``) and the ETA model were
set while looking at the tuning seeds only.

Prints one JSON line per seed to stderr as it goes, and one JSON object on stdout: per seed
set the mean, population sd, min and max of each figure per policy, the per-seed ratios
timed/peak (pickups per courier-hour, km per pickup, accepted share), and ETA error p50/p90
per moment and policy.

    uv run python bench/timed_travel.py --tuning-seeds 1-2 --reporting-seeds 101-110 \
        [--load 16[,20,24]] [--also planned_incentive,fixed]
    uv run python bench/timed_travel.py --merge part1.log part2.log   # halves run in parallel

With several loads (pickups per courier-day) the whole comparison is repeated per load, in
``by_load``: at the default load evening-peak pricing accepts nearly everyone, so timed
pricing can only save hours there; a heavier load shows whether it also wins pickups.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from doorstep.simulation.compare import Scenario
from doorstep.simulation.eta import HORIZONS
from doorstep.simulation.params import POLICIES, SimParams

# The sibling script's seed parsing, logging and spread (run as ``python bench/…``, the
# script's folder is on the path).
from slot_offering import FIGURES, log, seeds, spread

PAIR = ("planned", "planned_timed")
RATIOS = ("pickups_per_courier_hour", "km_per_pickup", "accepted_share")
# The fixed baseline's capacity per window as tuned by bench/slot_offering.py (seeds 1-2).
FIXED_CAPACITY = 2

Run = dict[str, dict[str, Any]]


def run_seed(params: SimParams, policies: Sequence[str]) -> Run:
    """Each policy on one seed's demand (fixed at the tuned capacity)."""
    with tempfile.TemporaryDirectory(prefix="doorstep-timed-") as tmp:
        scenario = Scenario(params, Path(tmp))
        out: Run = {}
        for policy in policies:
            started = time.monotonic()
            capacity = FIXED_CAPACITY if policy == "fixed" else None
            out[policy] = scenario.run(policy, capacity)
            log(f"seed {params.seed} {policy}: {time.monotonic() - started:.0f} s")
        return out


def summarise(runs: Sequence[Run]) -> dict[str, Any]:
    """Spread of each figure per policy, of the timed/peak ratios, and of ETA error."""
    policies = list(runs[0]) if runs else []
    figures = {p: {f: spread([float(r[p][f]) for r in runs]) for f in FIGURES} for p in policies}
    ratios = {
        f"timed_vs_peak_{f}": spread(
            [float(r[PAIR[1]][f]) / float(r[PAIR[0]][f]) for r in runs if float(r[PAIR[0]][f])]
        )
        for f in RATIOS
    }
    eta = {
        p: {
            h: {
                q: spread(
                    [float(r[p]["eta_error"][h][q]) for r in runs if r[p]["eta_error"][h]["n"]]
                )
                for q in ("p50_min", "p90_min")
            }
            for h in HORIZONS
        }
        for p in policies
    }
    return {"seeds": len(runs), "policies": figures, "ratios": ratios, "eta_error": eta}


PER_SEED = ("pickups_per_courier_hour", "inside_window_share", "accepted_share")


def per_seed(chosen: Sequence[int], runs: Sequence[Run]) -> dict[str, dict[str, Any]]:
    """Per seed and policy the figures the goal is judged on (100 % inside on every seed),
    with the accepted and completed counts."""
    return {
        str(seed): {
            p: {
                **{f: run[p][f] for f in PER_SEED},
                "accepted": run[p]["counts"]["accepted"],
                "completed": run[p]["counts"]["completed"],
            }
            for p in run
        }
        for seed, run in zip(chosen, runs, strict=True)
    }


def merge(paths: Sequence[str]) -> dict[str, Any]:
    """The report of ``main`` from the per-seed lines logged by runs over parts of the seeds
    (each seed once: a seed logged twice is an error, not averaged)."""
    lines: dict[tuple[int, str, int], Run] = {}
    for path in paths:
        for text in Path(path).read_text().splitlines():
            _, _, body = text.partition("] ")
            if not body.startswith("{"):
                continue
            line = json.loads(body)
            key = (line["load"], line["set"], line["seed"])
            if key in lines:
                raise SystemExit(f"seed logged twice: {key}")
            lines[key] = line["kpis"]
    report: dict[str, Any] = {"bench": "timed_travel", "merged_from": list(paths), "by_load": {}}
    for load in sorted({k[0] for k in lines}):
        at_load: dict[str, Any] = {}
        for name in ("tuning", "reporting"):
            chosen = sorted(k[2] for k in lines if k[0] == load and k[1] == name)
            runs = [lines[(load, name, seed)] for seed in chosen]
            at_load[f"{name}_seeds"] = chosen
            at_load[name] = summarise(runs) if runs else None
            at_load[f"{name}_per_seed"] = per_seed(chosen, runs)
        report["by_load"][str(load)] = at_load
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tuning-seeds", default="1-2")
    parser.add_argument("--reporting-seeds", default="101-110")
    parser.add_argument("--load", default="16", help="pickups per courier-day, comma list")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--also", default="", help="more policies, for their ETA error")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="LOG",
        help="summarise the per-seed lines of earlier runs' stderr (seed ranges run in parallel)",
    )
    args = parser.parse_args()
    if args.merge:
        print(json.dumps(merge(args.merge), sort_keys=True))
        return
    also = [p for p in args.also.split(",") if p]
    unknown = [p for p in also if p not in POLICIES]
    if unknown:
        parser.error(f"unknown policies: {unknown}")
    policies = [*PAIR, *(p for p in also if p not in PAIR)]
    started = time.monotonic()
    loads = [int(x) for x in args.load.split(",") if x]
    report: dict[str, Any] = {
        "bench": "timed_travel",
        "loads": loads,
        "days": args.days,
        "policies": policies,
        "by_load": {},
    }
    for load in loads:
        at_load: dict[str, Any] = {}
        for name, text in (("tuning", args.tuning_seeds), ("reporting", args.reporting_seeds)):
            chosen = seeds(text)
            runs = []
            for seed in chosen:
                params = SimParams(days=args.days, seed=seed, pickups_per_courier_day=load)
                run = run_seed(params, policies)
                log(
                    json.dumps(
                        {"set": name, "load": load, "seed": seed, "kpis": run}, sort_keys=True
                    )
                )
                runs.append(run)
            at_load[f"{name}_seeds"] = chosen
            at_load[name] = summarise(runs) if runs else None
            at_load[f"{name}_per_seed"] = per_seed(chosen, runs)
        report["by_load"][str(load)] = at_load
    report["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
