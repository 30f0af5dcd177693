"""Background jobs: in-process on every backend, and through the PostgreSQL job queue."""

from __future__ import annotations

from datetime import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from tests.integration.test_routing import TOMORROW, returns_at, ring  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.entrypoints import jobs
from doorstep.entrypoints.worker import sweep
from doorstep.services import pickup, routing


def _book(app: App, n: int) -> list[str]:
    ids = returns_at(app, ring(n, 1.5))
    return [
        pickup.book_pickup(
            app.services, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(15))
        ).appointment_id
        for rid in ids
    ]


def _planned(app: App, appointment_ids: list[str]) -> int:
    return sum(
        1
        for a in appointment_ids
        if pickup.get_appointment(app.services, a).route_position is not None
    )


def test_a_failing_job_does_not_stop_the_others(
    wired: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    appts = _book(wired, 2)

    def broken(_app: App) -> dict[str, int]:
        raise RuntimeError("refund provider exploded")

    monkeypatch.setitem(jobs.SWEEPS, "refund_retry", broken)
    result = sweep(wired)
    assert result["failed"] == 1
    assert result["plans"] == 1 and _planned(wired, appts) == 2
    assert "refunds_overdue" in result  # the sweep after the broken one ran


def test_the_fan_out_is_one_job_per_busy_carrier_day(wired: App) -> None:
    _book(wired, 1)
    assert jobs.carrier_days(wired) == [("yto", TOMORROW.isoformat())]
    assert jobs.plan_carrier_day(wired, "yto", TOMORROW.isoformat())["plans"] == 1


# --- the PostgreSQL queue -------------------------------------------------------------------


@pytest.fixture
def queued(wired: App) -> App:
    from doorstep.entrypoints.queue import ensure_schema, is_postgres

    if not is_postgres(wired.settings.database_url):
        pytest.skip("the job queue runs on PostgreSQL only (SQLite runs jobs in-process)")
    assert ensure_schema(wired.settings.database_url) is True
    assert ensure_schema(wired.settings.database_url) is False  # found, not created twice
    return wired


def _jobs(app: App) -> list[tuple[str, str, int]]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT task_name, status::text, attempts FROM procrastinate_jobs ORDER BY id")
        )
        return [(r[0], r[1], r[2]) for r in rows]


def _drain(app: App) -> None:
    from doorstep.entrypoints.queue import run_one

    run_one(app.settings, 60, app=app, wait=False, periodic=False)


def test_fan_out_queues_each_day_once_and_workers_plan_them(queued: App) -> None:
    from doorstep.entrypoints.queue import build_queue

    appts = _book(queued, 3)
    queue = build_queue(queued.settings.database_url, queued.settings, 60, periodic=False)
    with queue.open():
        queue.tasks["replan_fan_out"].defer(timestamp=0)
    _drain(queued)
    with queue.open():
        # Two fan-outs before any worker plans: the day is queued once (queueing lock).
        queue.tasks["replan_fan_out"].defer(timestamp=1)
    _drain(queued)
    assert _planned(queued, appts) == 3
    done = _jobs(queued)
    assert [t for t, s, _ in done if s != "succeeded"] == []
    assert [t for t, _, _ in done].count(jobs.PLAN_JOB) == 2
    assert routing.check_routes(queued.services, "yto", TOMORROW) == []


def test_a_periodic_sweep_is_queued_once_until_it_runs(queued: App) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    from doorstep.entrypoints.queue import build_queue

    queue = build_queue(queued.settings.database_url, queued.settings, 60, periodic=False)
    with queue.open():
        queue.tasks["refund_retry"].defer(timestamp=0)
        with pytest.raises(AlreadyEnqueued):
            queue.tasks["refund_retry"].defer(timestamp=1)
    _drain(queued)
    assert _jobs(queued) == [("refund_retry", "succeeded", 1)]


def test_a_job_of_a_dead_worker_is_queued_again_and_runs_once(queued: App) -> None:
    """The dead worker's job runs again; the copy a later tick queued meanwhile is withdrawn
    (found by the topology test: the retry broke the copy's queueing lock)."""
    from doorstep.entrypoints.queue import build_queue

    appts = _book(queued, 2)
    queue = build_queue(queued.settings.database_url, queued.settings, 60, periodic=False)
    with queue.open():
        queue.tasks[jobs.PLAN_JOB].configure(lock="plan:yto", queueing_lock="plan:yto").defer(
            carrier_id="yto", day=TOMORROW.isoformat()
        )
    # What a SIGKILLed worker leaves: its job 'doing', its heartbeat row pruned.
    with queued.engine.begin() as conn:
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL"))
    with queue.open():  # the next fan-out queues the same day again, held by its lock
        queue.tasks[jobs.PLAN_JOB].configure(lock="plan:yto", queueing_lock="plan:yto").defer(
            carrier_id="yto", day=TOMORROW.isoformat()
        )
    _drain(queued)
    assert _jobs(queued) == [(jobs.PLAN_JOB, "doing", 0), (jobs.PLAN_JOB, "todo", 0)]
    with queue.open():
        queue.tasks["queue_watch"].defer(timestamp=0)
    _drain(queued)
    assert _planned(queued, appts) == 2
    # The watch read the queue after putting the job back: it waiting, the watch running.
    depth = {
        status: REGISTRY.get_sample_value("doorstep_queue_jobs", {"status": status})
        for status in ("todo", "doing")
    }
    assert depth == {"todo": 1.0, "doing": 1.0}
    assert sorted(_jobs(queued)) == [
        (jobs.PLAN_JOB, "succeeded", 2),  # started again after the requeue
        ("queue_watch", "succeeded", 1),
    ]
    assert routing.check_routes(queued.services, "yto", TOMORROW) == []


def test_every_lock_wait_is_bounded(wired: App) -> None:
    """PostgreSQL's lock_timeout is set on every pooled connection (a wait beyond it is a
    409, never a hang); SQLite's busy timeout bounds waits for its one write lock."""
    with wired.engine.connect() as conn:
        if wired.engine.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "1min"
        else:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000
