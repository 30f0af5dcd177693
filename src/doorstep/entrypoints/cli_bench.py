"""`doorstep bench ...`: routing benchmarks on public VRPTW instances, one JSON line each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from doorstep.planning.benchmark import run_doorstep, solution_text
from doorstep.planning.plan import Plan

bench_app = typer.Typer(help="Benchmarks: solver quality against best-known solutions.")

InstanceOpt = Annotated[
    Path,
    typer.Option("--instance", exists=True, dir_okay=False, help="Solomon or VRPLIB file."),
]
TimeLimitOpt = Annotated[float, typer.Option("--time-limit", min=0.01, max=86_400, help="Seconds.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, max=2**31 - 1)]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        file_okay=False,
        help="Folder with bks.csv (default: the nearest one above the instance).",
    ),
]
SolutionOpt = Annotated[
    Path | None, typer.Option("--solution-out", dir_okay=False, help="VRPLIB .sol to write.")
]


def _emit(result: dict[str, Any], plan: Plan, solution_out: Path | None) -> None:
    if solution_out is not None:
        solution_out.write_text(solution_text(plan), encoding="utf-8")
    typer.echo(json.dumps(result))


@bench_app.command("vrptw")
def vrptw(
    instance: InstanceOpt,
    time_limit: TimeLimitOpt = 10.0,
    seed: SeedOpt = 0,
    solution_out: SolutionOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Solve one VRPTW instance with doorstep's planner (DIMACS convention)."""
    result, plan = run_doorstep(instance, time_limit, seed, data_dir)
    _emit(result, plan, solution_out)


@bench_app.command("vrptw-ortools")
def vrptw_ortools(
    instance: InstanceOpt,
    time_limit: TimeLimitOpt = 10.0,
    seed: SeedOpt = 0,
    solution_out: SolutionOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Solve the same instance with OR-Tools (dev dependency), the baseline."""
    try:
        from doorstep.planning.ortools_baseline import run_ortools
    except ImportError as exc:  # pragma: no cover - depends on the environment
        typer.echo(f"OR-Tools is not installed (uv sync --group dev): {exc}", err=True)
        raise typer.Exit(2) from exc
    result, plan = run_ortools(instance, time_limit, seed, data_dir)
    _emit(result, plan, solution_out)
