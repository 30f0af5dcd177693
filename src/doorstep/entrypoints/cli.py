"""The ``doorstep`` command line: serve, migrate, seed, and the benchmarks."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from doorstep.config import Settings
from doorstep.entrypoints.cli_bench import bench_app
from doorstep.entrypoints.cli_sandbox import register as register_sandbox
from doorstep.entrypoints.cli_simulate import register as register_simulate

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="doorstep: returns with door-to-door courier pickup.", no_args_is_help=True)
console = Console()

app.add_typer(bench_app, name="bench", help="Benchmarks (VRPTW quality, planning).")
register_simulate(app)
register_sandbox(app)


def refuse(code: str, en: str, zh: str) -> NoReturn:
    """Stop with exit status 2 and the refusal's stable code, in English and Chinese."""
    # Unwrapped: a refusal is read in logs and grepped for its code as often as on a screen.
    console.print(
        f"[red]refused ({code}):[/red] {en}\n[red]拒绝（{code}）：[/red]{zh}", soft_wrap=True
    )
    raise typer.Exit(2)


def _settings() -> Settings:
    """The settings, or a readable refusal (e.g. no secret outside development)."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        refuse("settings_invalid", problems, f"配置无效：{problems}")
    from doorstep.bootstrap import configure_logging

    configure_logging(settings)
    return settings


def _require_development(settings: Settings, what: str) -> None:
    if settings.env != "development":
        refuse(
            "development_only",
            f"{what} needs DOORSTEP_ENV=development (now {settings.env}): "
            "the demo accounts have published passwords.",
            f"{what} 仅限 DOORSTEP_ENV=development（当前为 {settings.env}）：演示账户的密码是公开的。",
        )


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?")


def _is_address(host: str) -> bool:
    """An IP address or a host name (RFC 1123 labels, at most 253 characters)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_bind(settings: Settings, host: str) -> None:
    """Refuse to expose a server that signs tokens with the public development secret."""
    if not _is_address(host):
        refuse(
            "bind_host_invalid",
            f"bind address {host[:80]!r} is neither an IP address nor a host name.",
            f"监听地址 {host[:80]!r} 既不是 IP 地址，也不是主机名。",
        )
    if not settings.uses_dev_secret:
        return
    if not _is_loopback(host):
        refuse(
            "dev_secret_public_bind",
            f"binding {host} with the development secret: anyone could forge tokens. "
            "Set DOORSTEP_SECRET_KEY, or bind 127.0.0.1.",
            f"使用开发密钥时不能监听 {host}：任何人都能伪造令牌。请设置 DOORSTEP_SECRET_KEY，"
            "或监听 127.0.0.1。",
        )
    console.print(
        "[bold yellow]WARNING: development mode. Tokens are signed with the public "
        "development secret; serving on loopback only.[/bold yellow]"
    )


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest revision (and, on PostgreSQL, create the job
    queue's tables when they are missing)."""
    from doorstep.bootstrap import migrate as run

    settings = _settings()
    run(settings.database_url)
    from doorstep.entrypoints.queue import ensure_schema, is_postgres

    if is_postgres(settings.database_url) and ensure_schema(settings.database_url):
        console.print("[green]job queue tables created[/green]")
    console.print(f"[green]migrated[/green] {settings.database_url}")


@app.command()
def seed() -> None:
    """Load the demo data (idempotent; development only)."""
    from doorstep.bootstrap import build, seed_demo

    settings = _settings()
    _require_development(settings, "seed")
    counts = seed_demo(build(settings))
    console.print_json(json.dumps(counts))


@app.command()
def worker(
    every: int = typer.Option(
        60, min=1, max=86_400, help="Seconds between sweeps (periodic jobs)."
    ),
    once: bool = typer.Option(False, help="Run every job once in this process and exit."),
    concurrency: int = typer.Option(
        1, min=1, max=64, help="Worker processes taking jobs from the PostgreSQL queue."
    ),
    metrics_port: int = typer.Option(
        0, min=0, max=65535, help="Serve Prometheus metrics on this port (0: off)."
    ),
) -> None:
    """Background work: re-plan every busy carrier-day, retry and push refunds, and every
    other sweep. On PostgreSQL the jobs come from the shared queue (run as many workers as
    you like, anywhere); on SQLite, or with --once, they run in this process."""
    if concurrency > 1 and metrics_port and not once:
        # First, before the settings (bootstrap imports prometheus-client, which reads the
        # directory once): the children's samples go to files the parent sums.
        from doorstep.adapters.observability.multiproc import share_metrics_between_processes

        share_metrics_between_processes()
    settings = _settings()
    from doorstep.entrypoints.queue import is_postgres

    queued = is_postgres(settings.database_url) and not once
    if metrics_port:
        from doorstep.adapters.observability.metrics import serve_metrics

        serve_metrics(settings.host, metrics_port)
    if queued:
        from doorstep.bootstrap import migrate as run_migrations
        from doorstep.entrypoints.queue import run_workers

        run_migrations(settings.database_url)
        run_workers(settings, every, concurrency)
        return
    from doorstep.bootstrap import build
    from doorstep.entrypoints.worker import run_worker

    if concurrency > 1:
        console.print("[yellow]SQLite: one in-process worker (--concurrency needs PostgreSQL)")
    run_worker(build(settings), every_s=every, once=once, console=console)


@app.command()
def serve(
    demo: bool = typer.Option(False, help="Load the demo data before serving."),
    host: str | None = typer.Option(None, help="Bind address (default from DOORSTEP_HOST)."),
    port: int | None = typer.Option(
        None, min=1, max=65_535, help="Port (default from DOORSTEP_PORT, 8000)."
    ),
    workers: int = typer.Option(
        1, min=1, max=64, help="API processes (uvicorn workers); each has its own DB pool."
    ),
    worker_every: int | None = typer.Option(
        None,
        min=0,
        max=86_400,
        help="Seconds between background sweeps in this process (0: off). Default: 120 on "
        "SQLite; off on PostgreSQL, where `doorstep worker` takes the jobs from the queue.",
    ),
) -> None:
    """Migrate, optionally seed, and serve the API and pages."""
    if workers > 1:
        # First: prometheus-client reads the directory when it is imported (by bootstrap).
        from doorstep.adapters.observability.multiproc import share_metrics_between_processes

        share_metrics_between_processes()
    import uvicorn

    from doorstep.bootstrap import build, seed_demo
    from doorstep.entrypoints.api.app import create_app

    settings = _settings()
    bind_host = host or settings.host
    _check_bind(settings, bind_host)
    if demo:
        _require_development(settings, "serve --demo")
    bind_port = port or int(os.environ.get("DOORSTEP_PORT", settings.port))
    if demo:
        from doorstep.entrypoints.cli_sandbox import start_beside

        # The sandbox courier company serves one demo district beside doorstep.
        settings = start_beside(settings, f"http://{bind_host}:{bind_port}")
        os.environ["DOORSTEP_CARRIER_GATEWAYS"] = json.dumps(
            {k: g.model_dump() for k, g in settings.carrier_gateways.items()}
        )
        os.environ["DOORSTEP_PUBLIC_URL"] = settings.public_url
    wired = build(settings)
    if demo:
        with console.status("loading demo data"):
            counts = seed_demo(wired)
        console.print(f"[green]demo data[/green] {counts}")
        from doorstep.adapters.demo.history import start_in_background as seed_past

        # Thirty past days for the console's trends, replayed beside the server.
        seed_past(wired.services, wired.offering, wired.engine, console.print)
    _check_connection_budget(wired.engine, settings, workers)
    _check_shared_limits(settings, workers)
    if worker_every is None:
        from doorstep.entrypoints.queue import is_postgres

        worker_every = 0 if is_postgres(settings.database_url) else 120
        if not worker_every:
            console.print("background jobs: run `doorstep worker` (PostgreSQL job queue)")
    if worker_every:
        from doorstep.entrypoints.worker import start_in_background

        # In this (parent) process only: one re-planner however many API processes serve.
        start_in_background(wired, worker_every)
    _banner(f"http://{bind_host}:{bind_port}", demo)
    if workers == 1:
        uvicorn.run(create_app(wired), host=bind_host, port=bind_port, **_UVICORN_LOGS)
        return
    # Several processes need the app by import path; each wires itself from the environment.
    uvicorn.run(
        "doorstep.entrypoints.api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        **_UVICORN_LOGS,
        # uvicorn kills a worker that does not answer its ping within this; importing the app
        # (numpy, PyVRP) on a busy 2-core machine takes longer than the default 5 s, and the
        # workers were killed and restarted over and over before serving a request.
        timeout_worker_healthcheck=60,
    )


# Where each person starts; the README's "The pages" says what to try on each.
_PAGES = (
    ("/login", "sign in (password demo-<username>)"),
    ("/", "buyer portal: buyer1 … buyer6"),
    ("/courier", "courier page: courier1 … courier8"),
    ("/warehouse", "warehouse: warehouse1"),
    ("/station", "drop-off station: station1"),
    ("/console", "ops console: ops1"),
    ("/partner", "partner page: partner1"),
    ("/docs", "API docs (offline)"),
)


def _banner(base: str, demo: bool) -> None:
    """Say where to go: the pages and, with demo data, the accounts for each."""
    console.print(f"serving on {base}")
    for path, what in _PAGES:
        console.print(f"  {base}{path:<11} {what if demo else what.split(':')[0]}")


# uvicorn leaves logging as configured (structlog, one format for every logger) and writes no
# access log of its own: the app logs each request with its id (entrypoints/api/observe.py).
_UVICORN_LOGS: dict[str, Any] = {"log_config": None, "log_level": "info", "access_log": False}


def _check_shared_limits(settings: Settings, workers: int) -> None:
    """Several processes counting attempts in their own memory would multiply every limit."""
    if workers == 1 or not settings.rate_limit_storage.startswith("memory://"):
        return
    message = (
        f"{workers} workers would each count sign-in and pickup-code attempts in their own "
        "memory, multiplying every limit; set DOORSTEP_RATE_LIMIT_STORAGE=redis://host:port/db"
    )
    if settings.env == "production":
        refuse(
            "shared_limits_needed",
            message,
            f"{workers} 个进程会各自在内存中计数登录和取件码尝试，使每个限额成倍放宽；"
            "请设置 DOORSTEP_RATE_LIMIT_STORAGE=redis://host:port/db",
        )
    console.print(f"[bold yellow]WARNING:[/bold yellow] {message}")


def _check_connection_budget(engine: Engine, settings: Settings, workers: int) -> None:
    from doorstep.adapters.db.engine import connection_budget

    budget = connection_budget(engine)
    per_process = settings.db_pool_size + settings.db_max_overflow
    if settings.rate_limit_storage == "database://":
        from doorstep.bootstrap import THROTTLE_POOL_SIZE

        per_process += THROTTLE_POOL_SIZE  # the attempt limits' own pool (bootstrap)
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
