"""The in-process worker: the timer that calls the background use cases."""

from __future__ import annotations

import threading
import time

import structlog
from rich.console import Console

from doorstep.adapters.observability.metrics import WORKER_SWEEP_SECONDS
from doorstep.bootstrap import App
from doorstep.domain.errors import DomainError
from doorstep.services import refund_timing, refunds, routing

log = structlog.get_logger("doorstep.worker")


def sweep(app: App) -> dict[str, int]:
    """One pass: re-plan every area-day with open visits, retry refunds the provider left,
    then push refunds past their due time (pay what can be paid, escalate the rest)."""
    reports = routing.replan_all(app.services)
    paid = refunds.retry_pending_refunds(app.services)
    overdue = refund_timing.push_overdue_refunds(app.services)
    return {
        "plans": len(reports),
        "unserved": sum(len(r.unserved) for r in reports),
        "refunds_retried": len(paid),
        "refunds_overdue": overdue.overdue,
        "overdue_paid": overdue.paid,
        "overdue_escalated": overdue.escalated,
    }


def run_worker(app: App, *, every_s: int, once: bool, console: Console | None = None) -> None:
    """Sweep now and then every ``every_s`` seconds (or once)."""
    while True:
        started = time.monotonic()
        try:
            result = sweep(app)
            seconds = time.monotonic() - started
            WORKER_SWEEP_SECONDS.labels("ok").observe(seconds)
            log.info("worker_sweep", **result, seconds=round(seconds, 2))
            if console is not None:
                console.print(f"sweep: {result}")
        except DomainError as exc:  # a bad area must not stop the other areas next time
            WORKER_SWEEP_SECONDS.labels("failed").observe(time.monotonic() - started)
            log.warning("worker_sweep_failed", code=exc.code)
        except Exception:
            # Still ends the loop (as before); counted and logged so that operators see it.
            WORKER_SWEEP_SECONDS.labels("failed").observe(time.monotonic() - started)
            log.exception("worker_sweep_crashed")
            raise
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
