"""The in-process worker: every job of ``entrypoints.jobs`` run by a timer in this process.

This is the embedded (SQLite) deployment and ``serve``'s default: one process, no queue. Scaled
out on PostgreSQL, ``doorstep worker`` runs the same jobs from the queue instead
(``entrypoints.queue``) and ``serve --worker-every 0`` leaves background work to it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import structlog
from rich.console import Console

from doorstep.adapters.observability.metrics import WORKER_SWEEP_SECONDS
from doorstep.bootstrap import App
from doorstep.entrypoints import jobs

log = structlog.get_logger("doorstep.worker")


def sweep(app: App) -> dict[str, int]:
    """One pass of every job: re-plan each busy carrier-day, then the periodic sweeps
    (``jobs.SWEEPS``: refund retries, overdue refunds, ...). A job that fails is logged and
    counted in ``failed``; the others still run (a bad carrier-day must not stop refunds)."""
    totals: Counter[str] = Counter({"plans": 0, "unserved": 0, "failed": 0})
    try:
        days = jobs.carrier_days(app)
    except Exception:
        log.exception("job_failed", job="replan_fan_out")
        days = []
        totals["failed"] += 1
    work: list[tuple[str, Callable[..., dict[str, int]], tuple[str, ...]]] = [
        (jobs.PLAN_JOB, jobs.plan_carrier_day, day) for day in days
    ]
    work += [(name, job, ()) for name, job in jobs.SWEEPS.items()]
    for name, job, args in work:
        try:
            totals.update(jobs.run_job(name, job, app, *args))
        except Exception:
            log.exception("job_failed", job=name, args=list(args))
            totals["failed"] += 1
    return dict(totals)


def run_worker(app: App, *, every_s: int, once: bool, console: Console | None = None) -> None:
    """Sweep now and then every ``every_s`` seconds (or once)."""
    while True:
        started = time.monotonic()
        result = sweep(app)
        seconds = time.monotonic() - started
        outcome = "failed" if result["failed"] else "ok"
        WORKER_SWEEP_SECONDS.labels(outcome).observe(seconds)
        log.info("worker_sweep", **result, outcome=outcome, seconds=round(seconds, 2))
        if console is not None:
            console.print(f"sweep: {result}")
        if once:
            return
        time.sleep(max(0.0, every_s - (time.monotonic() - started)))


def start_in_background(app: App, every_s: int) -> threading.Thread:
    """The default deployment: the worker runs as a daemon thread of the web process."""
    thread = threading.Thread(
        target=run_worker,
        args=(app,),
        kwargs={"every_s": every_s, "once": False},
        name="doorstep-worker",
        daemon=True,
    )
    thread.start()
    return thread
