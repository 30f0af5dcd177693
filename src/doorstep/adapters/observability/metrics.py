"""Prometheus instruments and the adapters that feed them from the ports.

Services never import this module: they report timings through the ``Telemetry`` port, and the
payment gateway and the slot offering are wrapped here (``CountedPayments``, ``TimedOffering``)
by bootstrap. Labels take values from small fixed sets only (route templates, status classes,
error codes), so the number of series does not grow with traffic.

With ``serve --workers N`` the CLI sets ``PROMETHEUS_MULTIPROC_DIR`` before this module is
first imported; prometheus-client then keeps every process's samples in files there and
``render`` sums them, whichever process answers the scrape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
)

from doorstep.adapters.observability.multiproc import MULTIPROC_ENV
from doorstep.domain.address import Address
from doorstep.domain.calendar import HolidayCalendar
from doorstep.domain.coverage import ServiceArea
from doorstep.domain.errors import DomainError
from doorstep.domain.pickup import BookingRules
from doorstep.services.offering import OfferedSlot, SlotOffering
from doorstep.services.ports import PaymentGateway, PaymentResult, UnitOfWork

# The *_created series (a timestamp per series) double the output and no query here uses them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUEST_SECONDS = Histogram(
    "doorstep_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BOOKINGS = Counter(
    "doorstep_bookings",
    "Pickup bookings asked for: outcome is 'booked' or the code of the refusal.",
    ["outcome"],
)
REFUNDS = Counter(
    "doorstep_refunds",
    "Money asked of the payment provider: refunds and claim compensations 'paid' or "
    "'failed', clawbacks 'clawed_back' or 'clawback_failed'.",
    ["outcome"],
)
SLOT_OFFER_SECONDS = Histogram(
    "doorstep_slot_offer_seconds",
    "Time to work out the pickup windows offered for one return.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PLANNER_RUN_SECONDS = Histogram(
    "doorstep_planner_run_seconds",
    "Time the route planner took for one carrier-day (solve or re-plan).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
WORKER_SWEEP_SECONDS = Histogram(
    "doorstep_worker_sweep_seconds",
    "Time of one background sweep (re-plan every busy carrier-day, retry refunds).",
    ["outcome"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)

JOB_SECONDS = Histogram(
    "doorstep_job_seconds",
    "Run time of one background job (a carrier-day re-plan, a refund sweep, ...), by job and "
    "outcome: ok, gave_way (a re-plan that yielded to bookings) or failed.",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
)
# Read from the queue's table by a worker now and then; the newest reading counts, whichever
# worker process took it.
QUEUE_JOBS = Gauge(
    "doorstep_queue_jobs",
    "Jobs in the PostgreSQL queue by status (todo: waiting, doing: running).",
    ["status"],
    multiprocess_mode="mostrecent",
)
QUEUE_OLDEST_SECONDS = Gauge(
    "doorstep_queue_oldest_seconds",
    "Age of the oldest job by status since it was queued: how far behind the workers are.",
    ["status"],
    multiprocess_mode="mostrecent",
)

# Series that exist before their first event, so that rate() and alerts see a zero.
BOOKINGS.labels("booked")
for _outcome in ("paid", "failed", "clawed_back", "clawback_failed"):
    REFUNDS.labels(_outcome)
for _outcome in ("ok", "failed"):
    WORKER_SWEEP_SECONDS.labels(_outcome)

_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Decided once, as prometheus-client decided when it was imported: a variable set later (by
# serve, for the workers it is about to start) does not change how this process counts.
_MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: this process's samples, or with several
    processes the sum of all of theirs. Touches no database."""
    if _MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> WSGIServer:
    """Answer Prometheus on ``host:port`` from a daemon thread (the standalone worker has no
    web server of its own); ``shutdown()`` on the result stops it."""
    registry = REGISTRY
    if _MULTIPROCESS:  # ``worker --concurrency N``: the parent answers for its children
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server


@contextmanager
def counting_booking() -> Iterator[None]:
    """Count the booking done inside: booked, or refused with its error code."""
    try:
        yield
    except DomainError as exc:
        # Codes are constants in the code base; the pattern guards the label set anyway.
        BOOKINGS.labels(exc.code if _CODE.fullmatch(exc.code) else "other").inc()
        raise
    BOOKINGS.labels("booked").inc()


class PrometheusTelemetry:
    """The ``Telemetry`` port as Prometheus histograms."""

    def planner_run(self, seconds: float) -> None:
        PLANNER_RUN_SECONDS.observe(seconds)


class TimedOffering:
    """A ``SlotOffering`` that times the one it wraps (every offer: to buyers, and the
    alternatives named when a booking is refused)."""

    def __init__(self, inner: SlotOffering) -> None:
        self.inner = inner
        self.route_aware = inner.route_aware

    def offer(
        self,
        uow: UnitOfWork,
        calendar: HolidayCalendar,
        area: ServiceArea,
        address: Address,
        now: datetime,
        rules: BookingRules,
        wanted: datetime | None = None,
    ) -> list[OfferedSlot]:
        with SLOT_OFFER_SECONDS.time():
            if wanted is None:
                return self.inner.offer(uow, calendar, area, address, now, rules)
            return self.inner.offer(uow, calendar, area, address, now, rules, wanted)


class CountedPayments:
    """A ``PaymentGateway`` that counts what the one it wraps answered."""

    def __init__(self, inner: PaymentGateway) -> None:
        self.inner = inner

    def refund(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        try:
            result = self.inner.refund(idempotency_key, buyer_id, amount_fen, reference)
        except Exception:
            REFUNDS.labels("failed").inc()
            raise
        REFUNDS.labels("paid" if result.succeeded else "failed").inc()
        return result

    def clawback(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        try:
            result = self.inner.clawback(idempotency_key, buyer_id, amount_fen, reference)
        except Exception:
            REFUNDS.labels("clawback_failed").inc()
            raise
        REFUNDS.labels("clawed_back" if result.succeeded else "clawback_failed").inc()
        return result

    def collect(
        self, idempotency_key: str, buyer_id: str, amount_fen: int, reference: str
    ) -> PaymentResult:
        # Charges are not refunds: passed through uncounted.
        return self.inner.collect(idempotency_key, buyer_id, amount_fen, reference)
