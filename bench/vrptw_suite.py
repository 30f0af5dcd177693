"""A whole VRPTW set, doorstep and OR-Tools per instance, JSON lines plus a summary line.

    nohup uv run python bench/vrptw_suite.py --set solomon --time-limit 10 \
        [--data-dir ../shared/bench/vrptw] --out bench/results/solomon_10s.jsonl > /dev/null 2>&1 &

Each line is written and flushed as soon as its instance is done, so a long run can be
watched (`tail -f`) and an interrupted one still leaves its finished instances.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any, TextIO

from doorstep.planning.benchmark import data_dir, run_doorstep
from doorstep.planning.ortools_baseline import run_ortools

SETS = {"solomon": "solomon", "homberger200": "homberger/200"}


def instances(data: Path, set_name: str, only: list[str] | None) -> list[Path]:
    folder = data / SETS[set_name]
    found = sorted(folder.glob("*.txt"), key=lambda p: p.stem)
    if only:
        wanted = {name.upper() for name in only}
        found = [p for p in found if p.stem.upper() in wanted]
    return found


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ours = [r["doorstep"] for r in rows]
    base = [r["ortools"] for r in rows if "ortools" in r]
    both = [r for r in rows if "ortools" in r]

    def mean_gap(results: list[dict[str, Any]]) -> float | None:
        gaps = [r["gap_pct"] for r in results if r["gap_pct"] is not None]
        return round(statistics.fmean(gaps), 3) if gaps and len(gaps) == len(results) else None

    at_or_below = sum(
        1
        for r in both
        if r["doorstep"]["feasible"]
        and (not r["ortools"]["feasible"] or r["doorstep"]["distance"] <= r["ortools"]["distance"])
    )
    return {
        "summary": True,
        "instances": len(rows),
        "doorstep_mean_gap_pct": mean_gap(ours),
        "ortools_mean_gap_pct": mean_gap(base),
        "doorstep_all_feasible": all(r["feasible"] for r in ours),
        "ortools_feasible": sum(1 for r in base if r["feasible"]),
        "doorstep_at_or_below_ortools": at_or_below,
        "compared": len(both),
        "doorstep_worst_gap_pct": max((r["gap_pct"] or 0.0 for r in ours), default=None),
    }


def emit(line: dict[str, Any], sinks: list[TextIO]) -> None:
    text = json.dumps(line)
    for sink in sinks:
        print(text, file=sink, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=sorted(SETS), required=True, dest="set_name")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=data_dir(),
        help="VRPTW folder with solomon/, homberger/200/ and bks.csv (default: %(default)s)",
    )
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated instance names (default: all)")
    parser.add_argument("--no-ortools", action="store_true", help="skip the baseline")
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    sinks: list[TextIO] = [sys.stdout]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        sinks.append(args.out.open("a", encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    for path in instances(args.data_dir, args.set_name, only):
        row: dict[str, Any] = {"instance": path.stem.upper(), "time_limit_s": args.time_limit}
        row["doorstep"], _ = run_doorstep(path, args.time_limit, args.seed, args.data_dir)
        if not args.no_ortools:
            row["ortools"], _ = run_ortools(path, args.time_limit, args.seed, args.data_dir)
        rows.append(row)
        emit(row, sinks)
    emit({"set": args.set_name, "time_limit_s": args.time_limit, **summarise(rows)}, sinks)


if __name__ == "__main__":
    main()
