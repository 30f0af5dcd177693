"""The tally of refund waits (domain/refund_lead_time.py), kept in the transaction that pays
each refund: refunds paid at once, and the provider's answers repeated, each counted once, on
SQLite and PostgreSQL; what the migration backfills equals what the live path counted; the
lead-time figure and the dashboard's chart read it."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.refund_waits_check import (  # type: ignore[import-not-found]
    paid_waits,
    refund_wait_violations,
)
from tests.integration.test_migration_transfers import _alembic  # type: ignore[import-not-found]
from tests.integration.test_races import _claim, _orders  # type: ignore[import-not-found]
from tests.integration.test_refund_money import _received  # type: ignore[import-not-found]

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App
from doorstep.domain.clock import local
from doorstep.domain.refund_lead_time import REQUEST
from doorstep.domain.returns import Grade, ReturnKind, ReturnStatus
from doorstep.entrypoints.web import trends
from doorstep.services import refund_timing, refunds, returns, warehouse

BEFORE = "6e2f0b9c4d17"
WH = "wh-sh-bonded"


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _tally(app: App) -> dict[tuple[str, str, str, int], int]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT day, kind, measure, bucket, SUM(n) FROM refund_waits"
                " GROUP BY day, kind, measure, bucket"
            )
        )
        return {(str(d), k, m, int(b)): int(n) for d, k, m, b, n in rows}


def _pending_refunds(app: App, payments: RecordingPayments, n: int) -> list[str]:
    """``n`` small refund-only requests, approved at once, whose payment timed out."""
    payments.fail_next = n
    pending = [_claim(app, o, ReturnKind.REFUND_ONLY) for o in _orders(app, n, signed=False)]
    assert all(r.status is ReturnStatus.APPROVED for r in pending)
    ids = [returns.get_return(app.services, r.return_id).refund_id for r in pending]
    assert all(ids)
    return [str(i) for i in ids]


def test_refunds_paid_at_once_and_answers_repeated_are_each_counted_once(
    wired: App, payments: RecordingPayments, clock: FixedClock
) -> None:
    first = _pending_refunds(wired, payments, RACERS)
    clock.advance(hours=3, minutes=2)
    # Every refund paid twice at once (the provider's answer retried), and the worker's
    # sweeps alongside: 2 x 24 + 4 units of work.
    svc = wired.services
    calls: list[Any] = [lambda r=rid: refunds.pay_refund(svc, r) for rid in first * 2]
    calls += [lambda: refunds.retry_pending_refunds(svc)] * 4
    out = race(calls)
    assert len(payments.paid) == RACERS, out.codes
    # A second batch, paid the next day after another wait: other days, other buckets.
    second = _pending_refunds(wired, payments, RACERS)
    clock.advance(days=1, minutes=47)
    race([lambda r=rid: refunds.pay_refund(svc, r) for rid in second] * 2)
    assert len(payments.paid) == 2 * RACERS
    assert violations(wired, payments) == []

    with wired.engine.connect() as conn:
        assert refund_wait_violations(conn) == []
        paid = conn.execute(
            text("SELECT COUNT(*) FROM refunds WHERE status = 'succeeded'")
        ).scalar_one()
        expected = paid_waits(conn)
    tally = _tally(wired)
    assert sum(n for (_, _, m, _), n in tally.items() if m == REQUEST) == paid
    today = local(clock.now()).date()
    ours = {k: n for k, n in expected.items() if k[0] >= today - timedelta(days=1)}
    assert {(k[0], k[3]) for k in ours} == {
        (today - timedelta(days=1), 30),  # 3 h 2 min: 3.0 h
        (today, 248),  # 24 h 49 min: 24.8 h
    }
    assert sorted(ours.values()) == [RACERS, RACERS]
    # The figure reads the tally: per day exactly the refunds paid that day.
    lead = refund_timing.lead_times(svc, days=366)
    per_day: Counter[date] = Counter()
    for (day, _, measure, _), n in expected.items():
        if measure == REQUEST and day > today - timedelta(days=366):
            per_day[day] += n
    assert {d.day: d.request_to_money.count for d in lead.days} == dict(per_day)
    assert lead.days[-1].request_to_money.p50_h == 24.8 and lead.bucket_h == 0.1
    chart = trends.refund_lead_hours(svc)
    assert chart["standard"][24.8] == RACERS and chart["standard"][3.0] == RACERS


def test_the_migration_counts_the_refunds_paid_as_the_live_path_does(
    wired: App, database_url: str, payments: RecordingPayments, clock: FixedClock
) -> None:
    svc = wired.services
    for rid in _pending_refunds(wired, payments, 3):
        clock.advance(minutes=77)
        refunds.pay_refund(svc, rid)
    # Picked up, received and graded: both waits counted.
    for hour in (10, 12):
        rid = _received(wired, hour=hour)
        clock.advance(hours=2, minutes=13)
        assert warehouse.grade(svc, WH, rid, Grade.A, "").status is ReturnStatus.REFUNDED
    live = _tally(wired)
    assert Counter(m for _, _, m, _ in live) >= Counter({"request": 2, "pickup": 1})
    wired.engine.dispose()
    cfg = _alembic(database_url)
    command.downgrade(cfg, BEFORE)
    command.upgrade(cfg, "head")
    assert _tally(wired) == live
    with wired.engine.connect() as conn:
        assert refund_wait_violations(conn) == []
