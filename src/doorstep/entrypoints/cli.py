"""The ``doorstep`` command line: serve, migrate, seed, and the benchmarks."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from doorstep.config import Settings
from doorstep.entrypoints.cli_bench import bench_app
from doorstep.entrypoints.cli_simulate import register as register_simulate

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="doorstep: returns with door-to-door courier pickup.", no_args_is_help=True)
console = Console()

app.add_typer(bench_app, name="bench", help="Benchmarks (VRPTW quality, planning).")
register_simulate(app)


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision."""
    from doorstep.bootstrap import migrate as run

    settings = Settings()
    run(settings.database_url)
    console.print(f"[green]migrated[/green] {settings.database_url}")


@app.command()
def seed() -> None:
    """Load the demo data (idempotent)."""
    from doorstep.bootstrap import build, seed_demo

    counts = seed_demo(build(Settings()))
    console.print_json(json.dumps(counts))


@app.command()
def worker(
    every: int = typer.Option(60, min=5, help="Seconds between sweeps."),
    once: bool = typer.Option(False, help="Run one sweep and exit."),
) -> None:
    """Background work: re-plan routes from the current plans, retry pending refunds."""
    from doorstep.bootstrap import build
    from doorstep.entrypoints.worker import run_worker

    run_worker(build(Settings()), every_s=every, once=once, console=console)


@app.command()
def serve(
    demo: bool = typer.Option(False, help="Load the demo data before serving."),
    host: str | None = typer.Option(None, help="Bind address (default from DOORSTEP_HOST)."),
    port: int | None = typer.Option(None, help="Port (default from DOORSTEP_PORT, 8000)."),
    workers: int = typer.Option(
        1, min=1, max=64, help="API processes (uvicorn workers); each has its own DB pool."
    ),
    worker_every: int = typer.Option(
        120, min=0, help="Seconds between background re-plans in this process (0: off)."
    ),
) -> None:
    """Migrate, optionally seed, and serve the API and pages."""
    import uvicorn

    from doorstep.bootstrap import build, seed_demo
    from doorstep.entrypoints.api.app import create_app

    settings = Settings()
    wired = build(settings)
    if demo:
        with console.status("loading demo data"):
            counts = seed_demo(wired)
        console.print(f"[green]demo data[/green] {counts}")
    _check_connection_budget(wired.engine, settings, workers)
    if worker_every:
        from doorstep.entrypoints.worker import start_in_background

        # In this (parent) process only: one re-planner however many API processes serve.
        start_in_background(wired, worker_every)
    bind_host = host or settings.host
    bind_port = port or int(os.environ.get("DOORSTEP_PORT", settings.port))
    console.print(f"serving on http://{bind_host}:{bind_port}  (API docs at /docs)")
    if workers == 1:
        uvicorn.run(create_app(wired), host=bind_host, port=bind_port, log_level="info")
        return
    # Several processes need the app by import path; each wires itself from the environment.
    uvicorn.run(
        "doorstep.entrypoints.api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        log_level="info",
        # uvicorn kills a worker that does not answer its ping within this; importing the app
        # (numpy, PyVRP) on a busy 2-core machine takes longer than the default 5 s, and the
        # workers were killed and restarted over and over before serving a request.
        timeout_worker_healthcheck=60,
    )


def _check_connection_budget(engine: Engine, settings: Settings, workers: int) -> None:
    from doorstep.adapters.db.engine import connection_budget

    budget = connection_budget(engine)
    per_process = settings.db_pool_size + settings.db_max_overflow
    # With several workers the parent's re-planner holds one connection of its own.
    wanted = workers * per_process + (1 if workers > 1 else 0)
    if budget is not None and wanted > budget:
        console.print(
            f"[yellow]warning[/yellow]: {workers} workers x {per_process} pooled connections "
            f"(+ the re-planner) = {wanted} > the {budget} the server allows; lower "
            "DOORSTEP_DB_POOL_SIZE or raise max_connections"
        )


if __name__ == "__main__":  # pragma: no cover
    app()
