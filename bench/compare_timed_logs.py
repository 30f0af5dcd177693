"""Seed by seed, one setting's runs of ``bench/timed_travel.py`` against another's (issue 11 §3).

A setting that run labels do not carry (an environment variable set for the whole bench, e.g.
``DOORSTEP_BOOKING_CALL_OUT_S``) is run into its own log; this reads that log and a log of the
same seeds without it, and prints one JSON object: per seed the pickups per courier-hour of
both pricings with and without the setting, and the spread of each ratio.

    uv run python bench/compare_timed_logs.py bench/results/timed_travel_s7_seeds.log \\
        bench/results/timed_travel_s10_callout3600_seeds.log
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from statistics import mean, pstdev
from typing import Any

PEAK = "planned"
TIMED = "planned_timed travel_chain_z=2.33,travel_leg_reserve_s=120,travel_leg_margin=1.2"
LINE = re.compile(r"^\[[^]]*\] (\{.*\})$")

Runs = dict[tuple[int, int, str], dict[str, Any]]


def runs(path: Path) -> Runs:
    """(load, seed, variant) -> the run's KPIs, from a bench log."""
    out: Runs = {}
    for line in path.read_text().splitlines():
        found = LINE.match(line.strip())
        if found:
            run = json.loads(found.group(1))
            if "kpis" in run:
                out[(run["load"], run["seed"], run["variant"])] = run["kpis"]
    return out


def spread(values: list[float]) -> dict[str, float]:
    """Mean, population sd, min and max."""
    return {
        "mean": round(mean(values), 4),
        "sd": round(pstdev(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def seed_set(text: str) -> set[int]:
    """``101-120,125`` -> {101, ..., 120, 125}; '' -> every seed (empty set)."""
    out: set[int] = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if lo.strip():
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def compare(
    before: Runs, after: Runs, timed: str = TIMED, only: set[int] | None = None
) -> dict[str, Any]:
    """Per seed and in spread: each pricing with the setting over without, and timed/peak
    (``only``: those seeds)."""
    seeds: dict[str, Any] = {}
    for load, seed, variant in sorted(after):
        if only and seed not in only:
            continue
        keys = [(load, seed, PEAK), (load, seed, timed)]
        if variant != PEAK or any(k not in before or k not in after for k in keys):
            continue
        p0, t0 = (before[k] for k in keys)
        p1, t1 = (after[k] for k in keys)
        hour = "pickups_per_courier_hour"
        seeds[f"{load}/{seed}"] = {
            "peak": [p0[hour], p1[hour]],
            "timed": [t0[hour], t1[hour]],
            "peak_ratio": p1[hour] / p0[hour],
            "timed_ratio": t1[hour] / t0[hour],
            "timed_vs_peak": [t0[hour] / p0[hour], t1[hour] / p1[hour]],
            "inside": {"peak": p1["inside_window_share"], "timed": t1["inside_window_share"]},
        }
    rows = list(seeds.values())
    if not rows:
        return {"seeds": {}, "n": 0}
    return {
        "n": len(rows),
        "seeds": seeds,
        "peak_with_over_without": spread([r["peak_ratio"] for r in rows]),
        "timed_with_over_without": spread([r["timed_ratio"] for r in rows]),
        "timed_vs_peak_without": spread([r["timed_vs_peak"][0] for r in rows]),
        "timed_vs_peak_with": spread([r["timed_vs_peak"][1] for r in rows]),
        "not_all_inside_with": [s for s, r in seeds.items() if min(r["inside"].values()) < 1.0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("without", type=Path, help="log of the runs without the setting")
    parser.add_argument("with_", type=Path, metavar="with", help="log of the runs with it")
    parser.add_argument("--timed", default=TIMED, help="the timed variant's label")
    parser.add_argument("--seeds", default="", help="only these seeds, e.g. 101-120")
    args = parser.parse_args()
    report = compare(runs(args.without), runs(args.with_), args.timed, seed_set(args.seeds))
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
