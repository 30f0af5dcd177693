"""Turn a `vrptw_suite.py` JSON-lines file into the Markdown table of docs/benchmarks.md.

uv run python bench/vrptw_table.py bench/results/solomon_10s.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cell(result: dict[str, Any]) -> str:
    if not result["feasible"]:
        return f"infeasible ({result['unserved']} unserved, {result['violations']} violations)"
    return f"{result['distance']:.1f} ({result['vehicles']} veh, {result['gap_pct']:+.2f}%)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.results.read_text(encoding="utf-8").splitlines()]
    print("| instance | BKS (DIMACS) | doorstep | OR-Tools | doorstep ≤ OR-Tools |")
    print("| --- | ---: | ---: | ---: | :---: |")
    for row in rows:
        if row.get("summary"):
            continue
        ours, base = row["doorstep"], row.get("ortools")
        better = (
            "–"
            if base is None
            else "yes"
            if ours["feasible"] and (not base["feasible"] or ours["distance"] <= base["distance"])
            else "**no**"
        )
        bks = "–" if ours["bks"] is None else f"{ours['bks']:.1f}"
        print(
            f"| {row['instance']} | {bks} | {cell(ours)} | {cell(base) if base else '–'} | {better} |"
        )
    summary = next((r for r in rows if r.get("summary")), None)
    if summary is not None:
        print()
        print("```json")
        print(json.dumps(summary))
        print("```")


if __name__ == "__main__":
    main()
