"""``doorstep simulate``: a synthetic Shanghai week through the real services, per policy."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from doorstep.simulation.params import DEFAULT_DISTRICTS, POLICIES

console = Console(stderr=True)

_SHOWN = (
    "accepted_share",
    "first_choice_share",
    "inside_window_share",
    "first_attempt_success",
    "km_per_pickup",
    "pickups_per_courier_hour",
    "request_to_pickup_minutes_median",
)


@contextmanager
def _progress_bar(err: Console) -> Iterator[Callable[[str, int, int], None]]:
    """Progress on stderr only (stdout stays pure JSON): a live bar on a terminal, and one
    plain line per step when stderr is a file or pipe, where a live bar would print nothing
    until the end."""
    if not err.is_terminal:
        started = time.monotonic()

        def line(label: str, done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            print(f"[{elapsed:6.1f}s] {label}: {done}/{total}", file=sys.stderr, flush=True)

        yield line
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done)

        yield update


def simulate(
    days: int = typer.Option(7, help="Simulated days with demand."),
    seed: int = typer.Option(1, help="Seed: same seed, same report."),
    policy: str = typer.Option("planned", help=" | ".join(POLICIES)),
    compare: bool = typer.Option(False, "--compare", help="Run every policy on the same demand."),
    requests_per_day: int | None = typer.Option(
        None, help="Default: about what couriers can serve."
    ),
    districts: str = typer.Option(",".join(DEFAULT_DISTRICTS), help="Comma-separated adcodes."),
    incentive_take_share: float = typer.Option(0.4, help="Buyers who follow a coupon window."),
    not_home_share: float = typer.Option(0.05, help="Buyers not in when the courier rings."),
    wanted_share: float = typer.Option(
        1.0, help="Buyers who say when suits them, where the offering asks (wanted_saving_s)."
    ),
    wanted_noise_h: float = typer.Option(
        0.0, help="How far off, in hours (sd), the time a buyer states is from their ideal."
    ),
    replan_every_min: int = typer.Option(
        0, help="Plan every busy carrier-day again this often, as the worker does (0: 06:00 only)."
    ),
    route_capacity: int | None = typer.Option(
        None, help="Capacity per window for the route-aware policies (default: the template's)."
    ),
    replan_today: str = typer.Option(
        "needed",
        help="Which of today's routes those re-plans take: needed (as the worker: before "
        "shifts begin, then only a day with a visit off every route) | always | never.",
    ),
    courier_leaves_at: str | None = typer.Option(
        None,
        help="HH:MM on the first day: the courier with the most visits leaves the fleet "
        "(account deleted); their visits go back to the pool.",
    ),
    out: Path = typer.Option(Path("var/sim"), help="Where the plots go."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    plots: bool = typer.Option(True, help="Write PNG plots into --out."),
) -> None:
    """Simulate courier pickup under slot-offering policies and report the KPIs."""
    from doorstep.simulation.params import SimParams

    if not compare and policy not in POLICIES:
        raise typer.BadParameter(f"policy must be one of {', '.join(POLICIES)}")
    try:
        params = SimParams(
            days=days,
            seed=seed,
            requests_per_day=requests_per_day,
            districts=tuple(d.strip() for d in districts.split(",") if d.strip()),
            incentive_take_share=incentive_take_share,
            not_home_share=not_home_share,
            wanted_share=wanted_share,
            wanted_noise_h=wanted_noise_h,
            replan_every_min=replan_every_min,
            route_capacity=route_capacity,
            replan_today=replan_today,
            courier_leaves_at=courier_leaves_at,
        )
        from doorstep.simulation.world import plan_city

        plan_city(params)  # a district without a demo area or couriers is a usage error
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    chosen = POLICIES if compare else (policy,)
    # Whatever a library prints while the simulation runs (Babel warns about catalogues with
    # print) goes to stderr: stdout carries the JSON and nothing else.
    with redirect_stdout(sys.stderr), _progress_bar(console) as progress:
        progress("loading the planner", 0, 1)  # the solver's import alone takes a second
        from doorstep.simulation.compare import simulate as run
        from doorstep.simulation.plots import write_plots

        progress("loading the planner", 1, 1)
        report = run(params, chosen, progress)
    if plots:
        written = write_plots(report, out)
        console.print(f"plots: {', '.join(str(p) for p in written)}")
    if as_json:
        typer.echo(json.dumps(report, sort_keys=True))
        return
    table = Table(title=f"{days} simulated days, seed {seed}")
    table.add_column("KPI")
    results = report["policies"]
    assert isinstance(results, dict)
    for name in results:
        table.add_column(name, justify="right")
    for key in _SHOWN:
        table.add_row(key, *(str(r[key]) for r in results.values()))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the main command line."""
    app.command("simulate")(simulate)
