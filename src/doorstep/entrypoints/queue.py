"""Background jobs on PostgreSQL (procrastinate): what ``doorstep worker`` runs when scaled out.

The jobs are those of ``entrypoints.jobs``; this module only puts them on a queue that several
worker processes on several machines share, with no broker besides the database:

- ``replan_fan_out`` (periodic) lists the busy carrier-days and queues one ``plan_carrier_day``
  job for each, so a city's carriers are planned by every worker at once. A day's job carries
  a queueing lock (the day is queued at most once) and a lock (planned by one worker at a time).
- each entry of ``jobs.SWEEPS`` is a periodic job of its own with a queueing lock and a lock
  named after it: however many workers run, one of each is queued and one runs at a time.
  procrastinate also defers each periodic tick once (a unique row per task and tick).
- ``queue_watch`` (periodic) puts the jobs of workers that stopped sending heartbeats (killed,
  machine lost) back in the queue, reads the queue depth into the metrics and deletes finished
  jobs after ``queue_keep_hours``.

A job killed half-way is run again from the start; ``entrypoints.jobs`` says why that is safe.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

import procrastinate
import psycopg
import structlog
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from doorstep.adapters.observability.metrics import QUEUE_JOBS, QUEUE_OLDEST_SECONDS
from doorstep.bootstrap import App
from doorstep.config import Settings
from doorstep.entrypoints import jobs

log = structlog.get_logger("doorstep.queue")
_T = TypeVar("_T")

QUEUE = "doorstep"
# A failing job (not a killed one: those come back through queue_watch) is tried this often.
RETRY = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)
_DEPTH_SQL = """
SELECT j.status::text AS status, count(*) AS jobs,
       coalesce(extract(epoch FROM now() - min(e.at)), 0) AS oldest_s
  FROM procrastinate_jobs j
  LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
 WHERE j.status IN ('todo', 'doing')
 GROUP BY j.status
"""


def is_postgres(database_url: str) -> bool:
    """Whether the queue can run on this database (SQLite runs the jobs in-process)."""
    return make_url(database_url).get_backend_name() == "postgresql"


# As the app's pool waits for a server that does not answer (Settings.db_connect_timeout_s).
QUEUE_CONNECT_TIMEOUT_S = 5


def conninfo(database_url: str) -> str:
    """The libpq form of a SQLAlchemy URL (``postgresql+psycopg://`` has a driver suffix)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def ensure_schema(database_url: str) -> bool:
    """Create procrastinate's tables when they are missing; True when it did. Processes that
    start at once take an advisory lock, so one of them creates and the rest find it done."""
    with psycopg.connect(
        conninfo(database_url), autocommit=False, connect_timeout=QUEUE_CONNECT_TIMEOUT_S
    ) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('doorstep.queue.schema'))")
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is not None and found[0] is not None:
            return False
        conn.execute(SchemaManager.get_schema())
        conn.commit()
    log.info("queue_schema_created")
    return True


def cron_every(seconds: int) -> str:
    """A cron line for 'every ``seconds``': a seconds column under a minute, whole minutes
    (rounded down, at least one) from there on."""
    if seconds < 60:  # procrastinate's (croniter's) seconds column is the sixth, the last
        return f"* * * * * */{max(1, seconds)}"
    return f"*/{max(1, seconds // 60)} * * * *"


def build_queue(
    database_url: str, settings: Settings, every_s: int, *, periodic: bool = True
) -> procrastinate.App:
    """The procrastinate app with every doorstep job registered, the periodic ones deferred
    every ``every_s`` seconds (unless ``periodic`` is off: tests defer them by hand). Jobs
    find the wired doorstep ``App`` in their context."""
    queue = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(database_url),
            min_size=1,
            max_size=4,
            kwargs={"connect_timeout": settings.db_connect_timeout_s},
        )
    )
    cron = cron_every(every_s) if periodic else None

    @queue.task(name=jobs.PLAN_JOB, queue=QUEUE, pass_context=True, retry=RETRY)
    def plan_carrier_day(context: procrastinate.JobContext, carrier_id: str, day: str) -> None:
        jobs.run_job(jobs.PLAN_JOB, jobs.plan_carrier_day, _app(context), carrier_id, day)

    @_every(queue, cron)
    @queue.task(
        name="replan_fan_out",
        queue=QUEUE,
        pass_context=True,
        queueing_lock="replan_fan_out",
        lock="replan_fan_out",
    )
    async def replan_fan_out(context: procrastinate.JobContext, timestamp: int) -> None:
        days = await asyncio.to_thread(jobs.carrier_days, _app(context))
        queued = 0
        for carrier_id, day in days:
            key = f"plan:{carrier_id}:{day}"
            try:
                await plan_carrier_day.configure(lock=key, queueing_lock=key).defer_async(
                    carrier_id=carrier_id, day=day
                )
                queued += 1
            except AlreadyEnqueued:
                pass  # still waiting from an earlier tick: it will plan the latest state
        log.info("replan_fanned_out", carrier_days=len(days), queued=queued)

    for name, sweep in jobs.SWEEPS.items():
        _register_sweep(queue, cron, name, sweep)

    @_every(queue, cron)
    @queue.task(
        name="queue_watch",
        queue=QUEUE,
        pass_context=True,
        queueing_lock="queue_watch",
        lock="queue_watch",
    )
    async def queue_watch(context: procrastinate.JobContext, timestamp: int) -> None:
        manager = context.app.job_manager
        stalled = await manager.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=settings.queue_stalled_after_s
        )
        for job in stalled:
            if job.id != context.job.id:
                await _requeue(manager, job)
        rows = await context.app.connector.execute_query_all_async(_DEPTH_SQL)
        seen = {row["status"]: row for row in rows}
        for status in ("todo", "doing"):
            row = seen.get(status)
            QUEUE_JOBS.labels(status).set(row["jobs"] if row else 0)
            QUEUE_OLDEST_SECONDS.labels(status).set(float(row["oldest_s"]) if row else 0.0)
        await manager.delete_old_jobs(nb_hours=settings.queue_keep_hours, queue=QUEUE)

    return queue


async def _requeue(manager: JobManager, job: Job) -> None:
    """Put a dead worker's job back in the queue. A later tick may have queued the same work
    under the same queueing lock meanwhile: that copy is withdrawn and the old job, started
    once already, runs instead (the same arguments, so the same effect, once)."""
    for _ in range(3):
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            assert job.queueing_lock is not None
            for twin in await manager.list_jobs_async(
                queue=QUEUE, status="todo", queueing_lock=job.queueing_lock
            ):
                assert twin.id is not None
                await manager.cancel_job_by_id_async(twin.id, delete_job=True)
            continue
        log.warning("job_stalled_requeued", job_id=job.id, task=job.task_name)
        return
    log.warning("job_stalled_requeue_later", job_id=job.id, task=job.task_name)


def _register_sweep(
    queue: procrastinate.App, cron: str | None, name: str, sweep: jobs.Sweep
) -> None:
    def run(context: procrastinate.JobContext, timestamp: int) -> None:
        jobs.run_job(name, sweep, _app(context))

    task = queue.task(
        name=name, queue=QUEUE, pass_context=True, queueing_lock=name, lock=name, retry=RETRY
    )(run)
    _every(queue, cron)(task)


def _every(queue: procrastinate.App, cron: str | None) -> Callable[[_T], _T]:
    """``queue.periodic(cron=...)``, or leave the task as it is when ``cron`` is None."""

    def mark(task: _T) -> _T:
        if cron is not None:
            queue.periodic(cron=cron)(task)  # type: ignore[arg-type]
        return task

    return mark


def _app(context: procrastinate.JobContext) -> App:
    app: App = context.additional_context["doorstep"]
    return app


def run_one(
    settings: Settings,
    every_s: int,
    *,
    app: App | None = None,
    wait: bool = True,
    periodic: bool = True,
) -> None:
    """One worker process: take jobs until stopped (SIGTERM/SIGINT end it after the running
    job). Tests pass their own wired ``app``, ``wait=False`` (return once the queue is
    empty) and ``periodic=False`` (defer by hand)."""
    from doorstep.bootstrap import build

    wired = app or build(settings, run_migrations=False)
    queue = build_queue(settings.database_url, settings, every_s, periodic=periodic)
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "name": f"doorstep-{os.getpid()}",
        "concurrency": 1,
        "wait": wait,
        "additional_context": {"doorstep": wired},
        "update_heartbeat_interval": settings.queue_heartbeat_s,
        "stalled_worker_timeout": settings.queue_stalled_after_s,
        "fetch_job_polling_interval": 1.0,
        "shutdown_graceful_timeout": settings.queue_shutdown_s,
        "install_signal_handlers": wait,
    }
    try:
        queue.run_worker(**options)
    finally:
        if app is None:
            wired.engine.dispose()


def run_workers(settings: Settings, every_s: int, concurrency: int) -> None:
    """``concurrency`` worker processes (planning is CPU work that holds the interpreter lock,
    so parallel jobs need processes, not threads). The parent only starts them, passes
    SIGTERM/SIGINT on, and ends when they all have."""
    ensure_schema(settings.database_url)
    if concurrency == 1:
        run_one(settings, every_s)
        return
    ctx = multiprocessing.get_context("spawn")
    children = [
        ctx.Process(target=_child, args=(settings, every_s), name=f"doorstep-worker-{n}")
        for n in range(concurrency)
    ]
    for child in children:
        child.start()

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while any(child.is_alive() for child in children):
        time.sleep(0.5)
    failed = [c.exitcode for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    log.info("workers_stopped", exit_codes=[c.exitcode for c in children])
    if failed:
        raise SystemExit(1)


def _child(settings: Settings, every_s: int) -> None:
    from doorstep.bootstrap import configure_logging

    configure_logging(settings)
    run_one(settings, every_s)
