"""One VRPTW instance, doorstep vs OR-Tools in the same run: one JSON line with the ratio.

uv run python bench/vrptw.py --instance ../shared/bench/vrptw/solomon/C101.txt --time-limit 10 \
    [--data-dir ../shared/bench/vrptw]

The data folder (with bks.csv) defaults to the nearest one above the instance file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from doorstep.planning.benchmark import run_doorstep
from doorstep.planning.ortools_baseline import run_ortools


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None, help="folder of bks.csv")
    args = parser.parse_args()
    ours, _ = run_doorstep(args.instance, args.time_limit, args.seed, args.data_dir)
    base, _ = run_ortools(args.instance, args.time_limit, args.seed, args.data_dir)
    ratio = ours["distance"] / base["distance"] if base["feasible"] and base["distance"] else None
    print(
        json.dumps(
            {
                "figure": "vrptw_distance",
                "instance": ours["instance"],
                "time_limit_s": args.time_limit,
                "doorstep": ours,
                "ortools": base,
                "ratio_doorstep_over_ortools": None if ratio is None else round(ratio, 5),
            }
        )
    )


if __name__ == "__main__":
    main()
