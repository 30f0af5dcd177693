"""Turn a `vrptw_suite.py` JSON-lines file into the Markdown table of docs/benchmarks.md.

uv run python bench/vrptw_table.py bench/results/solomon_10s.jsonl [--data-dir ../shared/bench/vrptw]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from doorstep.planning.benchmark import best_known, data_dir
from vrptw_suite import summarise


def fill_bks(result: dict[str, Any], data: Path) -> None:
    """Results written before the integer-only BKS fallback existed get it here."""
    if result.get("bks") is not None:
        return
    known = best_known(result["instance"], data)
    if known is not None:
        result["bks"], result["bks_source"] = known
        if result["feasible"]:
            result["gap_pct"] = round(100 * (result["distance"] - known[0]) / known[0], 3)


def cell(result: dict[str, Any]) -> str:
    if not result["feasible"]:
        return f"infeasible ({result['unserved']} unserved, {result['violations']} violations)"
    return f"{result['distance']:.1f} ({result['vehicles']} veh, {result['gap_pct']:+.2f}%)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path, nargs="+")
    parser.add_argument(
        "--data-dir", type=Path, default=data_dir(), help="folder of bks.csv (default: %(default)s)"
    )
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for path in args.results:
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if not r.get("summary")]
    for row in rows:
        for key in ("doorstep", "ortools"):
            if key in row:
                fill_bks(row[key], args.data_dir)
    print("| instance | BKS (DIMACS) | doorstep | OR-Tools | doorstep ≤ OR-Tools |")
    print("| --- | ---: | ---: | ---: | :---: |")
    for row in rows:
        ours, base = row["doorstep"], row.get("ortools")
        better = (
            "–"
            if base is None
            else "yes"
            if ours["feasible"] and (not base["feasible"] or ours["distance"] <= base["distance"])
            else "**no**"
        )
        bks = "–" if ours["bks"] is None else f"{ours['bks']:.1f}"
        if ours.get("bks_source") == "cvrplib_dimacs_int":
            bks += " (int)"
        print(
            f"| {row['instance']} | {bks} | {cell(ours)} | {cell(base) if base else '–'} | {better} |"
        )
    print()
    print("```json")
    print(json.dumps(summarise(rows)))
    print("```")


if __name__ == "__main__":
    main()
