"""Background work as jobs: one plain function per kind of work, whoever runs it.

The same functions run in-process (``worker.sweep``, the SQLite default) and on worker
processes fed by the PostgreSQL queue (``entrypoints.queue``). Each takes the wired ``App`` and
plain string arguments (the queue stores them as JSON) and returns counts for the log.

Every job may run twice and may be killed half-way, because each commits its work in whole
transactions and the services re-check state before acting: a re-plan rewrites a carrier-day's
routes from what is stored (under the routes' locks and versions), a pending refund is paid
again under the same idempotency key, an express refund is decided under the return's lock
only if it was not decided already, an overdue refund is escalated under the return's lock
only if it was not escalated already.

To add background work, write it as a service function and add one entry to ``SWEEPS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import structlog

from doorstep.adapters.observability.metrics import JOB_SECONDS
from doorstep.bootstrap import App
from doorstep.planning import SolveParams
from doorstep.services import (
    after_sales_jobs,
    claims,
    contactless,
    identity,
    outbox,
    refund_timing,
    refunds,
    retention,
    routing,
    transfers,
)
from doorstep.services.carrier_polling import poll_quiet_orders
from doorstep.services.route import Contention

log = structlog.get_logger("doorstep.jobs")

Sweep = Callable[[App], dict[str, int]]
PLAN_JOB = "plan_carrier_day"


def carrier_days(app: App) -> list[tuple[str, str]]:
    """The re-plan fan-out: one (carrier id, ISO day) per carrier-day to re-plan: every busy
    later day, and today's only where ``routing.today_needs_plan`` says (before the couriers'
    day begins, or with a visit off every route)."""
    return [(c, d.isoformat()) for c, d in routing.carrier_days_to_plan(app.services)]


def plan_carrier_day(app: App, carrier_id: str, day: str) -> dict[str, int]:
    """Re-plan one carrier-day. Days of different carriers share no route, so these jobs run
    on several workers at once; one day's job is serialised by its queue lock."""
    params = SolveParams(
        seed=0,
        time_limit_s=app.settings.replan_time_limit_s,
        max_iterations=app.settings.replan_max_iterations,
        duration_weight=app.settings.plan_duration_weight,
    )
    try:
        report = routing.plan_day(
            app.services,
            carrier_id,
            date.fromisoformat(day),
            params,
            app.settings.plan_duration_weight_ahead,
        )
    except Contention:
        # Bookings kept moving this day's routes during the solve: the next fan-out plans it.
        return {"plans": 0, "gave_way": 1}
    return {
        "plans": 1,
        "unserved": len(report.unserved),
        "gave_way": 0,
        "distance_m": report.distance_m,
    }


def retry_refunds(app: App) -> dict[str, int]:
    """Pay again, under the same key, the refunds the provider left pending."""
    return {"refunds_retried": len(refunds.retry_pending_refunds(app.services))}


def push_overdue_refunds(app: App) -> dict[str, int]:
    """Refunds past their due time: pay what can be paid, escalate the rest once."""
    overdue = refund_timing.push_overdue_refunds(app.services)
    return {
        "refunds_overdue": overdue.overdue,
        "overdue_paid": overdue.paid,
        "overdue_escalated": overdue.escalated,
    }


def dispatch_outbox(app: App) -> dict[str, int]:
    """Deliver stored events: buyer texts and e-mails, merchant webhooks (services/outbox)."""
    return {"outbox_delivered": outbox.dispatch_pending(app.services, app.services.clock.now())}


# Periodic work other than re-planning, in the order the in-process sweep runs it (refund
# retries before the overdue push: a retried refund is no longer overdue). Each becomes a
# periodic job of its own on the queue, deduplicated by a queueing lock named after it.
SWEEPS: dict[str, Sweep] = {
    # Express refunds whose start died after the pickup's commit, before the retries (a
    # started one left pending is paid in the same pass).
    "express_refunds": lambda app: {
        "express_refunds_started": refunds.start_owed_express_refunds(app.services)
    },
    "refund_retry": retry_refunds,
    # Exchange differences, customs tax, clawbacks, claim payouts: pending ones asked again.
    "transfer_retry": lambda app: {"transfers_settled": transfers.retry_pending(app.services)},
    "refund_overdue": push_overdue_refunds,
    "claims": lambda app: {"claims_moved": claims.sweep_claims(app.services)},  # issue 9 §3, §5
    "outbox_dispatch": dispatch_outbox,
    "carrier_poll": lambda app: {"carrier_orders_moved": poll_quiet_orders(app.services)},  # 8 §3
    "after_sales": lambda app: after_sales_jobs.sweep_after_sales(app.services),  # issue 9 §6-7
    "attempt_limits": lambda app: {
        "attempts_forgotten": identity.forget_expired_attempts(app.services)
    },
    # Departed buyers past the retention period lose their personal information.
    "retention": lambda app: {"buyers_erased": retention.erase_due_buyers(app.services)},
    "contactless_silence": lambda app: {  # issue 8 §8: silence confirms
        "contactless_confirmed": contactless.confirm_silent_contactless(
            app.services, app.services.clock.now()
        )
    },
}


def run_job(name: str, job: Callable[..., dict[str, int]], app: App, *args: str) -> dict[str, int]:
    """Run one job, timed into ``doorstep_job_seconds`` and logged; errors propagate (the
    caller decides: the in-process sweep goes on with the next job, the queue retries)."""
    started = time.perf_counter()
    outcome = "failed"
    try:
        result = job(app, *args)
        outcome = "gave_way" if result.get("gave_way") else "ok"
        return result
    finally:
        seconds = time.perf_counter() - started
        JOB_SECONDS.labels(name, outcome).observe(seconds)
        log.info("job_done", job=name, args=list(args), outcome=outcome, seconds=round(seconds, 3))
