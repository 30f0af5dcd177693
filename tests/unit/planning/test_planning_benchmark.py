"""Reading VRPTW files and solving one through doorstep's own API.

The few instances used here are copied into tests/data/vrptw so that a clone of the repository
alone passes; the full sets stay in ../shared/bench/vrptw for the benchmark scripts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from doorstep.entrypoints.cli_bench import bench_app
from doorstep.planning import check_plan
from doorstep.planning.benchmark import (
    best_known,
    dimacs_matrix,
    read_instance,
    run_doorstep,
    solution_text,
    to_problem,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "vrptw"


def test_solomon_c101_is_read_as_published() -> None:
    instance = read_instance(DATA / "solomon" / "C101.txt")
    assert instance.name == "C101"
    assert (instance.customers, instance.vehicles, instance.capacity) == (100, 25, 200)
    assert instance.coords[0].tolist() == [40, 50]
    assert instance.time_window[0].tolist() == [0, 1236]
    assert (instance.demand[1], instance.service[1]) == (10, 90)
    assert best_known("C101", DATA) == (827.3, "cvrplib_dimacs")
    assert best_known("R2_2_1", DATA) == (3468.0, "cvrplib_dimacs_int")


def test_homberger_crlf_file_is_read() -> None:
    instance = read_instance(DATA / "homberger" / "200" / "C1_2_1.txt")
    assert (instance.name, instance.customers, instance.vehicles) == ("C1_2_1", 200, 50)


def test_dimacs_distances_are_truncated_to_one_decimal() -> None:
    coords = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    matrix = dimacs_matrix(coords)
    assert matrix[0, 1] == 50  # 5.0 exactly
    assert matrix[0, 2] == 14  # 1.414… -> 1.4
    assert (matrix == matrix.T).all()


def test_c101_solved_quickly_is_feasible_and_close_to_best_known() -> None:
    result, plan = run_doorstep(DATA / "solomon" / "C101.txt", time_limit_s=1.5, seed=0)
    problem = to_problem(read_instance(DATA / "solomon" / "C101.txt"))
    assert check_plan(problem, plan) == []
    assert result["feasible"] is True
    assert result["bks"] == 827.3
    assert result["gap_pct"] is not None and result["gap_pct"] <= 1.0
    text = solution_text(plan)
    assert text.startswith("Route #1: ") and text.endswith(f"Cost {result['distance']:.1f}\n")


@pytest.mark.parametrize("command", ["vrptw", "vrptw-ortools"])
def test_cli_prints_one_json_line(command: str, tmp_path: Path) -> None:
    out = tmp_path / "c101.sol"
    args = [command, "--instance", str(DATA / "solomon" / "C101.txt"), "--time-limit", "0.5"]
    result = CliRunner().invoke(bench_app, [*args, "--solution-out", str(out)])
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip())
    assert set(line) >= {
        "instance",
        "vehicles",
        "distance",
        "feasible",
        "seconds",
        "bks",
        "gap_pct",
    }
    assert line["instance"] == "C101" and line["feasible"] is True
    assert out.read_text(encoding="utf-8").startswith("Route #1:")
